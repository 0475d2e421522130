#!/usr/bin/env bash
# Restore against a cold boot, the default Linux guest (issue 11 "Speed").
#   bash bench/restore.sh [RUNS] [CLONES]     (defaults 11 and 100)
# In one run, side by side:
#   - exec to the guest running: a cold boot to /init (picovm's boot-timer
#     line: the default guest's /init writes port 0x511 first) against a
#     restore of that guest snapshotted at /init-ready (picovm.snapshot=1:
#     its /init writes the boot-timer port again right after the snapshot
#     port, so the restored picovm logs exec -> guest running); RUNS each,
#     medians; beside bench/floor.c (exec to the first exit of a bare KVM
#     program, the machine's floor) when it exists;
#   - CLONES restores of the snapshot at once: clones started per second
#     (from the first exec to the last clone's boot-timer line) and PSS
#     per clone (/proc/PID/smaps_rollup, while all run).
# The guest is initramfs-only (no root disk), its job on a raw disk
# (picovm.script=vda) given at restore: `exit 0` for the timed restores,
# `sleep` for the clones.  Every VM has a watchdog; a VM that fails, or a
# figure that cannot be measured, stops the benchmark with an error.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-11}
CLONES=${2:-100}
. "$TOP/bench/lib.sh"
B=$TOP/bench/build/restore
LB=$TOP/guest/linux/build
PICOVM=$TOP/picovm
[ -x "$PICOVM" ] && [ -f "$LB/vmlinux" ] && [ -f "$LB/initramfs.cpio" ] ||
	die "run 'make picovm linux' first (picovm and guest/linux/build)"
rm -rf "$B"
mkdir -p "$B"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

