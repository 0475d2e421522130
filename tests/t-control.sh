#!/usr/bin/env bash
# The control socket (control = auto | PATH), `picovm ctl`, `picovm ls` and
# systemd's notify protocol, on the test guest's `count` mode (counts at
# CPL3, prints `count: N`, powers off through ACPI when the power button
# is pressed).  Every VM has a hard timeout; waits are "until X, or a
# generous watchdog", never a timed verdict.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POKE=$TOP/tests/build/ctlpoke
HOOKS=$TOP/tests/build/picovm-hooks
if [ ! -x "$PICOVM" ] || [ ! -x "$POKE" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail control "picovm, tests/build/ctlpoke or the guests are not built"
	exit 0
fi
if [ ! -w /dev/kvm ]; then
	skip control "no writable /dev/kvm"
	exit 0
fi
export XDG_RUNTIME_DIR=$WORK/run
mkdir -p "$XDG_RUNTIME_DIR"
RUN=$XDG_RUNTIME_DIR/picovm
. "$(dirname "${BASH_SOURCE[0]}")/ctl-lib.sh"

# start NAME [key=value...]: boots the count guest in the background with
# control = auto; its output in $WORK/NAME.out(.err), its status in
# $WORK/NAME.status once it ends.  Waits for the socket to answer.
start() {
	local name=$1; shift
	( timeout -k 3 420 "$PICOVM" run "$WORK/vm.conf" name="$name" \
		control=auto serial=file:"$WORK/$name.out" "$@" \
		2>"$WORK/$name.err" </dev/null
	  echo $? >"$WORK/$name.status" ) &
	PIDS+=($!)
	until_true 60 answers "$name"
}
exits_io() { ctl "$1" stats | sed -n 's/^exits.io = //p'; }
# has FILE LINE...: every LINE is a whole line of FILE.
has() { local f=$1 l; shift; for l in "$@"; do grep -qxF -- "$l" "$f" || return 1; done; }

conf "$WORK/vm.conf" kernel="$GUEST/test64.elf" cmdline=picotest=count \
	memory=64M timeout=400s	# a watchdog: a1 lives through most of the tier

# --- status, stats, the boot-timer figure -----------------------------------
start a1 vcpus=2
until_true 60 counted_past a1 2
OUT=$WORK/st.out
ctl a1 status >"$OUT" 2>"$OUT.err"; rc=$?
pid=$(sed -n 's/^pid = //p' "$OUT")
check "status: exit 0, ends in ok" [ $rc -eq 0 -a "$(tail -1 "$OUT")" = ok ]
check "status: name, state, vcpus, memory, devices" has "$OUT" 'name = a1' \
	'state = running' 'vcpus = 2' 'memory = 64M' 'devices ='

check "status: pid is picovm's" [ -n "$pid" -a "$(cat /proc/"$pid"/comm 2>/dev/null)" = picovm ]
check "status: uptime and the boot-timer figure" [ -n "$(grep '^uptime.ms = [0-9][0-9]*$' "$OUT")" \
	-a -n "$(grep '^boot.timer.us = [0-9][0-9]*$' "$OUT")" ]
ctl a1 stats >"$OUT" 2>"$OUT.err"; rc=$?
check "stats: exits by reason, console drops, ok" [ $rc -eq 0 -a \
	"$(grep -cE '^(exits\.(io|mmio|other)|console\.dropped) = [0-9]+$' "$OUT")" = 4 \
	-a "$(tail -1 "$OUT")" = ok ]
check "stats: the guest's port writes are counted" [ "$(exits_io a1)" -gt 0 ]

# --- pause really stops the guest; resume lets it go on ------------------------
ctl a1 pause >"$OUT" 2>"$OUT.err"; rc=$?
check "pause: replies state = paused, ok" [ $rc -eq 0 -a "$(head -1 "$OUT")" = "state = paused" ]
check "pause: status says paused" state_is a1 paused
e1=$(exits_io a1)
# The console may still be writing what the guest printed before the
# pause: wait until picovm says none of it is pending, then look again.
until_true 60 console_drained a1
n1=$(last_count a1)
sleep 1
n2=$(last_count a1)
e2=$(exits_io a1)
info "paused at count $n1; exits.io $e1 then $e2"
check "pause: no vCPU exit while paused" [ -n "$e1" -a "$e1" = "$e2" ]
check "pause: the guest's counter does not move" [ -n "$n1" -a "$n1" = "$n2" ]
ctl a1 pause >/dev/null 2>&1
check "pause twice: still ok" [ $? -eq 0 ]
ctl a1 resume >"$OUT" 2>"$OUT.err"; rc=$?
check "resume: replies state = running, ok" [ $rc -eq 0 -a "$(head -1 "$OUT")" = "state = running" ]
check "resume: the counter moves again" until_true 60 counted_past a1 $((n2 + 1))

# --- bad requests ------------------------------------------------------------------
ctl a1 frobnicate >"$OUT" 2>"$OUT.err"; rc=$?
check "unknown request: exit 1, error: on stderr" [ $rc -eq 1 -a \
	-n "$(grep "^error: unknown request 'frobnicate'" "$OUT.err")" ]
ctl a1 status now >"$OUT" 2>"$OUT.err"; rc=$?
check "extra words: exit 1" [ $rc -eq 1 -a -n "$(grep '^error: too many words' "$OUT.err")" ]
ctl a1 stop soon >"$OUT" 2>"$OUT.err"; rc=$?
check "stop with a bad TIMEOUT: exit 1, VM runs on" [ $rc -eq 1 -a \
	-n "$(grep "^error: 'soon' is not a duration" "$OUT.err")" -a ! -s "$WORK/a1.status" ]
ctl a1 >"$OUT" 2>"$OUT.err"; rc=$?
check "ctl without a request: exit 2" [ $rc -eq 2 ]
ctl nosuchvm status >"$OUT" 2>"$OUT.err"; rc=$?
check "ctl to no VM: exit 1, says why" [ $rc -eq 1 -a -n "$(grep 'is the VM running' "$OUT.err")" ]
printf 'status\n\n\001\002garbage\r\nstatus\n' | "$POKE" send "$RUN/a1.sock" >"$OUT" 2>&1
check "malformed lines: each gets an error, good ones an answer" \
	[ "$(grep -c '^ok$' "$OUT")" = 2 -a "$(grep -c '^error: ' "$OUT")" = 2 ]
head -c 5000 /dev/zero | tr '\0' x | "$POKE" send "$RUN/a1.sock" >"$OUT" 2>&1
check "oversized line: refused, connection closed" grep -qx 'error: request longer than 255 bytes' "$OUT"

# --- clients that do not play along ----------------------------------------------
"$POKE" hold "$RUN/a1.sock" 8 >"$WORK/hold.out" 2>&1 &
hp=$!; PIDS+=($hp)
until_true 60 grep -q held "$WORK/hold.out"
ctl a1 status >"$OUT" 2>"$OUT.err"; rc=$?
check "8 idle clients hold every slot: a 9th (ctl status) is still served" \
	[ $rc -eq 0 -a "$(tail -1 "$OUT")" = ok ]
check "8 idle clients: the idlest is dropped, told why" \
	until_true 60 grep -qx 'dropped 0: error: dropped: idle while every client slot was taken' "$WORK/hold.out"
for i in 1 2 3 4 5 6 7 8; do ctl a1 status >/dev/null 2>&1 || break; done
check "8 idle clients: 8 more ctl runs in a row, each served" [ "$i" = 8 ]
n=$(last_count a1)
check "8 idle clients do not stall the guest" until_true 60 counted_past a1 $((n + 1))
kill $hp; wait $hp 2>/dev/null
check "clients gone: served again" until_true 60 answers a1
"$POKE" flood "$RUN/a1.sock" 200000 >"$WORK/flood.out" 2>&1 &
fp=$!; PIDS+=($fp)
until_true 60 grep -qs flooded "$WORK/flood.out"
n=$(last_count a1)
check "a flooding client that reads nothing: VM runs on" until_true 60 counted_past a1 $((n + 1))
check "a flooding client: others still served" answers a1
rss=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
info "picovm RSS after the flood: $rss KiB"
check "a flooding client: picovm's memory stays small" [ "${rss:-999999}" -lt 65536 ]
kill $fp; wait $fp 2>/dev/null

# --- devices in status and stats ------------------------------------------------------
truncate -s 1M "$WORK/small.img"
NS=
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "pv-ctl-$$" 2>/dev/null; then
	NS=pv-ctl-$$
	( timeout -k 3 60 ip netns exec "$NS" "$PICOVM" run "$WORK/vm.conf" name=d1 \
		control=auto disk.0.path="$WORK/small.img" net.0.tap=auto \
		serial=file:"$WORK/d1.out" 2>"$WORK/d1.err" </dev/null
	  echo $? >"$WORK/d1.status" ) &
	PIDS+=($!)
	until_true 60 answers d1
	OUT=$WORK/d1.st
	{ ctl d1 status; ctl d1 stats; } >"$OUT" 2>&1
	check "status: devices = disk.0 net.0" grep -qx 'devices = disk.0 net.0' "$OUT"
	check "stats: per device requests, bytes, failures; net drops" [ "$(grep -cE \
		'^(disk\.0|net\.0)\.(requests|bytes|failures) = [0-9]+$|^net\.0\.(tx|rx)_dropped = [0-9]+$' \
		"$OUT")" = 8 ]
	ctl d1 kill >/dev/null 2>&1
	ended d1
	ip netns del "$NS"
	NS=
else
	skip "stats: per device counters" "needs root and iproute2 (a tap in a namespace)"
fi

# --- block I/O in flight across pauses loses nothing -------------------------------
# The guest writes 512 MiB (1 MiB requests, 8 in flight) and reads it back;
# pauses land wherever they land: the verdict is the read-back's.
truncate -s 512M "$WORK/disk.img"
( timeout -k 3 120 "$PICOVM" run "$WORK/vm.conf" name=b1 control=auto \
	cmdline=picotest=blk-rw-verify:0:1048576:5 disk.0.path="$WORK/disk.img" \
	serial=file:"$WORK/b1.out" 2>"$WORK/b1.err" </dev/null
  echo $? >"$WORK/b1.status" ) &
PIDS+=($!)
pauses=0
until_true 60 answers b1
while [ ! -s "$WORK/b1.status" ] && [ $pauses -lt 200 ]; do
	ctl b1 pause >/dev/null 2>&1 && pauses=$((pauses + 1))
	ctl b1 resume >/dev/null 2>&1
done
ended b1
info "block test: $pauses pauses while the guest wrote and read 512 MiB"
OUT=$WORK/b1.out
check "blk I/O across pause/resume: read back intact, status 0" [ "$ST" = 0 -a \
	-n "$(grep -x 'blk-verify: ok' "$WORK/b1.out")" ]

# --- network I/O across pauses loses nothing -------------------------------------
# In a namespace of its own, on a tap made beforehand (its counters outlive
# the VM).  TX: the guest queues 200000 frames; pauses land wherever they
# land; every frame it queued must reach the tap (its rx_packets), no more,
# no fewer.  RX and TX: pvnet sends frames of every size 60..1514 one at a
# time while the VM is paused and resumed; each must come back intact.
# picotest.patient: the guest's waits have no clock (the TSC runs on while
# the VM is paused), the VM's timeout is the watchdog.
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "pv-ctl-$$" 2>/dev/null; then
	NS=pv-ctl-$$
	PVNET=$TOP/tests/build/pvnet
	ip netns exec "$NS" ip tuntap add dev pvt-p mode tap vnet_hdr
	ip netns exec "$NS" ip link set pvt-p up
	rx0=$(ip netns exec "$NS" cat /sys/class/net/pvt-p/statistics/rx_packets)
	( timeout -k 3 120 ip netns exec "$NS" "$PICOVM" run "$WORK/vm.conf" name=n1 \
		control=auto net.0.tap=pvt-p \
		"cmdline=picotest=net-bench:tx:1514:200000 picotest.patient" \
		serial=file:"$WORK/n1.out" 2>"$WORK/n1.err" </dev/null
	  echo $? >"$WORK/n1.status" ) &
	PIDS+=($!)
	pauses=0
	until_true 60 answers n1
	while [ ! -s "$WORK/n1.status" ]; do
		ctl n1 pause >/dev/null 2>&1 && pauses=$((pauses + 1))
		ctl n1 resume >/dev/null 2>&1
	done
	ended n1
	rx1=$(ip netns exec "$NS" cat /sys/class/net/pvt-p/statistics/rx_packets)
	info "net TX: $pauses pauses while the guest sent 200000 frames; the tap counted $((rx1 - rx0))"
	OUT=$WORK/n1.out
	check "net TX across pause/resume: the guest queued 200000 frames, status 0" \
		[ "$ST" = 0 -a -n "$(grep '^bench: frames=200000 ' "$OUT")" ]
	check "net TX across pause/resume: every frame reached the tap" [ $((rx1 - rx0)) = 200000 ]

	( timeout -k 3 120 ip netns exec "$NS" "$PICOVM" run "$WORK/vm.conf" name=n2 \
		control=auto net.0.tap=pvt-p net.0.mac=02:aa:bb:cc:dd:02 \
		"cmdline=picotest=net-echo picotest.patient" \
		serial=file:"$WORK/n2.out" 2>"$WORK/n2.err" </dev/null
	  echo $? >"$WORK/n2.status" ) &
	PIDS+=($!)
	until_true 60 grep -qs '^net-echo: up' "$WORK/n2.out"
	ip netns exec "$NS" "$PVNET" echo pvt-p 02:aa:bb:cc:dd:02 60 1514 \
		>"$WORK/n2.echo" 2>&1 &
	ep=$!; PIDS+=($ep)
	pauses=0
	while kill -0 $ep 2>/dev/null; do
		ctl n2 pause >/dev/null 2>&1 && pauses=$((pauses + 1))
		ctl n2 resume >/dev/null 2>&1
	done
	wait $ep
	ip netns exec "$NS" "$PVNET" send pvt-p 02:aa:bb:cc:dd:02 60 picotest-stop
	ended n2
	info "net echo: $pauses pauses; $(head -1 "$WORK/n2.echo")"
	OUT=$WORK/n2.out
	check "net RX+TX across pause/resume: 1455 frames of 60..1514 bytes all came back intact" \
		grep -q '^echo: sent=1455 ok=1455 bad=0 lost=0 ' "$WORK/n2.echo"
	check "net RX+TX across pause/resume: the guest got each once, status 0" \
		[ "$ST" = 0 -a -n "$(grep '^net-echo: frames=1455 .* rx_bad=0$' "$OUT")" ]
	ip netns del "$NS"
	NS=
else
	skip "net I/O across pause/resume" "needs root and iproute2 (a tap in a namespace)"
fi

# --- a stderr nobody reads --------------------------------------------------------
# picovm's stderr is a pipe (then a Unix stream socket, as systemd gives a
# service) that is full from the start and not read (tests/tools/fullpipe).
# The guest's boot-timer write makes the vCPU log a line: it must be
# dropped and counted, never waited for; the guest counts on, the control
# socket answers.  Once the stderr is read, the next message says how many
# were dropped.
FULLPIPE=$TOP/tests/build/fullpipe
for kind in pipe socket; do
	opt=; [ $kind = socket ] && opt=-s
	v=e-$kind p="stderr a full $kind"
	"$FULLPIPE" $opt 60 "$WORK/$v.err" -- "$PICOVM" run "$WORK/vm.conf" name=$v \
		control=auto serial=file:"$WORK/$v.out" >"$WORK/$v.fp" </dev/null &
	fpid=$!; PIDS+=($fpid)
	until_true 60 answers $v
	check "$p nobody reads: the guest counts on past its boot-timer log line" \
		until_true 60 counted_past $v 2
	OUT=$WORK/$v.stats
	ctl $v stats >"$OUT" 2>&1
	dropped=$(sed -n 's/^log.dropped = //p' "$OUT")
	info "$p: log.dropped = $dropped"
	check "$p: ctl stats counts the dropped log lines (log.dropped >= 1)" \
		[ "${dropped:-0}" -ge 1 ]
	kill -USR1 $fpid
	# Stop only once the pipe has room: a message written while it is
	# still full is dropped (and counted), as it should be.
	until_true 60 grep -qx drained "$WORK/$v.fp"
	ctl $v stop 30s >/dev/null 2>&1
	until_true 60 grep -qs '^status=' "$WORK/$v.fp"
	check "$p: ctl stop ends the VM with status 0" grep -qx 'status=0' "$WORK/$v.fp"
	check "$p, read again: the next message says how many were dropped" \
		grep -qE '^picovm: log: [1-9][0-9]* messages dropped: nobody read them$' "$WORK/$v.err"
	check "$p, read again: messages after it arrive" \
		grep -q 'stop: pressed the power button' "$WORK/$v.err"
done

# --- the same name twice; a stale socket; another user --------------------------
OUT=$WORK/dup.out
vm_run 30 "$OUT" run "$WORK/vm.conf" name=a1 control=auto
check "a second VM of the same name: status 2" [ $VM_STATUS -eq 2 ]
check "... saying a VM named a1 is already running" grep -q 'a VM named a1 is already running' "$OUT.err"
check "... and the first one is untouched" answers a1
"$POKE" stale "$RUN/s1.sock"
start s1
check "a stale socket is replaced" answers s1
# A stale socket of another uid (as a VM that dropped to sandbox.user may
# leave behind in a folder it cannot write) is replaced too.
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	"$POKE" stale "$RUN/s2.sock"
	chown nobody "$RUN/s2.sock"
	start s2
	check "a stale socket of another uid is replaced" answers s2
	ctl s2 kill >/dev/null 2>&1
	# A VM that runs as sandbox.user: root made its socket in root's
	# runtime folder, root controls it; a second start is refused; at its
	# end it cannot remove the socket (no write access to the folder as
	# nobody): it says so, `ls` skips it, ctl calls it stale, and the next
	# start of that name replaces it.
	start u1 sandbox.user=nobody
	check "sandbox.user: root controls the VM through control = auto" \
		[ "$(stat -c %u "$RUN/u1.sock")" = 0 -a -n "$(ctl u1 status | grep -x 'state = running')" ]
	vm_run 30 "$WORK/udup" run "$WORK/vm.conf" name=u1 control=auto
	check "sandbox.user: a second VM of the same name: status 2, already running" \
		[ $VM_STATUS -eq 2 -a -n "$(grep 'a VM named u1 is already running' "$WORK/udup.err")" ]
	ctl u1 stop 30s >/dev/null 2>&1
	ended u1
	check "sandbox.user: ctl stop ends it with status 0" [ "$ST" = 0 ]
	check "sandbox.user: the socket it could not remove is named in one line" \
		grep -q "control: cannot remove $RUN/u1.sock: Permission denied (as sandbox.user" "$WORK/u1.err"
	check "sandbox.user: picovm ls skips the stale socket" eval '! "$PICOVM" ls | grep -q "^u1 "'
	ctl u1 status >"$OUT" 2>"$OUT.err"; rc=$?
	check "sandbox.user: ctl to the stale socket: exit 1, says stale" \
		[ $rc -eq 1 -a -n "$(grep 'a stale socket: its VM is gone' "$OUT.err")" ]
	# A socket this user may not even connect to (another uid's, mode
	# 0600; root without CAP_DAC_OVERRIDE is such a user) may be live:
	# refused, naming its owner, and left alone.
	"$POKE" stale "$RUN/f1.sock"
	chown nobody "$RUN/f1.sock"
	if command -v setpriv >/dev/null; then
		timeout -k 3 30 setpriv --bounding-set -dac_override,-dac_read_search \
			"$PICOVM" run "$WORK/vm.conf" name=f1 control=auto timeout=5s \
			serial=none >/dev/null 2>"$WORK/f1.err" </dev/null
		VM_STATUS=$?
		check "another uid's socket this user cannot connect to: status 2, names its owner, left alone" \
			[ $VM_STATUS -eq 2 -a -n "$(grep "f1.sock belongs to uid $(id -u nobody)" "$WORK/f1.err")" \
			-a -S "$RUN/f1.sock" ]
	else
		skip "another uid's socket this user cannot connect to" "no setpriv"
	fi
	rm -f "$RUN/f1.sock" "$WORK/u1.status"
	start u1
	check "sandbox.user: the next start of the name replaces the stale socket" answers u1
	ctl u1 kill >/dev/null 2>&1
else
	skip "stale sockets of another uid, sandbox.user" "needs root and user nobody"
fi
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	asnobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
	chmod 755 "$WORK" "$XDG_RUNTIME_DIR"
	chmod 711 "$RUN"
	asnobody "$PICOVM" ctl "$RUN/a1.sock" status >"$OUT" 2>"$OUT.err"; rc=$?
	check "another user: cannot connect (socket mode 0600)" [ $rc -eq 1 -a \
		"$(stat -c %a "$RUN/a1.sock")" = 600 ]
	chmod 666 "$RUN/a1.sock"
	asnobody "$PICOVM" ctl "$RUN/a1.sock" status >"$OUT" 2>"$OUT.err"; rc=$?
	check "another user past the mode: refused by SO_PEERCRED" [ $rc -eq 1 -a \
		-n "$(grep '^error: permission denied' "$OUT.err")" -a ! -s "$OUT" ]
	chmod 600 "$RUN/a1.sock"
	chmod 700 "$RUN" "$XDG_RUNTIME_DIR" "$WORK"
else
	skip "another user is refused" "no user nobody or no setpriv"
fi

# --- picovm ls ---------------------------------------------------------------------
start l1
"$PICOVM" ls >"$OUT" 2>"$OUT.err"; rc=$?
check "ls: one line per running VM" [ $rc -eq 0 -a "$(wc -l <"$OUT")" = 3 \
	-a -n "$(grep -E '^a1 [0-9]+ running [0-9]+\.[0-9]{3}s$' "$OUT")" \
	-a -n "$(grep -E '^s1 [0-9]+ running ' "$OUT")" -a -n "$(grep -E '^l1 [0-9]+ running ' "$OUT")" ]

# --- kill, stop with a timeout, graceful stop --------------------------------------
ctl l1 kill >"$OUT" 2>"$OUT.err"; rc=$?
ended l1
check "kill: the reply comes when the VM is gone, status 137" [ $rc -eq 0 -a \
	"$(head -1 "$OUT")" = "status = 137" -a "$ST" = 137 ]
check "kill: the socket is removed" [ ! -e "$RUN/l1.sock" ]
start i1 cmdline=picotest=idle
until_true 60 grep -qs '^idle: waiting for the power button$' "$WORK/i1.out"
ctl i1 stop 60s >"$OUT" 2>"$OUT.err"; rc=$?
ended i1
check "stop: the idle guest (bench/fleet.sh's) wakes from hlt on the SCI, powers off, status 0" \
	[ $rc -eq 0 -a "$(head -1 "$OUT")" = "status = 0" -a "$ST" = 0 ]
start sp cmdline=picotest=spin
ctl sp stop 1s >"$OUT" 2>"$OUT.err"; rc=$?
ended sp
check "stop TIMEOUT on a guest that ignores the button: ended, 137" [ $rc -eq 0 -a \
	"$(head -1 "$OUT")" = "status = 137" -a "$ST" = 137 ]
ctl s1 stop >"$OUT" 2>"$OUT.err"; rc=$?
ended s1
check "stop: the guest powers off, status 0, reply after the end" [ $rc -eq 0 -a \
	"$(head -1 "$OUT")" = "status = 0" -a "$ST" = 0 -a \
	-n "$(grep -x 'count: power button' "$WORK/s1.out")" ]
check "stop: the socket is removed" [ ! -e "$RUN/s1.sock" ]
ctl a1 pause >/dev/null 2>&1
ctl a1 stop >"$OUT" 2>"$OUT.err"; rc=$?
ended a1
check "stop while paused: resumed, powers off, status 0" [ $rc -eq 0 -a "$ST" = 0 ]

# --- control = PATH, errors ----------------------------------------------------------
OUT=$WORK/path.out
vm_run 30 "$OUT" run "$WORK/vm.conf" control="$WORK/nodir/x.sock"
check "control = PATH in a missing folder: status 2" [ $VM_STATUS -eq 2 ]
: >"$WORK/file.sock"
vm_run 30 "$OUT" run "$WORK/vm.conf" control="$WORK/file.sock"
check "control = PATH naming a file: status 2, the file kept" [ $VM_STATUS -eq 2 -a -f "$WORK/file.sock" ]
vm_run 30 "$OUT" run "$WORK/vm.conf" cmdline=picotest=exit:7 control="$WORK/p.sock"
check "control = PATH: runs, removed at exit" [ $VM_STATUS -eq 7 -a ! -e "$WORK/p.sock" ]

# --- systemd notify ------------------------------------------------------------------
"$POKE" notify "$WORK/notify" 60 >"$WORK/notify.out" 2>&1 &
np=$!; PIDS+=($np)
until_true 60 grep -q listening "$WORK/notify.out"
NOTIFY_SOCKET=$WORK/notify vm_run 60 "$OUT" run "$WORK/vm.conf" cmdline=picotest=boottime
wait $np
check "notify: READY=1 at the boot-timer port, then STOPPING=1" \
	[ "$(grep -xE 'READY=1|STOPPING=1' "$WORK/notify.out" | tr '\n' ' ')" = "READY=1 STOPPING=1 " ]
check "notify: STATUS= lines" grep -qx 'STATUS=running' "$WORK/notify.out"

# --- the systemd template unit ---------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/bin/picovm|$PICOVM|g" "$TOP/contrib/systemd/picovm@.service" \
		>"$WORK/picovm@t1.service"
	(cd "$WORK" && systemd-analyze verify --man=no "$WORK/picovm@t1.service") \
		>"$WORK/verify.out" 2>&1; rc=$?
	OUT=$WORK/verify.out
	check "contrib/systemd/picovm@.service: systemd-analyze verify is silent" \
		[ $rc -eq 0 -a ! -s "$WORK/verify.out" ]
else
	skip "contrib/systemd/picovm@.service" "no systemd-analyze"
fi

# --- contrib/nomad/picovm.nomad.hcl against picovm's CLI, without Nomad ----------------
# Nomad is not installed here (not an open-source licence since 1.7), and
# no HCL parser either: nomad_render reads the job file's parts by their
# layout (awk: the template's <<-EOT heredoc, the args list, the
# destination and the timeouts), gives Nomad's variables test values
# (${NOMAD_TASK_DIR} = local/, as Nomad has it) and the client's install
# folder /srv/picovm a folder of stand-ins, then runs `picovm check` with
# the arguments picovm-task.sh gives `picovm run` (CONFIG, control=SOCKET,
# the rest), and the stop TIMEOUT as timeout= (`picovm ctl NAME stop`
# reads it with the config file's duration parser).
NW=$WORK/nomad
mkdir -p "$NW/local" "$NW/alloc/logs" "$NW/srv"
cp "$GUEST/test64.elf" "$NW/srv/vmlinux"	# stand-ins: check reads both
truncate -s 1M "$NW/srv/rootfs.ext4"
# nomad_render JOBFILE: writes $NW/local/vm.conf and $NW/args (one per
# line, rendered) and $NW/facts (destination, kill_timeout, memory MiB);
# false when a part is missing or a ${...} or {{ ... }} is left unrendered.
nomad_render() {
	awk -v task="$NW/local" -v alloc="$NW/alloc" -v srv="$NW/srv" \
		-v conf="$NW/local/vm.conf" -v args="$NW/args" -v facts="$NW/facts" '
		function render(s) {
			gsub(/\$\{NOMAD_TASK_DIR\}/, task, s)
			gsub(/\$\{NOMAD_JOB_NAME\}/, "picovm", s)
			gsub(/\$\{NOMAD_ALLOC_INDEX\}/, "0", s)
			gsub(/\{\{ *env "NOMAD_ALLOC_DIR" *\}\}/, alloc, s)
			gsub(/\/srv\/picovm\//, srv "/", s)
			if (s ~ /\$\{|\{\{/) bad = 1
			return s
		}
		/^ *args *= *\[ *$/ { inargs = 1; next }
		inargs && /^ *\] *$/ { inargs = 0; nargs++; next }
		inargs { a = $0; sub(/^ *"/, "", a); sub(/", *$/, "", a); print render(a) > args; next }
		/^ *data *= *<<-EOT *$/ { indoc = 1; ndoc++; next }
		indoc && /^ *EOT *$/ { indoc = 0; next }
		indoc { l = $0; sub(/^ */, "", l); print render(l) > conf; next }
		/^ *destination *= *"/ { d = $0; sub(/^[^"]*"/, "", d); sub(/".*/, "", d); print "destination " d > facts }
		/^ *kill_timeout *= *"/ { d = $0; sub(/^[^"]*"/, "", d); sub(/".*/, "", d); print "kill_timeout " d > facts }
		/^ *memory *= *[0-9]+/ { d = $0; sub(/^[^=]*= */, "", d); sub(/[^0-9].*/, "", d); print "memory " d > facts }
		END { exit !(nargs == 1 && ndoc == 1 && !bad) }' "$1"
}
fact() { sed -n "s/^$1 //p" "$NW/facts"; }
# seconds DURATION: 30s, 2m or 45 (s) in seconds
seconds() { case $1 in *m) echo $((${1%m} * 60));; *s) echo "${1%s}";; *) echo "$1";; esac; }
OUT=$NW/check.out
if nomad_render "$TOP/contrib/nomad/picovm.nomad.hcl" && mapfile -t NA <"$NW/args" &&
	[ ${#NA[@]} -ge 3 ]; then
	"$PICOVM" check "${NA[0]}" control="${NA[1]}" timeout="${NA[2]}" "${NA[@]:3}" \
		>"$OUT" 2>"$OUT.err"; rc=$?
	check "contrib/nomad: the rendered template and the task's args pass picovm check" \
		[ $rc -eq 0 -a "${NA[0]}" = "$NW/local/vm.conf" ]
	check "contrib/nomad: name=, control= and the stop timeout reach picovm" \
		has "$OUT" "name = picovm-0" "control = $NW/local/control.sock" "timeout = ${NA[2]}"
	check "contrib/nomad: the template's destination is the config the task runs" \
		[ "$NW/$(fact destination)" = "${NA[0]}" ]
	check "contrib/nomad: kill_timeout leaves the guest its stop timeout" \
		[ "$(seconds "$(fact kill_timeout)")" -gt "$(seconds "${NA[2]}")" ]
	mem=$(sed -n 's/^memory = \([0-9]*\)M$/\1/p' "$OUT")
	check "contrib/nomad: the task's memory covers the guest's and picovm's" \
		[ "${mem:-0}" -gt 0 -a "$(fact memory)" -gt "${mem:-0}" ]
	# The same render, one key misspelt: what makes the checks above able to fail.
	sed 's/^\( *\)disk\.0\.path = /\1disk.0.file = /' "$TOP/contrib/nomad/picovm.nomad.hcl" \
		>"$NW/bad.hcl"
	nomad_render "$NW/bad.hcl"
	"$PICOVM" check "${NA[0]}" control="${NA[1]}" >"$OUT" 2>"$OUT.err"; rc=$?
	check "contrib/nomad: a template with a key picovm does not know is refused (2)" \
		[ $rc -eq 2 -a -n "$(grep 'disk.0.file: unknown key' "$OUT.err")" ]
else
	fail "contrib/nomad" "picovm.nomad.hcl: no single args list and template heredoc, or a ... left unrendered: $(cat "$NW/args" 2>/dev/null | tr '\n' ' ')"
fi

# --- contrib/nomad/picovm-task.sh: SIGTERM becomes a graceful stop ----------------------
PICOVM=$PICOVM "$TOP/contrib/nomad/picovm-task.sh" "$WORK/vm.conf" "$WORK/task.sock" \
	30s serial=file:"$WORK/task.out" 2>"$WORK/task.err" </dev/null &
tp=$!
PIDS+=($tp)
until_true 60 answers "$WORK/task.sock"
until_true 60 grep -q '^count: 1$' "$WORK/task.out"
kill -TERM $tp
# The VM's timeout (100 s) bounds this; the watchdog only catches a hang.
until_true 110 eval '! kill -0 $tp 2>/dev/null'
wait $tp
echo $? >"$WORK/task.status"
OUT=$WORK/task.out
check "picovm-task.sh (Nomad): SIGTERM stops the guest gracefully, status 0" \
	[ "$(cat "$WORK/task.status")" = 0 -a -n "$(grep -x 'count: power button' "$WORK/task.out")" ]

# --- the control thread's own filter ---------------------------------------------------
if [ -x "$HOOKS" ]; then
	OUT=$WORK/hook.out
	PICOVM=$HOOKS PICOVM_TEST_VIOLATE=control:syscall vm_run 30 "$OUT" run \
		"$WORK/vm.conf" control=auto name=h1
	check "control thread: a forbidden call kills picovm (159, named)" [ $VM_STATUS -eq 159 \
		-a -n "$(grep 'sandbox: thread control made system call' "$OUT.err")" ]
fi
exit 0
