#!/usr/bin/env bash
# virtio-net: picovm against qemu-system-x86_64 -M microvm with
# virtio-net-device on a tap (vhost=off, and vhost=on where /dev/vhost-net
# exists), same guest (guest/build/testpvh.elf, picotest=net-bench), same
# run, all inside a network namespace made here and deleted afterwards.
# Prints frames/s and Gbit/s both ways, round-trip latency, and the host CPU
# each VMM used.
#   bash bench/net.sh
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/bench/build
. "$TOP/bench/lib.sh"
need_qemu
QCPU=$(qemu_cpu "$TOP/guest/build/exit.elf")
mkdir -p "$B"
cc -O2 -o "$B/tsc" "$TOP/bench/tsc.c"
make -s -C "$TOP/tests" tools >/dev/null
HZ=$("$B/tsc")
PVNET=$TOP/tests/build/pvnet
GUEST=$TOP/guest/build/testpvh.elf
NS=pv-bench-$$
MAC=02:00:00:00:be:01
TAP=pvb0
cleanup() { ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$NS"
nx() { ip netns exec "$NS" "$@"; }
nx ip link set lo up
nx ip tuntap add dev $TAP mode tap vnet_hdr
nx ip link set $TAP up
printf 'kernel = %s\nmemory = 128M\nnet.0.tap = %s\nnet.0.mac = %s\n' "$GUEST" $TAP $MAC >"$B/net.conf"

VMMS="picovm qemu-vhost-off"
[ -e /dev/vhost-net ] && VMMS="$VMMS qemu-vhost-on"

# vm VMM CMDLINE: starts the VMM in the namespace in the background
vm() {
	local vmm=$1 cmd=$2
	case $vmm in
	picovm)
		nx timeout -k 5 120 /usr/bin/time -f 'cpu %U %S' -o "$B/time" "$TOP/picovm" run "$B/net.conf" \
			"cmdline=$cmd" >"$B/net.out" 2>"$B/net.err" </dev/null & ;;
	qemu-vhost-*)
		nx timeout -k 5 120 /usr/bin/time -f 'cpu %U %S' -o "$B/time" qemu-system-x86_64 \
			-M microvm,acpi=off -accel kvm -cpu "$QCPU" -m 128M -smp 1 \
			-nodefaults -no-user-config -display none -serial stdio -monitor none \
			-global virtio-mmio.force-legacy=false \
			-netdev tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=${vmm#qemu-vhost-} \
			-device virtio-net-device,netdev=n0,mac=$MAC \
			-device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$GUEST" -append "$cmd" >"$B/net.out" 2>"$B/net.err" </dev/null & ;;
	esac
	VM=$!
}
waitfor() { for _ in $(seq 200); do grep -q "$1" "$B/net.out" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
cpu_ms() { awk '/^cpu/ {printf "%.0f", ($2 + $3) * 1000}' "$B/time"; }
# rate FRAMES BYTES TSC -> "frames/s Gbit/s"
rate() { awk -v f="$1" -v b="$2" -v t="$3" -v hz="$HZ" 'BEGIN { s = t / hz; printf "%.0f %.3f", f / s, b * 8 / s / 1e9 }'; }
# The system's name in the results table.
sysname() { case $1 in picovm) echo picovm ;; *) echo "QEMU microvm (${1#qemu-})" ;; esac; }
bench_line() { sed -n 's/^bench: frames=\([0-9]*\) bytes=\([0-9]*\) tsc=\([0-9]*\).*/\1 \2 \3/p' "$B/net.out"; }

printf '%-16s %-22s %12s %9s %12s\n' vmm test frames/s Gbit/s "CPU ms"
for vmm in $VMMS; do
	for size in 60 1514; do
		n=$((size == 60 ? 300000 : 200000))
		vm $vmm "picotest=net-bench:tx:$size:$n"
		wait $VM
		read -r f b t <<<"$(bench_line)"
		number "${t:-}" "$vmm tx $size: no result ($(tail -c 300 "$B/net.out" "$B/net.err" | tr '\n' ' '))"
		read -r fps gbps <<<"$(rate "$f" "$b" "$t")"
		printf '%-16s %-22s %12s %9s %12s\n' $vmm "guest->host $size B" "$fps" "$gbps" "$(cpu_ms)"
		result net "guest->host $size B" "$(sysname $vmm)" "$fps" frames/s
		result net "guest->host $size B" "$(sysname $vmm)" "$gbps" Gbit/s
	done
	for size in 60 1514; do
		vm $vmm "picotest=net-bench:rx:0"
		waitfor "rx ready" || { kill $VM; die "$vmm rx: the guest never got ready"; }
		nx "$PVNET" flood $TAP $MAC $size bench 3 >/dev/null
		nx "$PVNET" send $TAP $MAC 64 picotest-stop 3 >/dev/null
		wait $VM
		read -r f b t <<<"$(bench_line)"
		number "${t:-}" "$vmm rx $size: no result ($(tail -c 300 "$B/net.out" "$B/net.err" | tr '\n' ' '))"
		read -r fps gbps <<<"$(rate "$f" "$b" "$t")"
		printf '%-16s %-22s %12s %9s %12s\n' $vmm "host->guest $size B" "$fps" "$gbps" "$(cpu_ms)"
		result net "host->guest $size B" "$(sysname $vmm)" "$fps" frames/s
		result net "host->guest $size B" "$(sysname $vmm)" "$gbps" Gbit/s
	done
	vm $vmm "picotest=net-bench:pingpong"
	if waitfor "pingpong ready"; then
		pp=$(nx "$PVNET" pingpong $TAP $MAC 64 5000) || die "$vmm pingpong failed"
		nx "$PVNET" send $TAP $MAC 64 picotest-stop 3 >/dev/null
		wait $VM
		[ -n "${pp#pingpong: }" ] || die "$vmm pingpong: no figure"
		printf '%-16s %-22s %s\n' $vmm "round trip 64 B (us)" "${pp#pingpong: }"
	else
		kill $VM
		die "$vmm pingpong: the guest never got ready"
	fi
done
[ -e /dev/vhost-net ] || echo "qemu vhost=on: not measured, this host has no /dev/vhost-net (no vhost_net module)"
echo "(frames/s and Gbit/s from the guest's TSC count at $HZ Hz; CPU: the VMM process's"
echo " user + system time for the whole run, boot included; the rx runs flood for 3 s)"