# rcu_cpu_stall_suppress: on this host a restored guest's TSC has moved on
# by the snapshot's age (it cannot be set), so RCU sees a "stall" at once
# and sends NMIs for backtraces, whose entry code this nested KVM cannot
# emulate (an emulation failure at paranoid_entry).  Not needed where the
# TSC is restored.
BASE="noxsave clearcpuid=popcnt,smap rodata=off norandmaps percpu_alloc=page quiet rcupdate.rcu_cpu_stall_suppress=1"
job() {	# FILE COMMANDS: a job disk of 64 KiB
	printf '%s\n' "$2" >"$1"
	truncate -s 64K "$1"
}
job "$B/job0.img" "exit 3"
cat >"$B/vm.conf" <<EOF
kernel = $LB/vmlinux
initrd = $LB/initramfs.cpio
memory = 128M
vcpus = 2
serial = none
cmdline = "console=ttyS0 $BASE picovm.snapshot=1 picovm.script=vda"
disk.0.path = $B/job0.img
timeout = 10m
EOF
boot_ms() { sed -n 's/.*boot-timer: \([0-9.]*\) ms.*/\1/p' "$1" | head -n 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", v[int((NR + 1) / 2)] }'; }

# The snapshot: a cold boot that stops at /init-ready.
timeout -k 3 900 "$PICOVM" run "$B/vm.conf" snapshot.path="$B/snap" name=snap \
	</dev/null >/dev/null 2>"$B/snap.err" ||
	die "the snapshot run failed (status $?): $(tail -n 3 "$B/snap.err")"
[ -s "$B/snap/state" ] || die "the snapshot run wrote no state"
number "$(boot_ms "$B/snap.err")" "cold boot to /init (snapshot run)"

echo "== exec to the guest running, default Linux guest (initramfs, 2 vCPUs, 128M), $RUNS runs, medians"
job "$B/job-exit.img" "exit 0"
: >"$B/cold.txt"
: >"$B/restore.txt"
for i in $(seq "$RUNS"); do
	timeout -k 3 900 "$PICOVM" run "$B/vm.conf" name=cold-$i \
		disk.0.path="$B/job-exit.img" </dev/null >/dev/null 2>"$B/cold.err" ||
		die "cold boot $i failed (status $?): $(tail -n 3 "$B/cold.err")"
	v=$(boot_ms "$B/cold.err"); number "$v" "cold boot $i to /init"
	echo "$v" >>"$B/cold.txt"
	timeout -k 3 120 "$PICOVM" restore "$B/snap" name=restore-$i \
		disk.0.path="$B/job-exit.img" </dev/null >/dev/null 2>"$B/restore.err" ||
		die "restore $i failed (status $?): $(tail -n 3 "$B/restore.err")"
	v=$(boot_ms "$B/restore.err"); number "$v" "restore $i to the guest running"
	echo "$v" >>"$B/restore.txt"
done
cold=$(median <"$B/cold.txt"); rest=$(median <"$B/restore.txt")
number "$cold" "cold boot median"; number "$rest" "restore median"
printf '%-44s %10s ms\n' "cold boot: exec -> /init (boot-timer)" "$cold"
printf '%-44s %10s ms\n' "restore: exec -> guest running (boot-timer)" "$rest"
if [ -f "$TOP/bench/floor.c" ]; then
	cc -O2 -Wall -Werror -o "$B/exec2exit" "$TOP/bench/exec2exit.c"
	cc -O2 -Wall -Werror -static -o "$B/floor" "$TOP/bench/floor.c"
	# Without the irqchip: with one, its teardown (20-30 ms here, README
	# "Benchmarks") would count, and a restore's figure has no teardown.
	"$B/exec2exit" "floor (no irqchip)" "$RUNS" 0 -- "$B/floor" >"$B/floor.txt" ||
		die "bench/floor.c failed"
	floor=$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' "$B/floor.txt" | head -n 1)
	number "$floor" "floor exec to exit"
	printf '%-44s %10s ms\n' "floor: bare KVM exec -> exit (no irqchip)" "$floor"
	awk -v r="$rest" -v f="$floor" 'BEGIN { printf "restore above the floor: %.3f ms\n", r - f }'
else
	echo "floor: bench/floor.c is absent: no floor column"
fi
awk -v c="$cold" -v r="$rest" 'BEGIN { printf "cold boot / restore = %.0fx\n", c / r }'

echo "== $CLONES clones of one snapshot at once (job: sleep)"
job "$B/job-sleep.img" "sleep 3600"
t0=$(date +%s.%N)
for i in $(seq "$CLONES"); do
	# Each clone its own job disk (a writable disk is one VM's: the lock).
	cp "$B/job-sleep.img" "$B/job-c$i.img"
	timeout -k 3 900 "$PICOVM" restore "$B/snap" name=clone-$i \
		disk.0.path="$B/job-c$i.img" </dev/null >/dev/null 2>"$B/clone-$i.err" &
	PIDS+=("$!")
done
# Until every clone's guest has confirmed (boot-timer), or one ended.
while :; do
	up=0
	for i in $(seq "$CLONES"); do
		if grep -q 'boot-timer:' "$B/clone-$i.err" 2>/dev/null; then
			up=$((up + 1))
		elif ! kill -0 "${PIDS[$((i - 1))]}" 2>/dev/null; then
			die "clone $i ended before its guest ran: $(tail -n 3 "$B/clone-$i.err")"
		fi
	done
	[ "$up" = "$CLONES" ] && break
	sleep 0.05
done
t1=$(date +%s.%N)
pss=0
for p in "${PIDS[@]}"; do
	# timeout's child is picovm.
	c=$(cat "/proc/$p/task/$p/children" 2>/dev/null); c=${c%% *}
	[ -n "$c" ] || die "clone process under $p is gone"
	k=$(awk '/^Pss:/ { print $2 }' "/proc/$c/smaps_rollup") ||
		die "cannot read the PSS of clone $c"
	pss=$((pss + k))
done
rate=$(awk -v n="$CLONES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
per=$(awk -v p="$pss" -v n="$CLONES" 'BEGIN { printf "%.0f", p / n }')
number "$rate" "clones per second"; number "$per" "PSS per clone"
printf '%-44s %10s /s\n' "clones started (exec -> guest running)" "$rate"
printf '%-44s %10s KiB\n' "PSS per clone (picovm process, all running)" "$per"
