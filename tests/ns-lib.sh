# Shared by the tiers that make network namespaces (t-net.sh, t-passt.sh);
# source it after lib.sh.  The namespaces a tier adds to NSLIST and the
# background processes it adds to PIDS are removed at exit (also on
# SIGTERM, SIGINT, SIGHUP), with $WORK.
NSLIST=()
PIDS=()
cleanup() {
	local p n
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in "${NSLIST[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP	# so that cleanup runs on those too

# vm_wait: waits for the VM started in the background as $VM_PID
vm_wait() { wait "$VM_PID"; VM_STATUS=$?; }
# waitfor SECONDS COMMAND...: polls until the command succeeds
waitfor() {
	local end=$((SECONDS + $1))
	shift
	until "$@" 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# ns_new NAME: a fresh namespace NAME in $NS, lo up, removed at exit
ns_new() {
	NS=$1
	if ! ip netns add "$NS"; then
		fail "namespace $NS" "ip netns add failed"
		exit 0
	fi
	NSLIST+=("$NS")
	nx ip link set lo up
}
nx() { ip netns exec "$NS" "$@"; }
