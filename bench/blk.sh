#!/usr/bin/env bash
# virtio-blk: picovm against qemu-system-x86_64 -M microvm with
# virtio-blk-device and aio=io_uring, same guest (guest/build/testpvh.elf,
# picotest=blk-bench), same image, same run.  Prints IOPS, MiB/s, the host
# CPU each VMM used per request, and picovm's exits to user space.
#   bash bench/blk.sh [OPS]
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/bench/build
. "$TOP/bench/lib.sh"
OPS=${1:-200000}
need_qemu
QCPU=$(qemu_cpu "$TOP/guest/build/exit.elf") || exit 1
mkdir -p "$B"
cc -O2 -o "$B/tsc" "$TOP/bench/tsc.c"
HZ=$("$B/tsc")
IMG=$B/blk-bench.img
GUEST=$TOP/guest/build/testpvh.elf
[ -f "$IMG" ] || dd if=/dev/urandom of="$IMG" bs=1M count=512 status=none
cat "$IMG" >/dev/null	# both VMMs read from the page cache
printf 'kernel = %s\nmemory = 256M\ndisk.0.path = %s\n' "$GUEST" "$IMG" >"$B/blk.conf"

# run VMM MODE QD N -> "tsc cpu_ms exits"
run() {
	local vmm=$1 mode=$2 qd=$3 n=$4 out=$B/blk-run.out
	local cmd="picotest=blk-bench:$mode:$qd:$n"
	if [ "$vmm" = picovm ]; then
		PICOVM_STATS=1 timeout -k 5 300 /usr/bin/time -f 'cpu %U %S' -o "$B/time" \
			"$TOP/picovm" run "$B/blk.conf" "cmdline=$cmd" >"$out" 2>"$out.err" || true
	else
		timeout -k 5 300 /usr/bin/time -f 'cpu %U %S' -o "$B/time" qemu-system-x86_64 \
			-M microvm,acpi=off -accel kvm -cpu "$QCPU" -m 256M -smp 1 \
			-nodefaults -no-user-config -display none -serial stdio \
			-monitor none -global virtio-mmio.force-legacy=false \
			-drive id=d0,file="$IMG",format=raw,if=none,aio=io_uring \
			-device virtio-blk-device,drive=d0 \
			-device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$GUEST" -append "$cmd" >"$out" 2>"$out.err" || true
	fi
	local tsc cpu exits
	tsc=$(sed -n 's/^bench: .*tsc=\([0-9]*\) .*/\1/p' "$out")
	number "$tsc" "$vmm $mode: the guest reported no result ($(tail -c 300 "$out" "$out.err" | tr '\n' ' '))"
	cpu=$(awk '/^cpu/ {printf "%.0f", ($2 + $3) * 1000}' "$B/time")
	number "$cpu" "$vmm $mode: CPU time"
	exits=$(sed -n 's/.*exits to user space: io=\([0-9]*\) mmio=\([0-9]*\).*/\1 \2/p' "$out.err")
	echo "$tsc $cpu ${exits:-- -}"
}

printf '%-8s %-14s %10s %10s %14s %18s\n' vmm workload IOPS MiB/s "CPU us/req" "exits/req(io+mmio)"
for w in "randread4k 32 4096" "seqread128k 8 131072" "seqwrite128k 8 131072"; do
	set -- $w
	mode=$1 qd=$2 size=$3
	n=$OPS
	[ "$size" -gt 4096 ] && n=$((OPS / 8))
	small=$((n / 10))
	for vmm in picovm qemu; do
		# run exits on a missing figure; a command substitution would
		# swallow that exit, so the results go through files.
		run $vmm "$mode" "$qd" "$n" >"$B/r1" || exit 1
		run $vmm "$mode" "$qd" "$small" >"$B/r0" || exit 1
		read -r t1 c1 io1 mm1 <"$B/r1"
		read -r t0 c0 io0 mm0 <"$B/r0"
		# The difference of two runs cancels boot and set-up.
		awk -v t="$t1" -v hz="$HZ" -v n="$n" -v s="$size" -v c1="$c1" -v c0="$c0" \
			-v d="$((n - small))" -v io="$io1" -v mm="$mm1" -v io0="$io0" -v mm0="$mm0" \
			'BEGIN { secs = t / hz;
			  ex = (io == "-") ? "n/a" : sprintf("%.4f", (io + mm - io0 - mm0) / d);
			  printf "%.0f %.1f %.2f %s\n", n / secs, n * s / secs / 1048576,
				(c1 - c0) * 1000 / d, ex }' >"$B/r2"
		read -r iops mibs cpu ex <"$B/r2"
		printf '%-8s %-14s %10s %10s %14s %18s\n' $vmm "$mode qd$qd" "$iops" "$mibs" "$cpu" "$ex"
		[ $vmm = qemu ] && sys="QEMU microvm" || sys=picovm
		result blk "$mode qd$qd" "$sys" "$iops" IOPS
		result blk "$mode qd$qd" "$sys" "$mibs" MiB/s
		result blk "$mode qd$qd" "$sys" "$cpu" "us/request"
	done
done
echo "(IOPS and MiB/s from the guest's TSC count, host TSC at $HZ Hz; CPU from"
echo " wait4 rusage of the VMM process, the difference of an $OPS- and a"
echo " tenth-size run; exits: picovm's count of KVM exits to user space per"
echo " request, also from the difference, so boot-time exits cancel out.)"
