#!/usr/bin/env bash
# Restore against a cold boot (issue 11 "Speed"), for two guests:
#   bash bench/restore.sh [RUNS] [CLONES] [GUESTS]
#   (defaults 11, 100 and "test linux"; GUESTS picks either or both)
# In one run, side by side:
#   - the CPL3 test guest (guest/ picotest=snapboot, 1 vCPU, 64M): it
#     writes the snapshot port and, first thing in the restored VM, the
#     boot-timer port, so exec -> guest running is picovm's own restore
#     cost plus one port exit (no emulated guest kernel on the way);
#     exec -> guest running is timed from outside (bench/exec2line.c: exec
#     to the boot-timer line's arrival on picovm's stderr), the line's own
#     figures count from picovm's start (its first constructor, after exec
#     and the C library's start-up); the difference is exec, the C
#     library's start-up and the line's way to the reader (which waits for a CPU
#     while the guest's vCPUs keep both busy);
#   - the default Linux guest: a cold boot to /init (picovm's boot-timer
#     line: the default guest's /init writes port 0x511 first) against a
#     restore of that guest snapshotted at /init-ready (picovm.snapshot=1:
#     its /init writes the boot-timer port again right after the snapshot
#     port, so the restored picovm logs exec -> guest running), RUNS each,
#     interleaved;
# for each guest: the medians of exec -> guest running and of its split
# (the boot-timer line says when the vCPUs first called KVM_RUN: picovm's
# part before, the guest's part after, KVM's own waits inside KVM_RUN
# included), beside bench/floor.c (exec to the first exit of a bare KVM
# program, the machine's floor) when it exists, timed the same way: one
# exec at a time, interleaved with the restores (a start right after
# another costs both about 0.2 ms less here; the floor RUNS times in a
# row is printed too, for reference); then CLONES restores of the
# snapshot at once: clones started per second (from the first exec to the
# last clone's boot-timer line) and PSS per clone while all run, split
# (/proc/PID/smaps) into the guest pages the clone dirtied (the memory
# file's mapping, Private_Dirty: its copy-on-write pages), its share of the
# guest pages the clones share (the rest of that mapping's Pss: the page
# cache of the snapshot's memory file) and picovm's own (every other
# mapping: binary, heap, stacks, io_uring rings, ...; a helper process
# with an address space of its own would count with it, picovm-reaper
# runs in picovm's), and the clone's page tables beside it
# (kernel memory, in no PSS).
# The Linux guest is initramfs-only (no root disk), its job on a raw disk
# (picovm.script=vda) given at restore: `exit 0` for the timed restores,
# `sleep` for the clones.  Every VM has a watchdog; a VM that fails, or a
# figure that cannot be measured, stops the benchmark with an error.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-11}
CLONES=${2:-100}
GUESTS=" ${3:-test linux} "
. "$TOP/bench/lib.sh"
B=$TOP/bench/build/restore
LB=$TOP/guest/linux/build
TG=$TOP/guest/build/test64.elf
PICOVM=${PICOVM:-$TOP/picovm}
[ -x "$PICOVM" ] && [ -d "$TOP/.musl-include" ] || die "run 'make picovm' first"
case $GUESTS in *" test "*)
	[ -f "$TG" ] || die "run 'make guests' first ($TG is missing)" ;;
esac
case $GUESTS in *" linux "*)
	[ -f "$LB/vmlinux" ] && [ -f "$LB/initramfs.cpio" ] ||
		die "run 'make linux' first (guest/linux/build)" ;;
esac
rm -rf "$B"
mkdir -p "$B"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

