#!/usr/bin/env bash
# picovm benchmarks.  Each prints figures, side by side with QEMU microvm in
# the same run; none asserts a time.
#   bash bench/run.sh [RUNS]        (default 21 runs per figure)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-21}
B=$TOP/bench/build
. "$TOP/bench/lib.sh"
mkdir -p "$B"
cc -O2 -Wall -Werror -o "$B/exec2exit" "$TOP/bench/exec2exit.c"
cc -O2 -Wall -Werror -static -o "$B/floor" "$TOP/bench/floor.c"
EXIT_ELF=$TOP/guest/build/exit.elf
[ -x "$TOP/picovm" ] && [ -f "$EXIT_ELF" ] || { echo "run 'make picovm guests' first" >&2; exit 1; }
printf 'kernel = %s\nmemory = 64M\nserial = none\n' "$EXIT_ELF" >"$B/exit.conf"

echo "== exec to exit, smallest guest (enter, write the exit port), $RUNS runs, medians"
echo "   guest: guest/build/exit.elf (PVH ELF; writes QEMU's isa-debug-exit 0xf4, then picovm's 0x510)"
"$B/exec2exit" "floor (no irqchip)" "$RUNS" 0 -- "$B/floor" | tee "$B/floor.txt"
"$B/exec2exit" "floor (irqchip + PIT)" "$RUNS" 0 -- "$B/floor" irqchip | tee "$B/floor-irq.txt"
"$B/exec2exit" "picovm" "$RUNS" 0 -- "$TOP/picovm" run "$B/exit.conf" | tee "$B/picovm.txt"
"$B/exec2exit" "picovm (sandbox = off)" "$RUNS" 0 -- "$TOP/picovm" run "$B/exit.conf" sandbox=off | tee "$B/picovm-nosandbox.txt"
need_qemu
QCPU=$(qemu_cpu "$EXIT_ELF") || exit 1
echo "   qemu: -cpu $QCPU (the first of host, host,-arch-capabilities, max that runs a guest here)"
# isa-debug-exit turns the guest's 0 into exit status (0 << 1) | 1 = 1.
"$B/exec2exit" "qemu -M microvm" "$RUNS" 1 -- qemu-system-x86_64 \
	-M microvm -accel kvm -cpu "$QCPU" -m 64M -smp 1 -nodefaults \
	-no-user-config -display none -serial none -monitor none \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$EXIT_ELF" |
	tee "$B/qemu.txt"
wall() { sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' "$1" | head -1; }
pv=$(wall "$B/picovm.txt"); qm=$(wall "$B/qemu.txt")
number "$pv" "picovm exec to exit"
number "$qm" "qemu exec to exit"
awk -v p="$pv" -v q="$qm" 'BEGIN { printf "ratio: qemu microvm / picovm wall time = %.1fx\n", q / p }'

echo "== exec to the guest's first instruction (picovm's boot-timer port, written first by exit.elf), $RUNS runs"
for sb in on off; do
	: >"$B/boottime.txt"
	for _ in $(seq "$RUNS"); do
		"$TOP/picovm" run "$B/exit.conf" sandbox=$sb 2>&1 >/dev/null |
			sed -n 's/.*boot-timer: \([0-9.]*\) ms.*/\1/p' >>"$B/boottime.txt"
	done
	[ -s "$B/boottime.txt" ] || die "picovm (sandbox = $sb) logged no boot-timer figure"
	sort -n "$B/boottime.txt" | awk -v sb=$sb '{ v[NR] = $1 } END { printf "picovm (sandbox = %s) exec -> first guest port write: median %.3f ms (min %.3f, max %.3f)\n", sb, v[int((NR + 1) / 2)], v[1], v[NR] }'
done

echo
echo "== seccomp filters per thread role (seccomp/filters.c)"
cc -std=c11 -D_GNU_SOURCE -O2 -o "$B/sandbox_table" "$TOP/bench/sandbox_table.c" \
	"$TOP/seccomp/filters.c" "$TOP/vm/log.c" -lseccomp
"$B/sandbox_table"

echo
echo "== virtio-blk against QEMU microvm (bench/blk.sh)"
bash "$TOP/bench/blk.sh"
