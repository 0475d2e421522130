#!/usr/bin/env bash
# A fleet on one host (issue 12): N tiny VMs from one config file, each with
# its own name, ephemeral disk overlay, control socket and (as root) tap,
# through command-line overrides:
#   picovm run tiny.conf name=fleet-I disk.0.ephemeral=on control=auto \
#       [net.0.tap=auto]
# The guest is the test guest's `idle` mode (writes the boot-timer port,
# then sleeps in hlt until the ACPI power button, and powers off).  Waits
# until `picovm ls` lists all N running and every guest said it is up,
# then stops them all through `picovm ctl NAME stop`.  Prints VMs started
# per second, picovm's own memory per VM (PSS without the guest RAM the
# guest touched) and in total.  Everything runs in a runtime folder and
# (as root) a network namespace of its own, removed at the end.
#   bash bench/fleet.sh [N [L]]    (defaults 20 and 10)
# Then the same N guests under QEMU microvm, in the same run: the same
# guest ELF (PVH entry), the same memory, a virtio-blk disk with
# snapshot=on (QEMU's ephemeral overlay) and (as root) a tap; QEMU has no
# equivalent of the guest's power button on microvm, so its VMs end by
# SIGTERM (QEMU's own clean exit).  Then L default Linux guests at once,
# under picovm and QEMU microvm (bench/fleet-linux.sh, which says how; L = 0
# leaves them out; they need `make linux`).
# A figure that cannot be measured stops the benchmark with an error.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
N=${1:-20}
L=${2:-10}
[[ $N =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 500 ] || die "N must be 1..500 (got '$N')"
[[ $L =~ ^(0|[1-9][0-9]*)$ ]] && [ "$L" -le 50 ] || die "L must be 0..50 (got '$L')"
PICOVM=$TOP/picovm
GUEST=$TOP/guest/build/testpvh.elf
[ -x "$PICOVM" ] && [ -f "$GUEST" ] || die "picovm or the test guest is not built (make picovm guests)"
[ -w /dev/kvm ] || die "no writable /dev/kvm"
if [ "$L" != 0 ]; then
	[ -f "$TOP/guest/linux/build/vmlinux" ] && [ -f "$TOP/guest/linux/build/initramfs.cpio" ] ||
		die "the Linux guests need 'make linux' (or L = 0)"
fi
B=$(mktemp -d "${TMPDIR:-/tmp}/picovm-fleet.XXXXXX")
export XDG_RUNTIME_DIR=$B/run
mkdir -p "$XDG_RUNTIME_DIR"
MEM_MIB=32
NS=
VMS=()
cleanup() {
	local p
	for p in "${VMS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

run=("$PICOVM" run)
net=()
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "pv-fleet-$$" 2>/dev/null; then
	NS=pv-fleet-$$
	run=(ip netns exec "$NS" "$PICOVM" run)
	net=(net.0.tap=auto)
else
	echo "fleet: not root (or no iproute2): VMs without a tap" >&2
fi
truncate -s 1M "$B/disk.img"
cat >"$B/tiny.conf" <<EOF
kernel = $GUEST
cmdline = picotest=idle
memory = ${MEM_MIB}M
vcpus = 1
disk.0.path = $B/disk.img
timeout = 10m
EOF

ms() { echo $(($(date +%s%N) / 1000000)); }
# up I: VM I's guest said it waits for the power button
up() { grep -qs '^idle: waiting for the power button$' "$B/fleet-$1.out"; }
all_up() { local i; for ((i = 1; i <= N; i++)); do up $i || return 1; done; }
listed() { [ "$("$PICOVM" ls 2>/dev/null | grep -c '^fleet-[0-9]* [0-9]* running ')" = "$N" ]; }
# up_or_failed: every guest up, or a VM already ended (vm_failed says)
any_ended() { local i; for ((i = 1; i <= N; i++)); do [ -s "$B/fleet-$i.status" ] && return 0; done; return 1; }
up_or_failed() { any_ended || all_up; }
# within SECS FUNCTION: polls it; false after SECS (a watchdog against
# hangs, not a measurement)
export -f up all_up listed any_ended up_or_failed
export N B PICOVM
within() { timeout "$1" bash -c "until $2; do sleep 0.05; done"; }
vm_failed() {
	local i
	for ((i = 1; i <= N; i++)); do
		[ -s "$B/fleet-$i.status" ] && die "VM fleet-$i ended early (status $(cat "$B/fleet-$i.status")): $(tail -c 300 "$B/fleet-$i.err")"
	done
	return 0
}

t0=$(ms)
for ((i = 1; i <= N; i++)); do
	( "${run[@]}" "$B/tiny.conf" name=fleet-$i disk.0.ephemeral=on control=auto \
		"${net[@]}" serial=file:"$B/fleet-$i.out" 2>"$B/fleet-$i.err" </dev/null
	  echo $? >"$B/fleet-$i.status" ) &
	VMS+=($!)
done
within 300 up_or_failed || die "not all $N guests came up within the 300 s watchdog"
t1=$(ms)
vm_failed
within 60 listed || die "picovm ls does not list $N running VMs: $("$PICOVM" ls 2>&1 | head -5)"

# picovm's memory: pss_split (bench/lib.sh) separates the guest RAM mapping.
pids=$(picovm_pids fleet "$N") || exit 1
read -r own guest < <(pss_total "$MEM_MIB" picovm $pids) || exit 1

t2=$(ms)
ctl_stop_all "$B" fleet "$N" 30
t3=$(ms)
[ -z "$("$PICOVM" ls 2>/dev/null)" ] || die "picovm ls still lists VMs after the stops"
if [ -n "$NS" ] && [ -n "$(ip netns exec "$NS" ls /sys/class/net | grep -v '^lo$')" ]; then
	die "taps left in the namespace after the stops"
fi

secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
rate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n * 1000 / (b - a) }')
number "$rate" "VMs started per second"
echo "fleet: $N VMs (test guest idle, ${MEM_MIB}M, 1 vCPU, ephemeral disk${NS:+, tap}, control socket)"
echo "fleet: all $N up (guests running, picovm ls lists them) in $secs s: $rate VMs started per second"
echo "fleet: picovm per VM: $((own / N)) KiB PSS without guest RAM, $((guest / N)) KiB guest RAM touched"
echo "fleet: all $N: $((own / 1024)) MiB picovm, $((guest / 1024)) MiB guest RAM touched"
echo "fleet: stopped through picovm ctl NAME stop (power button, status 0) in $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.3f", (b - a) / 1000 }') s"

