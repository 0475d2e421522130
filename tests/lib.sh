# Shared helpers for the test scripts (tests/t-*.sh).  Source it; then report
# each check with exactly one of
#   pass NAME            the check held
#   fail NAME WHY...     it did not; WHY is shown to the reader
#   skip NAME WHY...     it could not run here (say why)
# tests/run.sh counts the lines these write to $RESULTS and prints the
# summary line "N passed, N failed, N skipped".
#
# Every guest run goes through vm_run, which puts a hard timeout on picovm.

set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PICOVM=${PICOVM:-$TOP/picovm}
GUEST=${GUEST:-$TOP/guest/build}
RESULTS=${RESULTS:-/dev/null}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/picovm-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

pass() { echo "ok    $1"; echo "pass $1" >>"$RESULTS"; }
fail() { local n=$1; shift; echo "FAIL  $n: $*"; echo "fail $n" >>"$RESULTS"; }
skip() { local n=$1; shift; echo "skip  $n: $*"; echo "skip $n" >>"$RESULTS"; }
# info TEXT: a figure or a note for the reader; never a verdict.
info() { echo "info  $*"; }

# vm_run SECONDS OUTFILE picovm-arguments...
# Runs picovm with a hard timeout; stdout to OUTFILE, stderr to OUTFILE.err;
# sets VM_STATUS to picovm's exit status (124/137 when the timeout hit).
vm_run() {
	local secs=$1 out=$2; shift 2
	timeout -k 3 "$secs" "$PICOVM" "$@" >"$out" 2>"$out.err" </dev/null
	VM_STATUS=$?
}

# until_true SECS COMMAND...: polls COMMAND every 0.1 s until it succeeds;
# false after SECS.  SECS is a watchdog against hangs, never a verdict on
# speed: give it far more than the event needs on a loaded machine.
until_true() {
	local end=$((SECONDS + $1)); shift
	while ! "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# clones DIR N EXPECTED TAG: N restores of the snapshot in DIR at once
# (names TAG-1..TAG-N, outputs $WORK/TAG1..); sets CLONES_OK to how many
# ended with status 0 and an output equal to the file EXPECTED.
clones() {
	local dir=$1 n=$2 want=$3 tag=$4 i
	for i in $(seq "$n"); do
		( timeout -k 3 90 "$PICOVM" restore "$dir" name="$tag-$i" >"$WORK/$tag$i" \
			2>"$WORK/$tag$i.err" </dev/null; echo $? >"$WORK/$tag$i.status" ) &
	done
	wait
	CLONES_OK=0
	for i in $(seq "$n"); do
		[ "$(cat "$WORK/$tag$i.status")" = 0 ] && cmp -s "$want" "$WORK/$tag$i" &&
			CLONES_OK=$((CLONES_OK + 1))
	done
}

# own_kib PID MEMFILE: what a running picovm costs beyond guest RAM and its
# binary's text, in KiB: the Pss of each mapping that is no file's (heap,
# stacks, anonymous blocks, the io_uring rings, the vCPUs' run pages) and
# the copy-on-write pages (Anonymous) of its file mappings but MEMFILE's
# (a restored VM's guest RAM): the binary's written data.  For picovm and
# each child process with an address space of its own (its maps differ
# from picovm's; a helper sharing picovm's, clone(CLONE_VM), costs no
# pages of its own).  The text is left out: its PSS depends on how many
# picovm processes run.
own_kib() {
	local f=("/proc/$1/smaps") t k
	for t in /proc/"$1"/task/*/children; do
		for k in $(cat "$t" 2>/dev/null); do
			cmp -s "/proc/$k/maps" "/proc/$1/maps" || f+=("/proc/$k/smaps")
		done
	done
	awk -v mem="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { file = ($6 ~ /^\//); guest = ($6 == mem) }
		/^Pss:/ { if (!file) n += $2 }
		/^Anonymous:/ { if (file && !guest) n += $2 }
		END { print n + 0 }' "${f[@]}" 2>/dev/null
}

# ring_ok FILE: the PICOVM_STATS line in FILE (picovm's stderr) says that
# the I/O thread's ring, sized by the devices (vm/iothread.h), had room
# for every request in flight and never overflowed its completions.
ring_ok() {
	local n m
	n=$(sed -n 's/.*stats: io ring: \([0-9]*\) entries, at most \([0-9]*\) requests in flight, completions never overflowed.*/\1/p' "$1")
	m=$(sed -n 's/.*stats: io ring: \([0-9]*\) entries, at most \([0-9]*\) requests in flight, completions never overflowed.*/\2/p' "$1")
	test -n "$n" -a -n "$m" && test "$m" -le "$n"
}

# check NAME CONDITION-COMMAND... : pass if the command succeeds, else fail
# and show the last lines of $OUT/$OUT.err when set.
check() {
	local n=$1; shift
	if "$@"; then pass "$n"; else
		fail "$n" "'$*' did not hold${OUT:+; output: $(tail -c 300 "$OUT" 2>/dev/null | tr '\n' '|') stderr: $(tail -c 300 "$OUT.err" 2>/dev/null | tr '\n' '|')}"
	fi
}

# conf FILE key=value... : writes a config file, one key = value per line
conf() {
	local f=$1; shift
	: >"$f"
	local kv
	for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$f"; done
}

# require_vm TIER FILE...: stops the calling tier (exit 0) unless picovm and
# the given guest files are built and /dev/kvm is there; says which.
require_vm() {
	local tier=$1 f; shift
	for f in "$PICOVM" "$@"; do
		if [ ! -e "$f" ]; then
			fail "$tier" "$f is not built (make picovm guests)"
			exit 0
		fi
	done
	if [ ! -c /dev/kvm ]; then
		skip "$tier" "no /dev/kvm on this machine"
		exit 0
	fi
}
