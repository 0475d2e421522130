# Helpers of the tiers that drive VMs through their control socket
# (t-control.sh, t-snapshot-control.sh); sourced after lib.sh.  A VM's
# output is in $WORK/NAME.out, its exit status in $WORK/NAME.status.

# Background VMs (add their subshell's pid), killed at exit with $WORK
# and the network namespace $NS if a tier made one.
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# ended NAME [SECS]: waits for the VM to end (watchdog SECS, default 60);
# sets ST.
ended() {
	until_true "${2:-60}" test -s "$WORK/$1.status"
	ST=$(cat "$WORK/$1.status" 2>/dev/null)
}
ctl() { timeout -k 3 60 "$PICOVM" ctl "$@"; }
# last_count NAME: the last `count: N` the guest printed.
last_count() { grep -a '^count: [0-9]*$' "$WORK/$1.out" | tail -1 | cut -d' ' -f2; }
counted_past() { local n; n=$(last_count "$1"); [ -n "$n" ] && [ "$n" -gt "$2" ]; }
answers() { ctl "$1" status >/dev/null 2>&1; }
state_is() { ctl "$1" status 2>/dev/null | grep -qx "state = $2"; }
# console_drained NAME: picovm says no guest output waits to be written.
console_drained() { ctl "$1" stats 2>/dev/null | grep -qx 'console.pending = 0'; }