# --- the same fleet under QEMU microvm -------------------------------------------
need_qemu
QCPU=$(qemu_cpu "$TOP/guest/build/exit.elf") || exit 1
qrun=(qemu-system-x86_64)
qnet=()
[ -n "$NS" ] && qrun=(ip netns exec "$NS" qemu-system-x86_64)
QVMS=()
qup() { grep -qs '^idle: waiting for the power button$' "$B/q-$1.out"; }
qall_up() { local i; for ((i = 1; i <= N; i++)); do qup $i || return 1; done; }
qany_ended() { local i; for ((i = 1; i <= N; i++)); do [ -s "$B/q-$i.status" ] && return 0; done; return 1; }
qup_or_failed() { qany_ended || qall_up; }
export -f qup qall_up qany_ended qup_or_failed
t0=$(ms)
for ((i = 1; i <= N; i++)); do
	[ -n "$NS" ] && qnet=(-netdev "tap,id=n0,ifname=qf$i,script=no,downscript=no" -device virtio-net-device,netdev=n0)
	( "${qrun[@]}" -M microvm -accel kvm -cpu "$QCPU" -m ${MEM_MIB}M -smp 1 -nodefaults \
		-no-user-config -display none -monitor none -serial file:"$B/q-$i.out" \
		-pidfile "$B/q-$i.pid" \
		-drive file="$B/disk.img",format=raw,if=none,id=d0,snapshot=on \
		-device virtio-blk-device,drive=d0 "${qnet[@]}" \
		-kernel "$GUEST" -append picotest=idle 2>"$B/q-$i.err" </dev/null
	  echo $? >"$B/q-$i.status" ) &
	VMS+=($!)
done
within 300 qup_or_failed || die "not all $N QEMU guests came up within the 300 s watchdog"
t1=$(ms)
for ((i = 1; i <= N; i++)); do
	[ ! -s "$B/q-$i.status" ] || die "QEMU VM $i ended early: $(tail -c 300 "$B/q-$i.err")"
	p=$(cat "$B/q-$i.pid" 2>/dev/null)
	[[ $p =~ ^[0-9]+$ ]] || die "QEMU VM $i: no pid file"
	QVMS+=("$p")
	VMS+=("$p")
done
read -r qown qguest < <(pss_total "$MEM_MIB" QEMU "${QVMS[@]}") || exit 1
t2=$(ms)
kill -TERM "${QVMS[@]}"
for p in "${QVMS[@]}"; do
	while kill -0 "$p" 2>/dev/null; do sleep 0.01; done
done
t3=$(ms)
qrate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n * 1000 / (b - a) }')
number "$qrate" "QEMU VMs started per second"
echo "qemu:  $N VMs (-M microvm -cpu $QCPU, same guest, ${MEM_MIB}M, virtio-blk snapshot=on${NS:+, tap})"
echo "qemu:  all $N up in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }') s: $qrate VMs started per second"
echo "qemu:  per VM: $((qown / N)) KiB PSS without guest RAM, $((qguest / N)) KiB guest RAM touched"
echo "qemu:  all $N: $((qown / 1024)) MiB QEMU, $((qguest / 1024)) MiB guest RAM touched"
echo "qemu:  stopped by SIGTERM in $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.3f", (b - a) / 1000 }') s"
awk -v p="$rate" -v q="$qrate" 'BEGIN { printf "ratio: picovm / qemu VMs started per second = %.1fx\n", p / q }'
awk -v p="$own" -v q="$qown" 'BEGIN { printf "ratio: qemu / picovm memory per VM (without guest RAM) = %.1fx\n", q / p }'

# --- L default Linux guests ---------------------------------------------------------
if [ "$L" = 0 ]; then
	echo "linux fleet: left out (L = 0)"
else
	bash "$TOP/bench/fleet-linux.sh" "$L" || exit 1
fi