boot_ms() { sed -n 's/.*boot-timer: \([0-9.]*\) ms.*/\1/p' "$1" | head -n 1; }
# When the vCPUs first called KVM_RUN (the boot-timer line's split).
run_ms() { sed -n 's/.*boot-timer: .*KVM_RUN from \([0-9.]*\) ms.*/\1/p' "$1" | head -n 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", v[int((NR + 1) / 2)] }'; }
row() { printf '%-52s %10s %s\n' "$1" "$2" "$3"; }

cc -O2 -Wall -Werror -o "$B/exec2line" "$TOP/bench/exec2line.c"
# The machine's floor: RUNS in a row once here (for reference), and one
# exec at a time beside each restore (floor_once).
floor=
if [ -f "$TOP/bench/floor.c" ]; then
	musl-gcc -isystem "$TOP/.musl-include" -O2 -Wall -Werror -static -o "$B/floor" "$TOP/bench/floor.c"
	# Without the irqchip, as the restore's figure: exec to the line the
	# floor writes after its guest's first exit.
	"$B/exec2line" "$RUNS" 0 "floor: first exit" -- "$B/floor" report >"$B/floor.txt" ||
		die "bench/floor.c failed"
	floor=$(median <"$B/floor.txt")
	number "$floor" "floor exec to its guest's first exit"
fi

# floor_once TAG: the floor timed as restore_once times a restore (one
# exec, the same wrapper), into $B/TAG.floor; nothing without a floor.
floor_once() {
	local e
	[ -n "$floor" ] || return 0
	timeout -k 3 120 "$B/exec2line" 1 0 "floor: first exit" -- "$B/floor" report \
		</dev/null >"$B/$1.floor1" 2>/dev/null || die "bench/floor.c failed"
	e=$(cat "$B/$1.floor1"); number "$e" "$1: floor, one exec"
	echo "$e" >>"$B/$1.floor"
}

# restore_once TAG I COMMAND...: one timed restore, which must end with
# status 0 and log the boot-timer line with its split; its figures go to
# $B/TAG.{total,start,picovm,guest}.
restore_once() {
	local tag=$1 i=$2 e v r; shift 2
	: >"$B/$tag.err"
	EXEC2LINE_STDERR=$B/$tag.err timeout -k 3 120 "$B/exec2line" 1 0 "boot-timer:" \
		-- "$@" </dev/null >"$B/$tag.exec" ||
		die "$tag: restore $i failed (status $?): $(tail -n 3 "$B/$tag.err")"
	e=$(cat "$B/$tag.exec"); number "$e" "$tag: restore $i, exec to the guest running"
	v=$(boot_ms "$B/$tag.err"); number "$v" "$tag: restore $i to the guest running"
	r=$(run_ms "$B/$tag.err"); number "$r" "$tag: restore $i to the vCPUs in KVM_RUN"
	echo "$e" >>"$B/$tag.total"
	awk -v a="$e" -v b="$v" 'BEGIN { printf "%.3f\n", a - b }' >>"$B/$tag.start"
	echo "$r" >>"$B/$tag.picovm"
	awk -v a="$v" -v b="$r" 'BEGIN { printf "%.3f\n", a - b }' >>"$B/$tag.guest"
}

# restore_report TAG: the medians of restore_once's figures, the floor.
restore_report() {
	local tag=$1 t s p g f
	t=$(median <"$B/$tag.total"); s=$(median <"$B/$tag.start")
	p=$(median <"$B/$tag.picovm"); g=$(median <"$B/$tag.guest")
	number "$t" "$tag: restore median"; number "$p" "$tag: picovm's part median"
	row "restore: exec -> guest running (its boot-timer line)" "$t" ms
	row "  exec, the C library's start-up, the line's delivery" "$s" ms
	row "  picovm's part: its start -> vCPUs in KVM_RUN" "$p" ms
	row "  the guest's part: KVM_RUN -> its boot-timer write" "$g" ms
	if [ -n "$floor" ]; then
		f=$(median <"$B/$tag.floor")
		number "$f" "$tag: floor median"
		row "floor: bare KVM exec -> its first exit (no irqchip)" "$f" ms
		row "  (the floor $RUNS times in a row, for reference)" "$floor" ms
		awk -v r="$t" -v f="$f" 'BEGIN { printf "restore above the floor: %.3f ms\n", r - f }'
	else
		echo "floor: bench/floor.c is absent: no floor column"
	fi
	REST_MS=$t
}

# clone_pss PID MEMFILE: "total dirtied shared own pte" (KiB) for one
# clone (not lib.sh's pss_split: that splits one process by its guest RAM
# mapping's size; a clone's guest RAM is the snapshot's memory file):
# picovm and those of its child processes that have an address space of
# their own (a fork shares pages with picovm, so each holds part of their
# PSS), but not a helper that runs in picovm's (clone(CLONE_VM):
# picovm-reaper, vm/reaper.h): its smaps are picovm's and would count it
# twice; an address space is the same when
# its maps are.  pte: their page tables (VmPTE), kernel memory that no
# PSS counts.  Fails when picovm has no mapping of MEMFILE.
clone_pss() {
	local f=("/proc/$1/smaps") s=("/proc/$1/status") t k
	for t in /proc/"$1"/task/*/children; do
		for k in $(cat "$t" 2>/dev/null); do
			cmp -s "/proc/$k/maps" "/proc/$1/maps" && continue
			f+=("/proc/$k/smaps")
			s+=("/proc/$k/status")
		done
	done
	awk -v mem="$2" '
		FNR == 1 { st = (FILENAME ~ /status$/) }
		st { if ($1 == "VmPTE:") pte += $2; next }
		/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == mem) }
		/^Pss:/ { tot += $2; if (m) { mp += $2; seen = 1 } }
		/^Private_Dirty:/ { if (m) md += $2 }
		END { if (!seen) exit 1; printf "%d %d %d %d %d\n", tot, md, mp - md, tot - mp, pte }
	' "${f[@]}" "${s[@]}" 2>/dev/null
}

# clones TAG N SNAPDIR ARGS-FN: N restores of SNAPDIR at once (each with
# name=TAG-i and the words `ARGS-FN i` prints), until each one's guest has
# confirmed (boot-timer), or one ended; prints clones started per second
# and the PSS split per clone, then stops them.
clones() {
	local tag=$1 n=$2 snap=$3 args=$4 i t0 t1 up p c one
	local sum="0 0 0 0 0" rate tot dirty shared own pte
	PIDS=()
	t0=$(date +%s.%N)
	for i in $(seq "$n"); do
		# shellcheck disable=SC2046	# ARGS-FN's words split on purpose
		timeout -k 3 900 "$PICOVM" restore "$snap" name="$tag-$i" $("$args" "$i") \
			</dev/null >/dev/null 2>"$B/$tag-$i.err" &
		PIDS+=("$!")
	done
	while :; do
		up=0
		for i in $(seq "$n"); do
			if grep -q 'boot-timer:' "$B/$tag-$i.err" 2>/dev/null; then
				up=$((up + 1))
			elif ! kill -0 "${PIDS[$((i - 1))]}" 2>/dev/null; then
				die "$tag: clone $i ended before its guest ran: $(tail -n 3 "$B/$tag-$i.err")"
			fi
		done
		[ "$up" = "$n" ] && break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	for p in "${PIDS[@]}"; do
		# timeout's child is picovm.
		c=$(cat "/proc/$p/task/$p/children" 2>/dev/null); c=${c%% *}
		[ -n "$c" ] || die "$tag: the clone process under $p is gone"
		one=$(clone_pss "$c" "$snap/memory") ||
			die "$tag: cannot read the PSS of clone $c, or it maps no $snap/memory"
		sum=$(echo "$sum $one" | awk '{ printf "%d %d %d %d %d", $1 + $6, $2 + $7, $3 + $8, $4 + $9, $5 + $10 }')
	done
	rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
	read -r tot dirty shared own pte < <(echo "$sum" |
		awk -v n="$n" '{ printf "%.0f %.0f %.0f %.0f %.0f\n", $1 / n, $2 / n, $3 / n, $4 / n, $5 / n }')
	number "$rate" "$tag: clones per second"; number "$tot" "$tag: PSS per clone"
	number "$own" "$tag: picovm's own PSS per clone"
	row "clones started (exec -> guest running)" "$rate" /s
	row "PSS per clone (picovm and its helpers, all running)" "$tot" KiB
	row "  guest pages the clone dirtied (copy-on-write)" "$dirty" KiB
	row "  its share of the guest pages the clones share" "$shared" KiB
	row "  picovm's own (every other mapping)" "$own" KiB
	row "  beyond the guest pages it dirtied" "$((tot - dirty))" KiB
	row "page tables per clone (VmPTE: kernel memory, in no PSS)" "$pte" KiB
	cleanup
	PIDS=()
}

no_args() { :; }

case $GUESTS in *" test "*)
	for k in 0 1; do	# 0: exits after its boot-timer write; 1: sleeps
		cat >"$B/t$k.conf" <<EOF
kernel = $TG
memory = 64M
vcpus = 1
serial = none
cmdline = picotest=snapboot:$k
timeout = 10m
EOF
		timeout -k 3 120 "$PICOVM" run "$B/t$k.conf" snapshot.path="$B/tsnap$k" \
			</dev/null >/dev/null 2>"$B/tsnap$k.err" ||
			die "the test guest's snapshot run failed (status $?): $(tail -n 3 "$B/tsnap$k.err")"
		[ -s "$B/tsnap$k/state" ] || die "the test guest's snapshot run wrote no state"
	done
	echo "== exec to the guest running, CPL3 test guest (picotest=snapboot, 1 vCPU, 64M), $RUNS runs, medians"
	for i in $(seq "$RUNS"); do
		floor_once test
		restore_once test "$i" "$PICOVM" restore "$B/tsnap0"
	done
	restore_report test
	echo "== $CLONES clones of the test guest's snapshot at once (they sleep)"
	clones test "$CLONES" "$B/tsnap1" no_args
	;;
esac

case $GUESTS in *" linux "*)
	# rcu_cpu_stall_suppress: on this host a restored guest's TSC has
	# moved on by the snapshot's age (it cannot be set), so RCU sees a
	# "stall" at once and sends NMIs for backtraces, whose entry code this
	# nested KVM cannot emulate (an emulation failure at paranoid_entry).
	# Not needed where the TSC is restored.
	BASE="noxsave clearcpuid=popcnt,smap no_timer_check rodata=off norandmaps percpu_alloc=page quiet rcupdate.rcu_cpu_stall_suppress=1"
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
	# The snapshot: a cold boot that stops at /init-ready.
	timeout -k 3 900 "$PICOVM" run "$B/vm.conf" snapshot.path="$B/snap" name=snap \
		</dev/null >/dev/null 2>"$B/snap.err" ||
		die "the snapshot run failed (status $?): $(tail -n 3 "$B/snap.err")"
	[ -s "$B/snap/state" ] || die "the snapshot run wrote no state"
	number "$(boot_ms "$B/snap.err")" "cold boot to /init (snapshot run)"

	echo "== exec to the guest running, default Linux guest (initramfs, 2 vCPUs, 128M), $RUNS runs, medians"
	job "$B/job-exit.img" "exit 0"
	: >"$B/cold.txt"
	for i in $(seq "$RUNS"); do
		timeout -k 3 900 "$PICOVM" run "$B/vm.conf" name=cold-$i \
			disk.0.path="$B/job-exit.img" </dev/null >/dev/null 2>"$B/cold.err" ||
			die "cold boot $i failed (status $?): $(tail -n 3 "$B/cold.err")"
		v=$(boot_ms "$B/cold.err"); number "$v" "cold boot $i to /init"
		echo "$v" >>"$B/cold.txt"
		floor_once linux
		restore_once linux "$i" "$PICOVM" restore "$B/snap" name=restore-$i \
			disk.0.path="$B/job-exit.img"
	done
	cold=$(median <"$B/cold.txt")
	number "$cold" "cold boot median"
	row "cold boot: picovm's start -> /init (boot-timer)" "$cold" ms
	restore_report linux
	awk -v c="$cold" -v r="$REST_MS" 'BEGIN { printf "cold boot / restore = %.0fx\n", c / r }'

	echo "== $CLONES clones of the Linux guest's snapshot at once (job: sleep)"
	job "$B/job-sleep.img" "sleep 3600"
	# Each clone its own job disk (a writable disk is one VM's: the lock).
	for i in $(seq "$CLONES"); do cp "$B/job-sleep.img" "$B/job-c$i.img"; done
	job_disk() { echo "disk.0.path=$B/job-c$1.img"; }
	clones linux "$CLONES" "$B/snap" job_disk
	;;
esac
