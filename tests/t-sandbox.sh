#!/usr/bin/env bash
# The sandbox, on by default: every thread filtered and without
# capabilities; each thread role dies on a call outside its list; argument
# filters hold; the io_uring ring refuses what it was not set up for;
# sandbox.user / sandbox.chroot work as root and fail clearly otherwise.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOOKS=$TOP/tests/build/picovm-hooks
if [ ! -x "$PICOVM" ] || [ ! -x "$HOOKS" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail sandbox "picovm, tests/build/picovm-hooks or the guests are not built"
	exit 0
fi
C=$WORK/vm.conf
head -c 1M /dev/zero >"$WORK/disk.img"
conf "$C" kernel="$GUEST/test64.elf" memory=64M vcpus=2 cmdline=picotest=spin \
	disk.0.path="$WORK/disk.img" timeout=90s

# --- every thread of a running VM -----------------------------------------
"$PICOVM" run "$C" >"$WORK/spin.out" 2>"$WORK/spin.err" </dev/null &
pid=$!
until_true 60 grep -qs spinning "$WORK/spin.out"
threads=0 bad=""
for t in /proc/$pid/task/*; do
	name=$(cat "$t/comm")
	case $name in kvm-*) continue ;; esac	# KVM's own kernel workers
	threads=$((threads + 1))
	st=$(cat "$t/status")
	for want in "Seccomp:	2" "NoNewPrivs:	1" "CapEff:	0000000000000000" \
		"CapPrm:	0000000000000000" "CapBnd:	0000000000000000" \
		"CapAmb:	0000000000000000"; do
		grep -qF "$want" <<<"$st" || bad="$bad $name:${want%%:*}"
	done
	names="${names:-} $name"
done
kill "$pid"; wait "$pid"
check "sandbox: every thread has a filter, NO_NEW_PRIVS and no capabilities (threads:$names)" \
	test -z "$bad" -a "$threads" -ge 5
check "sandbox: threads are named picovm, vcpu0, vcpu1, io, console" \
	test "$(tr ' ' '\n' <<<"$names" | sort | tr '\n' ' ')" = " console io picovm vcpu0 vcpu1 "

# --- each role dies on a forbidden call, with the documented line and status
# Every vCPU breaks its filter; which one the kernel kills first depends on
# scheduling, so the vcpu line may name any vcpuN (an ERE; the others are
# literal names).
for role in picovm:main 'vcpu[0-9]+:vcpu' io:io console:console; do
	name=${role%%:*} r=${role#*:}
	PICOVM_TEST_VIOLATE=$r:syscall timeout -k 3 20 "$HOOKS" run "$C" >/dev/null 2>"$WORK/v.err" </dev/null
	st=$?
	check "sandbox: $r thread: socket() kills picovm with status 159" test "$st" = 159
	check "sandbox: $r thread: the log line names the thread and call 41" grep -qxE \
		"picovm: sandbox: thread $name made system call 41, which its seccomp filter forbids; stopping" "$WORK/v.err"
done
for v in vcpu:mmap-exec io:mmap-exec picovm:mmap-exec vcpu:ioctl; do
	r=${v%%:*}; [ "$r" = picovm ] && r=main
	PICOVM_TEST_VIOLATE=$r:${v#*:} timeout -k 3 20 "$HOOKS" run "$C" >/dev/null 2>"$WORK/v.err" </dev/null
	st=$?
	check "sandbox: argument filter: $v is refused (status 159)" test "$st" = 159
done

# --- the io_uring ring ----------------------------------------------------
PICOVM_TEST_URING=1 timeout -k 3 20 "$HOOKS" run "$C" cmdline=picotest=hello >/dev/null 2>"$WORK/u.err" </dev/null
check "io_uring: an operation on an unregistered file fails (EACCES)" \
	grep -qx "picovm: io_uring test: unregistered file: res=-13" "$WORK/u.err"
check "io_uring: an opcode outside the ring's list fails (EACCES)" \
	grep -qx "picovm: io_uring test: opcode outside the list: res=-13" "$WORK/u.err"

# --- sandbox.user and sandbox.chroot ---------------------------------------
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$WORK/jail"
	"$PICOVM" run "$C" sandbox.user=nobody "sandbox.chroot=$WORK/jail" \
		>"$WORK/jail.out" 2>"$WORK/jail.err" </dev/null &
	pid=$!
	until_true 60 grep -qs spinning "$WORK/jail.out"
	uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' /proc/$pid/status)
	groups=$(awk '/^Groups:/ {print $2}' /proc/$pid/status)
	root=$(readlink /proc/$pid/root)
	kill "$pid"; wait "$pid"
	nobody=$(id -u nobody)
	check "sandbox.user=nobody: every uid is nobody's ($uid)" test "$uid" = "$nobody$nobody$nobody$nobody"
	check "sandbox.user: no supplementary groups" test -z "$groups"
	check "sandbox.chroot: the process root is the jail ($root)" test "$root" = "$WORK/jail"
	check "sandbox.user/chroot: the guest ran" grep -q spinning "$WORK/jail.out"
	# Without the privilege to switch: a clear error, not a half-sandbox.
	if command -v setpriv >/dev/null; then
		setpriv --bounding-set=-setuid,-setgid --inh-caps=-setuid,-setgid \
			timeout -k 3 20 "$PICOVM" run "$C" sandbox.user=nobody >/dev/null 2>"$WORK/nopriv.err" </dev/null
		st=$?
		check "sandbox.user without CAP_SETUID: status 1" test "$st" = 1
		check "sandbox.user without CAP_SETUID: says why" grep -q "sandbox.user: cannot switch to uid" "$WORK/nopriv.err"
		setpriv --bounding-set=-sys_chroot,-sys_admin --inh-caps=-sys_chroot,-sys_admin \
			timeout -k 3 20 "$PICOVM" run "$C" "sandbox.chroot=$WORK/jail" >/dev/null 2>"$WORK/nochroot.err" </dev/null
		st=$?
		check "sandbox.chroot without CAP_SYS_CHROOT: status 1" test "$st" = 1
		check "sandbox.chroot without CAP_SYS_CHROOT: says why" grep -q "sandbox.chroot: cannot enter" "$WORK/nochroot.err"
	else
		skip "sandbox.user/chroot without privilege" "setpriv (util-linux) is not installed"
	fi
	timeout -k 3 20 "$PICOVM" run "$C" sandbox.user=no-such-user-here >/dev/null 2>"$WORK/nouser.err" </dev/null
	check "sandbox.user: an unknown user is a clear error" grep -q "sandbox.user: no user 'no-such-user-here'" "$WORK/nouser.err"
else
	skip "sandbox.user/chroot" "the tests must run as root"
fi

# --- sandbox = off ---------------------------------------------------------
timeout -k 3 20 "$PICOVM" run "$C" sandbox=off cmdline=picotest=hello >/dev/null 2>"$WORK/off.err" </dev/null
check "sandbox = off warns on every start" grep -q "warning: sandbox = off" "$WORK/off.err"
