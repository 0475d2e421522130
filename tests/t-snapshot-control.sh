#!/usr/bin/env bash
# Snapshots and the control socket in one VM: both park the vCPUs and the
# I/O thread through one pause (vm/pause.h), each as its own holder, so
# neither may resume the other's pause, lose a snapshot or hang.  Every VM
# has a hard timeout; waits are "until X, or a generous watchdog".
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$PICOVM" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail snapshot-control "picovm or the test guests are not built"
	exit 0
fi
if [ ! -w /dev/kvm ]; then
	skip snapshot-control "no writable /dev/kvm"
	exit 0
fi
export XDG_RUNTIME_DIR=$WORK/run
mkdir -p "$XDG_RUNTIME_DIR"
. "$(dirname "${BASH_SOURCE[0]}")/ctl-lib.sh"

# bg NAME picovm-args...: runs picovm in the background; output in
# $WORK/NAME.out(.err), status in $WORK/NAME.status once it ends.
bg() {
	local name=$1; shift
	( timeout -k 3 120 "$PICOVM" "$@" >"$WORK/$name.out" \
		2>"$WORK/$name.err" </dev/null
	  echo $? >"$WORK/$name.status" ) &
	PIDS+=($!)
}
# paused_still NAME: paused by ctl, the guest's counter does not move (once
# picovm says the console wrote out all the guest printed before the pause).
paused_still() {
	local n1 n2 t=$1
	[ -S "$WORK/$1.sock" ] && t=$WORK/$1.sock	# control = PATH
	until_true 60 console_drained "$t" || return 1
	n1=$(last_count "$1")
	sleep 1
	n2=$(last_count "$1")
	info "$1: paused at count $n1, then $n2"
	[ -n "$n1" ] && [ "$n1" = "$n2" ]
}

C=$WORK/vm.conf
conf "$C" kernel="$GUEST/test64.elf" cmdline=picotest=snapcount memory=64M \
	vcpus=2 timeout=100s

# --- snapshot.after = continue, then pause/resume/stop through the socket --
S1=$WORK/s1
bg c1 run "$C" name=c1 control=auto snapshot.path="$S1" snapshot.after=continue
until_true 60 answers c1
until_true 60 counted_past c1 1
OUT=$WORK/c1.err
check "snapshot + control: the snapshot is saved, the guest counts on" \
	grep -q "snapshot: saved to $S1" "$WORK/c1.err"
ctl c1 pause >"$WORK/p.out" 2>&1
check "snapshot + control: pause after a snapshot: state = paused" \
	[ "$(head -1 "$WORK/p.out")" = "state = paused" ]
check "snapshot + control: the paused guest does not count" paused_still c1
ctl c1 resume >"$WORK/p.out" 2>&1
check "snapshot + control: resume: state = running" \
	[ "$(head -1 "$WORK/p.out")" = "state = running" ]
n=$(last_count c1)
check "snapshot + control: the guest counts again" until_true 60 counted_past c1 $((n + 1))
ctl c1 stop >/dev/null 2>&1
ended c1 110
OUT=$WORK/c1.out
check "snapshot + control: stop: powered off, status 0" \
	[ "$ST" = 0 -a -n "$(grep -x 'count: power button' "$WORK/c1.out")" ]

# --- a restore of it, controlled through an overridden socket path ---------
check "vm.conf of the snapshot keeps control = auto" grep -qx 'control = auto' "$S1/vm.conf"
bg r1 restore "$S1" name=r1 control="$WORK/r1.sock"
until_true 60 answers "$WORK/r1.sock"
OUT=$WORK/r1.err
check "restore with control = PATH: status answers, running" state_is "$WORK/r1.sock" running
check "restore: the guest goes on after its snapshot" until_true 60 counted_past r1 1
check "restore: its output starts after the port write" \
	[ "$(head -1 "$WORK/r1.out")" = "snapcount: after the snapshot" ]
ctl "$WORK/r1.sock" pause >/dev/null 2>&1
check "restore: ctl pause stops the restored guest" paused_still r1
ctl "$WORK/r1.sock" resume >/dev/null 2>&1
n=$(last_count r1)
check "restore: ctl resume: it counts again" until_true 60 counted_past r1 $((n + 1))
ctl "$WORK/r1.sock" stop >/dev/null 2>&1
ended r1 110
check "restore: ctl stop: status 0" [ "$ST" = 0 ]
vm_run 30 "$WORK/bad" restore "$S1" name=r2 control=auto memory=128M
OUT=$WORK/bad
check "restore: control may be overridden, memory may not (status 2)" \
	[ "$VM_STATUS" = 2 -a -n "$(grep 'memory: the guest already saw it' "$WORK/bad.err")" ]

# --- pauses that land on snapshots: none lost, none resumed early ----------
# The guest snapshots itself 16 times (snapshot.after = continue) while
# the control socket pauses and resumes it in a loop; where the pauses
# land is left to chance, the verdict is the output's and the count's.
C2=$WORK/snap.conf
conf "$C2" kernel="$GUEST/test64.elf" memory=64M vcpus=2 \
	cmdline=picotest=snap:20000:16 timeout=100s
vm_run 100 "$WORK/full" run "$C2"
OUT=$WORK/full
check "snap:20000:16 uninterrupted: status 0" [ "$VM_STATUS" = 0 ]
S2=$WORK/s2
bg m1 run "$C2" name=m1 control=auto snapshot.path="$S2" snapshot.after=continue
until_true 60 answers m1
pauses=0
while [ ! -s "$WORK/m1.status" ] && [ $pauses -lt 400 ]; do
	ctl m1 pause >/dev/null 2>&1 && pauses=$((pauses + 1))
	ctl m1 resume >/dev/null 2>&1
done
ended m1 110
info "$pauses pauses while the guest took 16 snapshots"
OUT=$WORK/m1.out
check "pauses across snapshots: status 0" [ "$ST" = 0 ]
check "pauses across snapshots: the uninterrupted run's output" \
	diff "$WORK/full" "$WORK/m1.out"
check "pauses across snapshots: 16 snapshots saved" \
	[ "$(grep -c "snapshot: saved to $S2" "$WORK/m1.err")" = 16 ]
exit 0
