#!/usr/bin/env bash
# picovm benchmarks, side by side with QEMU microvm and the floor (a bare
# static KVM program, bench/floor.c) in the same run; none asserts a time.
# Writes bench/results/results.md (one table) and bench/results/*.png.
#   bash bench/run.sh [RUNS]        (default 21 runs per start-up figure)
#   BENCH_ONLY=startup bash bench/run.sh   (start-up, VMs/s and memory only)
#   BENCH_RATE_COUNT=N: VMs started per VMs-per-second figure (default 100,
#   QEMU a fifth of it; even)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-21}
B=$TOP/bench/build
OUTDIR=$TOP/bench/results
. "$TOP/bench/lib.sh"
need_qemu
need_gnuplot
mkdir -p "$B"
RESULTS=$B/results.tsv
export RESULTS
: >"$RESULTS"
rm -f "$B"/samples-*.txt
EXIT_ELF=$TOP/guest/build/exit.elf
# The floor is built like picovm, with the kernel headers picovm's build
# links into .musl-include.
[ -x "$TOP/picovm" ] && [ -f "$EXIT_ELF" ] && [ -d "$TOP/.musl-include" ] ||
	die "run 'make picovm guests' first"
cc -O2 -Wall -Werror -o "$B/exec2exit" "$TOP/bench/exec2exit.c"
cc -O2 -Wall -Werror -o "$B/exec2line" "$TOP/bench/exec2line.c"
cc -O2 -Wall -Werror -o "$B/rate" "$TOP/bench/rate.c"
musl-gcc -isystem "$TOP/.musl-include" -O2 -Wall -Werror -static -o "$B/floor" "$TOP/bench/floor.c"
printf 'kernel = %s\nmemory = 64M\nserial = none\n' "$EXIT_ELF" >"$B/exit.conf"
QCPU=$(qemu_cpu "$EXIT_ELF")
# isa-debug-exit turns the guest's 0 into exit status (0 << 1) | 1 = 1.
QEMU=(qemu-system-x86_64 -M microvm -accel kvm -cpu "$QCPU" -m 64M -smp 1
	-nodefaults -no-user-config -display none -serial none -monitor none
	-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$EXIT_ELF")

# Each system: a label, the exit status its guest run ends with, a command.
SYS_LABELS=("floor" "floor (irqchip + PIT)" "picovm" "picovm (sandbox = off)" "QEMU microvm")
SYS_FILES=(floor floor-irq picovm picovm-nosandbox qemu)
SYS_STATUS=(0 0 0 0 1)
sys_cmd() {
	case $1 in
	0) CMD=("$B/floor") ;;
	1) CMD=("$B/floor" irqchip) ;;
	2) CMD=("$TOP/picovm" run "$B/exit.conf") ;;
	3) CMD=("$TOP/picovm" run "$B/exit.conf" sandbox=off) ;;
	4) CMD=("${QEMU[@]}") ;;
	esac
}
# field NAME LINE: the value of NAME=... in an exec2exit or rate line.
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

echo "== exec to exit, smallest guest (enter, write the exit port), $RUNS runs, medians"
echo "   guest: guest/build/exit.elf (PVH ELF; writes picovm's boot-timer 0x511, QEMU's isa-debug-exit 0xf4, picovm's exit 0x510)"
echo "   qemu: -cpu $QCPU (the first of host, host,-arch-capabilities, max that runs a guest here)"
for i in "${!SYS_LABELS[@]}"; do
	sys_cmd "$i"
	line=$(EXEC2EXIT_SAMPLES=$B/samples-${SYS_FILES[$i]}.txt \
		"$B/exec2exit" "${SYS_LABELS[$i]}" "$RUNS" "${SYS_STATUS[$i]}" -- "${CMD[@]}") ||
		die "${SYS_LABELS[$i]}: exec to exit could not be measured"
	echo "$line"
	result startup "exec to exit (median)" "${SYS_LABELS[$i]}" "$(field wall_ms "$line")" ms
	result startup "exec to exit, CPU (median)" "${SYS_LABELS[$i]}" "$(field cpu_ms "$line")" ms
	rss=$(field maxrss_kib "$line")
	number "$rss" "${SYS_LABELS[$i]}: peak RSS"
	result memory "peak RSS of the monitor" "${SYS_LABELS[$i]}" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
done

echo "== exec to exit with one feature on, beside the plain row ($RUNS runs each, interleaved, medians)"
# Target (issue 13): none adds more than 0.5 ms.  Every row runs in a
# network namespace of this script's own (net.0.tap = auto creates a tap
# there, which needs root); the plain row too, so that all are alike.
[ "$(id -u)" = 0 ] || die "exec to exit with net.0.tap = auto needs root (a network namespace and a tap): cannot be measured"
command -v ip >/dev/null || die "ip (iproute2) is not installed: exec to exit with net.0.tap = auto cannot be measured"
FEAT_LABELS=("plain" "disk" "console" "timeout" "tap = auto")
FEAT_ARGS=("" "disk.0.path=$B/feature-disk.img" "serial=stdout" "timeout=60s" "net.0.tap=auto")
truncate -s 1M "$B/feature-disk.img"
FNS=pv-bench-$$-feat
ip netns add "$FNS" || die "ip netns add $FNS failed: exec to exit with net.0.tap = auto cannot be measured"
trap 'ip netns del "$FNS" 2>/dev/null' EXIT
for f in "${!FEAT_LABELS[@]}"; do : >"$B/feature-$f.txt"; done
for _ in $(seq "$RUNS"); do
	for f in "${!FEAT_LABELS[@]}"; do
		# shellcheck disable=SC2086 # FEAT_ARGS: one word or none
		ip netns exec "$FNS" env EXEC2EXIT_SAMPLES="$B/feature-$f.txt" \
			"$B/exec2exit" "${FEAT_LABELS[$f]}" 1 0 -- "$TOP/picovm" run "$B/exit.conf" \
			${FEAT_ARGS[$f]} >/dev/null ||
			die "picovm with ${FEAT_LABELS[$f]}: exec to exit could not be measured"
	done
