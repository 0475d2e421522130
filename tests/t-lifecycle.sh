#!/usr/bin/env bash
# Lifecycle tier: how picovm starts and ends (issue 13), checked by what
# happens, never by how long it took: the system calls of a stop (strace),
# which processes exist and when, and what the next VM finds free.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXIT_ELF=$GUEST/exit.elf
require_vm lifecycle "$EXIT_ELF"
HAVE_STRACE=$(command -v strace >/dev/null && echo 1)
truncate -s 1M "$WORK/disk.img"

# --- The stop waits for completions, not for an idle slice ---
# The I/O thread's stop ends when the completions it is owed have arrived;
# an io_uring wait that ends in ETIME means it sat out a timeout instead.
C=$WORK/exitd.conf
conf "$C" kernel="$EXIT_ELF" memory=64M serial=stdout disk.0.path="$WORK/disk.img"
if [ -n "$HAVE_STRACE" ]; then
	OUT=$WORK/etime
	timeout -k 3 60 strace -f -qq -e trace=io_uring_enter -o "$OUT.trace" \
		"$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	st=$?
	check "stop: the smallest guest with a disk exits 0 under strace" test "$st" = 0
	check "stop: the I/O thread's io_uring waits saw the stop" \
		grep -q io_uring_enter "$OUT.trace"
	check "stop: no io_uring wait ended in a timeout (ETIME)" \
		sh -c "! grep -q ETIME '$OUT.trace'"
	# A disk the guest never wrote to is not flushed at the stop (a
	# device cache flush for nothing); t-blk checks that a written one is.
	timeout -k 3 60 strace -f -qq -e trace=fdatasync -o "$OUT.sync" \
		"$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	check "stop: no fdatasync of a disk the guest never wrote to (status $?)" \
		sh -c "! grep -q fdatasync '$OUT.sync'"
	# The descriptor scans (at start, at the sandbox) read /proc/self/fd
	# instead of asking about each number from 3 to 1023.
	timeout -k 3 60 strace -f -qq -e trace=fcntl -o "$OUT.fcntl" \
		"$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	n=$(grep -c 'F_GETFD' "$OUT.fcntl")
	info "fcntl(F_GETFD) calls from exec to exit: $n"
	check "sandbox: no descriptor-by-descriptor scan (fewer than 10 fcntl(F_GETFD))" test "$n" -lt 10
	# PIT reinjection off (vm/pit.h): one KVM_REINJECT_CONTROL, made by
	# the reaper, succeeding.
	# execve too: its line, the first, names picovm's main thread (the
	# CPUID thread's first ioctl may come before the main thread's).
	# An empty cache folder: the CPUID list is fetched (and cached).
	mkdir -p "$WORK/cc-empty"
	XDG_CACHE_HOME=$WORK/cc-empty timeout -k 3 60 strace -f -qq \
		-e trace=ioctl,execve,open,openat,close,mkdir,rename \
		-o "$OUT.ioctl" "$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	hp=$(awk '/KVM_REINJECT_CONTROL/ { print $1; exit }' "$OUT.ioctl")
	check "pit: KVM_REINJECT_CONTROL is called once" \
		test "$(grep -c KVM_REINJECT_CONTROL "$OUT.ioctl")" = 1
	check "pit: by the reaper, not by picovm's main process, and it succeeds" \
		test -n "$hp" -a "$hp" != "$(head -1 "$OUT.ioctl" | cut -d' ' -f1)" \
		-a -n "$(grep -E "^$hp .*= 0\$" "$OUT.ioctl")"
	# KVM_GET_SUPPORTED_CPUID (0.35-0.5 ms of host CPUID exits here) runs
	# on a thread of its own while the main thread builds the VM.
	main=$(head -1 "$OUT.ioctl" | cut -d' ' -f1)
	ct=$(awk '/KVM_GET_SUPPORTED_CPUID/ { print $1; exit }' "$OUT.ioctl")
	check "start-up: KVM_GET_SUPPORTED_CPUID is made once, by a thread other than the main one ($ct, main $main)" \
		test -n "$ct" -a "$ct" != "$main" -a "$(grep -c KVM_GET_SUPPORTED_CPUID "$OUT.ioctl")" = 1
	# It opens and closes nothing (the cache is written by the main
	# thread): the main thread closes the inherited descriptors' numbers
	# meanwhile, and a file of the thread's there was closed under it,
	# its number reused by the reaper's socket, which the thread then
	# wrote the cache into and closed (the reaper was lost, the cache
	# left empty: seen in CI, about 1 run in 15 under strace).
	n=$(awk -v t="$ct" '$1 == t && !/ioctl\(/ && !/resumed>/ && !/\+\+\+/' "$OUT.ioctl" | wc -l)
	check "start-up: the CPUID thread opens and closes no file ($n such calls)" \
		test -n "$ct" -a "$n" = 0
	check "start-up: the run with an empty cache wrote the cache (the main thread)" \
		test -s "$WORK/cc-empty/picovm/cpuid"
	# The next VM takes the list from the cache that run wrote.
	XDG_CACHE_HOME=$WORK/cc-empty timeout -k 3 60 strace -f -qq -e trace=ioctl \
		-o "$OUT.ioctl2" "$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	st=$?
	check "start-up: with the CPUID list cached, no KVM_GET_SUPPORTED_CPUID (status $st)" \
		test "$st" = 0 -a "$(grep -c KVM_GET_SUPPORTED_CPUID "$OUT.ioctl2")" = 0
	# /dev/kvm is opened and checked once: the config's limits, the
	# CPUID list and the VM all use that descriptor.
	timeout -k 3 60 strace -f -qq -e trace=open,openat -o "$OUT.open" \
		"$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	st=$?
	n=$(grep -c '"/dev/kvm"' "$OUT.open")
	check "start-up: /dev/kvm is opened once from exec to exit ($n, status $st)" \
		test "$n" = 1 -a "$st" = 0
	# Not before the guest runs (vm/pit.h): the call holds the PIT's
	# lock for up to two grace periods, and vCPU 0's first KVM_RUN takes
	# it.  Its line comes after the line where that KVM_RUN returned 0
	# (strace resumes the vCPU only after printing its return, and the
	# reaper waits for a byte the vCPU writes after it).
	read -r ran call < <(awk '
		/KVM_RUN/ && !vt { vt = $1 }
		vt && $1 == vt && / = 0$/ && !ran { ran = NR }
		/KVM_REINJECT_CONTROL/ && !call { call = NR }
		END { print ran + 0, call + 0 }' "$OUT.ioctl")
	check "pit: the reaper's call starts only after vCPU 0's first KVM_RUN returned (lines $ran, $call)" \
		test "$ran" -gt 0 -a "$call" -gt "$ran"
else
	skip "stop: no io_uring wait ended in a timeout (ETIME)" "strace is not installed"
fi

# A timer-driven guest still gets its PIT interrupts with reinjection off.
OUT=$WORK/pit
vm_run 60 "$OUT" run "$WORK/exitd.conf" kernel="$GUEST/test64.elf" cmdline=picotest=pit
check "pit: the guest's periodic PIT interrupts arrive (picotest=pit exits 0)" \
	test "$VM_STATUS" = 0 -a -n "$(grep -Ex 'pit: irqs=([5-9]|[1-9][0-9]+)' "$OUT")"

# The vCPUs are told to go before picovm's main thread hears of the PIT,
# and wait for it themselves (vm/pit.h: pit_gate_wait()): with the PIT
# made 300 ms late (a test hook), the guest still runs only after it;
# with the PIT reported failed, never.
HOOKS=$TOP/tests/build/picovm-hooks
conf "$WORK/pitg.conf" kernel="$EXIT_ELF" memory=64M
if [ -n "$HAVE_STRACE" ]; then
	OUT=$WORK/pit-slow
	PICOVM_TEST_PIT=slow timeout -k 3 60 strace -f -qq -e trace=ioctl -o "$OUT.ioctl" \
		"$HOOKS" run "$WORK/pitg.conf" >"$OUT" 2>"$OUT.err" </dev/null
	st=$?
	read -r made ran < <(awk '/KVM_CREATE_PIT2/ && !m { m = NR }
		/KVM_RUN/ && !r { r = NR } END { print m + 0, r + 0 }' "$OUT.ioctl")
	check "pit: made 300 ms late, the first KVM_RUN still comes after it (lines $made, $ran; status $st)" \
		test "$st" = 0 -a "$made" -gt 0 -a "$ran" -gt "$made"
else
	skip "pit: made 300 ms late, the first KVM_RUN still comes after it" "strace is not installed"
fi
OUT=$WORK/pit-fail
PICOVM_TEST_PIT=fail timeout -k 3 60 "$HOOKS" run "$WORK/pitg.conf" >"$OUT" 2>"$OUT.err" </dev/null
st=$?
check "pit: a failed PIT ends picovm with status 1, naming it, before the guest ran ($st)" \
	eval 'test "$st" = 1 && grep -q "KVM_CREATE_PIT2: No such device" "$OUT.err" &&
	      ! grep -q boot-timer "$OUT.err"'

# --- The reaper (vm/reaper.h) ---
SUBREAP=$TOP/tests/build/subreap
if ! make -s -C "$TOP/tests" build/subreap >"$WORK/make.log" 2>&1; then
	fail lifecycle-tools "make -C tests build/subreap failed: $(tail -c 600 "$WORK/make.log")"
	exit 0
fi
K=$GUEST/test64.elf
C=$WORK/vm.conf
conf "$C" kernel="$K" memory=64M serial=stdout

# reaped FILE: the subreap output shows exactly the one process picovm
# leaves, its reaper (which also made the PIT: vm/pit.h), ended by itself
# with status 0.
reaped() {
	[ "$(grep -c '^orphan ' "$1")" = 1 ] &&
		grep -qx 'orphan picovm-reaper status 0' "$1"
}

# The guest's exit status reaches the caller unchanged; the one process
# picovm leaves, its reaper, ends on its own once picovm has exited (the
# watchdog only catches one that never does).
for sb in on off; do
	OUT=$WORK/reap-$sb
	timeout -k 3 60 "$SUBREAP" "$PICOVM" run "$C" cmdline=picotest=exit:7 \
		sandbox=$sb >"$OUT" 2>"$OUT.err" </dev/null
	check "reaper (sandbox = $sb): the guest's exit status 7 reaches the caller" \
		grep -qx 'status 7' "$OUT"
	check "reaper (sandbox = $sb): exactly one reaper (no other child), ending by itself with status 0" \
		reaped "$OUT"
done

# A picovm killed with SIGKILL leaves no reaper behind either.
OUT=$WORK/reap-kill
timeout -k 3 60 "$SUBREAP" "$PICOVM" run "$C" cmdline=picotest=spin \
	>"$OUT" 2>"$OUT.err" </dev/null &
sr=$!
for _ in $(seq 200); do grep -q spinning "$OUT" && break; sleep 0.05; done
# timeout -> subreap -> picovm
kids() { local k; k=$(cat "/proc/$1/task/$1/children" 2>/dev/null); echo $k; }
# child_named PID COMM: PID's children called COMM.
child_named() {
	local p
	for p in $(kids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
	done
}
# stop_143 WHAT: SIGTERM to $vm, run under subreap writing $OUT, which
# prints picovm's status (then waits for the reaper): 143.
stop_143() {
	kill -TERM "$vm"
	for _ in $(seq 600); do grep -q '^status' "$OUT" && break; sleep 0.05; done
	check "$1: the first VM (SIGTERM) ends with status 143" grep -qx 'status 143' "$OUT"
}
# held PID: the descriptors PID holds as KINDxCOUNT words, sorted.
held() {
	local f
	for f in /proc/"$1"/fd/*; do readlink "$f"; done |
		sed 's/^socket:.*/socket/; s/^pipe:.*/pipe/; s/^anon_inode:kvm-vcpu:.*/kvm-vcpu/' |
		sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' '
}
sub=$(kids "$sr")
vm=${sub:+$(kids $sub)}
if [ -n "$vm" ] && grep -q spinning "$OUT"; then
	# While picovm runs, its reaper waits for picovm's end: it is never
	# a zombie left for picovm to reap, and picovm starts no other child.
	states=$(for p in $(kids $vm); do
		echo "$(cat "/proc/$p/comm" 2>/dev/null):$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)"
	done | sort | tr '\n' ' ')
	check "reaper: a running picovm's only child is its reaper, not a zombie ($states)" \
		sh -c "echo '$states' | grep -Eq '^picovm-reaper:[RS] \$'"
	kill -KILL $vm
	wait "$sr"
	check "reaper: SIGKILL to picovm: the caller sees status 137" grep -qx 'status 137' "$OUT"
	check "reaper: SIGKILL to picovm: its reaper ends by itself with status 0" reaped "$OUT"
else
	kill "$sr" 2>/dev/null
	wait "$sr"
	fail "reaper: SIGKILL to picovm" "the spinning guest did not start: $(tail -c 300 "$OUT.err")"
fi

# A VM restarted at once finds its disk image (locked while in use) and its
# tap (busy while attached) free: the reaper holds neither.  Both runs in a
# namespace of this test's own, with a tap made there.
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "pv-test-$$-reap" 2>/dev/null; then
	NS=pv-test-$$-reap
	trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"' EXIT
	ip netns exec "$NS" ip tuntap add dev pvreap0 mode tap
	# The first VM's reaper is held stopped (SIGSTOP) while the second
	# VM starts: whatever it holds is still held then, however quickly
	# it would otherwise have ended.
	OUT=$WORK/restart1
	timeout -k 3 60 ip netns exec "$NS" "$SUBREAP" "$PICOVM" run "$C" \
		cmdline=picotest=spin disk.0.path="$WORK/disk.img" \
		net.0.tap=pvreap0 >"$OUT" 2>"$OUT.err" </dev/null &
	sr=$!
	for _ in $(seq 200); do grep -q spinning "$OUT" && break; sleep 0.05; done
	sub=$(kids "$sr")
	vm=${sub:+$(kids $sub)}
	rp=${vm:+$(child_named "$vm" picovm-reaper)}
	if [ -n "$rp" ]; then
		kill -STOP "$rp"
		# What the reaper holds: its socket, the VM, the vCPUs; nothing
		# else (no disk, no tap, no stdout).
		h=$(held "$rp")
		check "reaper: holds only its socket, the VM and the vCPU ($h)" \
			test "$h" = "anon_inode:kvm-vmx1 kvm-vcpux1 socketx1 "
		stop_143 "restart at once"
		OUT=$WORK/restart2
		timeout -k 3 60 ip netns exec "$NS" "$PICOVM" run "$C" \
			cmdline=picotest=exit:0 disk.0.path="$WORK/disk.img" \
			net.0.tap=pvreap0 >"$OUT" 2>"$OUT.err" </dev/null
		VM_STATUS=$?
		check "restart at once: with the first reaper still there, the same disk and tap = NAME start again (status 0)" \
			test "$VM_STATUS" = 0
		kill -CONT "$rp"
		wait "$sr"
		check "restart at once: the first reaper ends by itself once resumed" \
			reaped "$WORK/restart1"
	else
		kill "$sr" 2>/dev/null
		wait "$sr"
		fail "restart at once" "no picovm-reaper found under the first VM: $(tail -c 300 "$OUT.err")"
	fi
	# net.N.tap = auto: the tap goes away with its last descriptor, which
	# waits for an RCU barrier; the reaper holds it, takes it down and
	# renames it when picovm stops (vm/reaper.h), so picovm's exit waits
	# for neither, and a VM of the same name started at once waits for
	# the name (net/tap.c).
	# spin_auto TAG NAME: a spinning VM called NAME with net.0.tap = auto
	# under subreap, writing $WORK/TAG; sets sr, vm and rp (its reaper).
	spin_auto() {
		OUT=$WORK/$1
		timeout -k 3 60 ip netns exec "$NS" "$SUBREAP" "$PICOVM" run "$C" \
			name="$2" cmdline=picotest=spin net.0.tap=auto \
			>"$OUT" 2>"$OUT.err" </dev/null &
		sr=$!
		for _ in $(seq 200); do grep -q spinning "$OUT" && break; sleep 0.05; done
		sub=$(kids "$sr")
		vm=${sub:+$(kids $sub)}
		rp=${vm:+$(child_named "$vm" picovm-reaper)}
	}
	# run_auto NAME: an exiting VM called NAME with net.0.tap = auto,
	# writing $OUT; sets VM_STATUS.
	run_auto() {
		timeout -k 3 60 ip netns exec "$NS" "$PICOVM" run "$C" name="$1" \
			cmdline=picotest=exit:0 net.0.tap=auto >"$OUT" 2>"$OUT.err" </dev/null
		VM_STATUS=$?
	}
	spin_auto auto1 reapauto
	if [ -n "$rp" ]; then
		h=$(held "$rp")
		check "tap = auto: the reaper holds its socket and one for the tap's ioctls, the VM, the vCPU and the tap ($h)" \
			test "$h" = "/dev/net/tunx1 anon_inode:kvm-vmx1 kvm-vcpux1 socketx2 "
		stop_143 "tap = auto"
		OUT=$WORK/auto2
		timeout -k 3 60 ip netns exec "$NS" strace -f -qq -e trace=execve,ioctl,exit_group \
			-o "$OUT.trace" "$PICOVM" run "$C" name=reapauto \
			cmdline=picotest=exit:0 net.0.tap=auto >"$OUT" 2>"$OUT.err" </dev/null
		VM_STATUS=$?
		check "tap = auto: a VM with the same name started at once creates its tap again (status 0)" \
			test "$VM_STATUS" = 0
		wait "$sr"
		check "tap = auto: the first reaper ends by itself" \
			reaped "$WORK/auto1"
		# The renaming is the reaper's: picovm's close of the tap then
		# is not its last.
		# picovm's main thread is the one that ran execve (the CPUID
		# thread's ioctls may come before the main thread's first).
		main=$(grep -m1 execve "$OUT.trace" | cut -d' ' -f1)
		read -r ren who ex < <(awk -v m="$main" '
			/SIOCSIFNAME/ && !ren { ren = NR; who = $1 }
			$1 == m && /exit_group/ && !ex { ex = NR }
			END { print ren + 0, who + 0, ex + 0 }' "$OUT.trace")
		check "tap = auto: another process (the reaper) renames the tap (line $ren; picovm's exit: line $ex)" \
			test "$ren" -gt 0 -a "$who" != "$main" -a "$ex" -gt 0
		# The wait for the name is bounded: with the first VM's reaper
		# held stopped (it cannot release the tap), a VM of the same
		# name gives up after about a second with a clear error; once
		# resumed, the reaper releases it and the next VM starts.
		spin_auto auto3 reapwait
		if [ -n "$rp" ]; then
			kill -STOP "$rp"
			stop_143 "tap = auto, reaper stopped"
			OUT=$WORK/auto4
			run_auto reapwait
			check "tap = auto: the name still held (reaper stopped): status 2, the tap named in use ($VM_STATUS)" \
				eval 'test "$VM_STATUS" = 2 && grep -q "reapwait-t0: it is in use" "$OUT.err"'
			kill -CONT "$rp"
			wait "$sr"
			OUT=$WORK/auto5
			run_auto reapwait
			check "tap = auto: once the reaper resumed, a VM of that name starts (status $VM_STATUS)" \
				test "$VM_STATUS" = 0
		else
			kill "$sr" 2>/dev/null
			wait "$sr"
			fail "tap = auto, reaper stopped" "no picovm-reaper found under the VM: $(tail -c 300 "$OUT.err")"
		fi
		left=$(ip netns exec "$NS" ip -o link show | grep -Ec 'reapauto-t0|pvr[0-9]' || true)
		info "taps left in the namespace right after the runs: $left (the second reaper may still be ending)"
	else
		kill "$sr" 2>/dev/null
		wait "$sr"
		fail "tap = auto" "no picovm-reaper found under the VM: $(tail -c 300 "$OUT.err")"
	fi
else
	skip "restart at once: disk and tap are free" "needs root and iproute2 (a network namespace and a tap)"
fi

# --- serial = none: no console thread ---
# With no output, no input and the UART dropping what the guest writes,
# a console thread would have nothing to move (vm/vmm.c): picovm does not
# start one.  (With serial = stdout it does: t-sandbox checks its filter.)
OUT=$WORK/noserial
timeout -k 3 60 "$PICOVM" run "$C" cmdline=picotest=spin serial=none \
	>"$OUT" 2>"$OUT.err" </dev/null &
to=$!
vm=
for _ in $(seq 200); do
	vm=$(kids "$to")
	[ -n "$vm" ] && grep -qsx vcpu0 /proc/"$vm"/task/*/comm && break
	sleep 0.05
done
names=$(cat /proc/"$vm"/task/*/comm 2>/dev/null | sort | tr '\n' ' ')
[ -n "$vm" ] && kill -TERM "$vm"
wait "$to"
st=$?
check "serial = none: picovm runs no console thread (threads: $names; status $st)" \
	sh -c "echo '$names' | grep -qw vcpu0 && ! echo '$names' | grep -qw console && test $st = 143"
# The same VM has no virtio device: nothing for an I/O thread to serve,
# so picovm starts none (vm/iothread.h; with a disk it does: t-sandbox).
check "no virtio device: picovm runs no io thread (threads: $names; status $st)" \
	sh -c "echo '$names' | grep -qw vcpu0 && ! echo '$names' | grep -qw io && test $st = 143"

# --- The sandbox's descriptor cap leaves room for what picovm opens later ---
# RLIMIT_NOFILE = the highest descriptor open at the sandbox + 1 + 16
# (seccomp/sandbox.h): the control socket's 8 clients and its refusal fit.
OUT=$WORK/nofile
timeout -k 3 60 "$PICOVM" run "$C" cmdline=picotest=spin control="$WORK/c.sock" \
	>"$OUT" 2>"$OUT.err" </dev/null &
to=$!
for _ in $(seq 200); do grep -q spinning "$OUT" && break; sleep 0.05; done
vm=$(kids "$to")
if [ -n "$vm" ] && grep -q spinning "$OUT"; then
	highest=$(ls "/proc/$vm/fd" | sort -n | tail -1)
	limit=$(awk '/^Max open files/ { print $4 }' "/proc/$vm/limits")
	info "sandboxed picovm: highest descriptor $highest, RLIMIT_NOFILE $limit"
	check "sandbox: RLIMIT_NOFILE leaves room for 9 more descriptors (control clients), at most 16" \
		test $((limit - highest - 1)) -ge 9 -a $((limit - highest - 1)) -le 16
	kill -TERM "$vm"
fi
wait "$to"
check "sandbox: the VM with the control socket ends on SIGTERM with status 143" test $? = 143
