#!/bin/sh
# The task of contrib/nomad/picovm.nomad.hcl (any supervisor that stops its
# task with SIGTERM can use it): runs one VM from CONFIG with its control
# socket at SOCKET, and turns the supervisor's SIGTERM into a graceful stop
# (`picovm ctl SOCKET stop TIMEOUT`: the guest is asked to shut down and
# ended after TIMEOUT).  The exit status is picovm's.
#   picovm-task.sh CONFIG SOCKET TIMEOUT [key=value ...]
set -u
[ $# -ge 3 ] || { echo "usage: picovm-task.sh CONFIG SOCKET TIMEOUT [key=value ...]" >&2; exit 2; }
PICOVM=${PICOVM:-picovm}
conf=$1 sock=$2 timeout=$3
shift 3
"$PICOVM" run "$conf" control="$sock" "$@" &
vm=$!
stopped=0
trap 'stopped=1; "$PICOVM" ctl "$sock" stop "$timeout" >/dev/null || kill -TERM $vm' TERM INT
wait $vm
st=$?
# A wait cut short by the trap returns 128+signal: the VM's own status
# comes from waiting for it again (it is gone once `ctl stop` returned).
[ $stopped = 1 ] && { wait $vm; st=$?; }
exit $st