done
ip netns del "$FNS"
trap - EXIT
# The features rows leave work behind them: each tap = auto VM's reaper
# destroys its tap after picovm's exit (an RCU barrier, 10-30 ms here),
# and the namespace's own teardown runs in a kernel worker.  The next
# section measures a quiet host: no reaper left, then a pause.
for _ in $(seq 200); do pgrep -x picovm-reaper >/dev/null || break; sleep 0.05; done
sleep 0.5
median_of() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
plain=$(median_of "$B/feature-0.txt")
number "$plain" "exec to exit, plain row"
for f in "${!FEAT_LABELS[@]}"; do
	[ "$(wc -l <"$B/feature-$f.txt")" = "$RUNS" ] ||
		die "picovm with ${FEAT_LABELS[$f]}: $(wc -l <"$B/feature-$f.txt") of $RUNS runs measured"
	med=$(median_of "$B/feature-$f.txt")
	add=$(awk -v a="$med" -v b="$plain" 'BEGIN { printf "%.3f", a - b }')
	echo "picovm, ${FEAT_LABELS[$f]}: exec to exit median $med ms ($add ms over the plain row)"
	result features "exec to exit (median)" "${FEAT_LABELS[$f]}" "$med" ms
done

echo "== exec to the guest's first instruction, $RUNS runs"
echo "   seen from outside (bench/exec2line.c): exec to the arrival on stderr of picovm's"
echo "   boot-timer line (exit.elf writes that port first) or of the floor's \"first exit\" line"
# median3 FILE: "MEDIAN MIN MAX" of the numbers in FILE, one per line.
median3() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'; }
for i in 0 1 2 3; do
	sys_cmd "$i"
	pat="boot-timer:"
	[ "$i" -lt 2 ] && { CMD+=(report); pat="floor: first exit"; }
	"$B/exec2line" "$RUNS" "${SYS_STATUS[$i]}" "$pat" -- "${CMD[@]}" >"$B/first-$i.txt" ||
		die "${SYS_LABELS[$i]}: exec to the first instruction could not be measured"
	[ "$(wc -l <"$B/first-$i.txt")" = "$RUNS" ] ||
		die "${SYS_LABELS[$i]}: exec to the first instruction measured in only $(wc -l <"$B/first-$i.txt") of $RUNS runs"
	read -r med lo hi < <(median3 "$B/first-$i.txt")
	echo "${SYS_LABELS[$i]}: exec -> first instruction: median $med ms (min $lo, max $hi)"
	result startup "exec to first instruction (median)" "${SYS_LABELS[$i]}" "$med" ms
done
echo "   (QEMU: not measured, it has no boot-timer port)"
echo "== picovm's start (its first constructor, after exec and the C library's start-up) to the"
echo "   guest's first instruction, as picovm's boot-timer line says it, $RUNS runs"
for sb in on off; do
	: >"$B/boottime.txt"
	for _ in $(seq "$RUNS"); do
		"$TOP/picovm" run "$B/exit.conf" sandbox=$sb 2>&1 >/dev/null |
			sed -n 's/.*boot-timer: \([0-9.]*\) ms.*/\1/p' >>"$B/boottime.txt"
	done
	[ "$(wc -l <"$B/boottime.txt")" = "$RUNS" ] ||
		die "picovm (sandbox = $sb) logged the boot-timer figure in only $(wc -l <"$B/boottime.txt") of $RUNS runs"
	read -r med lo hi < <(median3 "$B/boottime.txt")
	echo "picovm (sandbox = $sb) start -> first guest port write: median $med ms (min $lo, max $hi)"
	label=picovm
	[ $sb = off ] && label="picovm (sandbox = off)"
	result startup "picovm's start to first instruction (boot-timer, median)" "$label" "$med" ms
done

echo "== tiny VMs started and run to their end per second, 1 and 2 launchers"
for i in 1 2 4; do
	sys_cmd "$i"
	count=${BENCH_RATE_COUNT:-100}
	[ "$i" = 4 ] && count=$(((count / 5 + 1) / 2 * 2))
	[ "$count" -ge 2 ] || count=2
	for par in 1 2; do
		line=$("$B/rate" "${SYS_LABELS[$i]}" "$count" "$par" "${SYS_STATUS[$i]}" -- "${CMD[@]}") ||
			die "${SYS_LABELS[$i]}: VMs per second could not be measured"
		echo "$line"
		result vms "VMs per second, $par launcher(s)" "${SYS_LABELS[$i]}" "$(field per_s "$line")" VMs/s
	done
done

if [ "${BENCH_ONLY:-}" != startup ]; then
	echo
	echo "== virtio-blk against QEMU microvm (bench/blk.sh)"
	bash "$TOP/bench/blk.sh"
	echo
	echo "== virtio-net against QEMU microvm (bench/net.sh)"
	bash "$TOP/bench/net.sh"
fi

echo
echo "== seccomp filters per thread role (seccomp/filters.c)"
cc -std=c11 -D_GNU_SOURCE -O2 -o "$B/sandbox_table" "$TOP/bench/sandbox_table.c" \
	"$TOP/seccomp/filters.c" "$TOP/seccomp/variant.c" "$TOP/vm/log.c" -lseccomp
"$B/sandbox_table"

echo
bash "$TOP/bench/report.sh" "$RESULTS" "$B" "$OUTDIR"
