#!/usr/bin/env bash
# The gdb stub (gdb/, `gdb = unix:PATH | 127.0.0.1:PORT`, `gdb.wait`):
# Debian's gdb in batch mode against the test guest (guest/t_gdb.c), and
# a hostile peer (tests/tools/gdbpoke) that must never stop the VM; and
# kgdb's line, `serial.1` (COM2), driven by the test guest.
#
# This build machine's KVM (kvm_pvm: nested, page-table based) runs guest
# CPL3 code natively and reports no debug exit for it (breakpoints,
# watchpoints and single-steps there reach the guest instead), and its
# CPL0 emulator neither emulates int3 nor checks data breakpoints.  The
# checks that need those run where /sys/module/kvm_pvm is absent and are
# skipped here, saying so; hardware breakpoints and single-steps in the
# guest's CPL0 code work here and are checked.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ELF=$GUEST/test64.elf
POKE=$TOP/tests/build/gdbpoke
if [ ! -c /dev/kvm ] || [ ! -x "$PICOVM" ] || [ ! -f "$ELF" ]; then
	skip gdb "needs /dev/kvm, ./picovm and guest/build/test64.elf"
	exit 0
fi
if ! command -v gdb >/dev/null; then
	skip gdb "gdb is not installed (apt-get install gdb)"
	exit 0
fi
if ! make -s -C "$TOP/tests" "build/gdbpoke" >"$WORK/make.log" 2>&1; then
	fail "gdb: build gdbpoke" "$(tail -c 400 "$WORK/make.log")"
	exit 0
fi
PVM_WHY=""
[ -d /sys/module/kvm_pvm ] && PVM_WHY="this host's KVM (kvm_pvm, nested) reports no debug exit for guest code at CPL3 and does not emulate int3 or data breakpoints at CPL0"

# start_vm OUT picovm-run-arguments...: in the background, hard timeout;
# VM_PID is its pid, OUT.rc gets its exit status.
start_vm() {
	local out=$1; shift
	( timeout -k 3 90 "$PICOVM" run "$@" >"$out" 2>"$out.err" </dev/null
	  echo $? >"$out.rc" ) &
	VM_PID=$!
}
# wait_vm OUT: waits for it; VM_STATUS is its exit status.
wait_vm() {
	wait "$VM_PID"
	VM_STATUS=$(cat "$1.rc" 2>/dev/null || echo none)
}
# wait_for FILE PATTERN: until FILE holds a line matching PATTERN (at most
# 60 s: an upper bound for "it happened at all", not a verdict on time).
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# wait_path TEST PATH: until `test TEST PATH` holds (at most 60 s).
wait_path() {
	local i
	for ((i = 0; i < 600; i++)); do
		test "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}
wait_sock() { wait_path -S "$1"; }
# gdb_batch OUT COMMAND...: gdb in batch mode on the guest's ELF.
gdb_batch() {
	local out=$1; shift
	local args=() c
	for c in "$@"; do args+=(-ex "$c"); done
	timeout -k 3 90 gdb -batch -nx -ex 'set pagination off' \
		-ex 'set confirm off' "${args[@]}" "$ELF" >"$out" 2>&1
}
# A free loopback port, or a bind failure picovm reports (status 2).
port() { echo $((20000 + (RANDOM * 7 + $$) % 40000)); }

base=(kernel="$ELF" memory=64M)

# ---- 1. gdb.wait, a unix socket: the guest's first instruction, registers,
# memory, a hardware breakpoint and single-steps in CPL0 guest code, the
# exit status.
SOCK=$WORK/g1.sock
conf "$WORK/g1.conf" "${base[@]}" cmdline=picotest=gdb serial="file:$WORK/g1.serial" \
	gdb="unix:$SOCK" gdb.wait=on timeout=60s
start_vm "$WORK/g1.out" "$WORK/g1.conf"
wait_sock "$SOCK" && sock_seen=yes || sock_seen=no
entry=$(readelf -h "$ELF" | sed -n 's/.*Entry point address: *\(0x[0-9a-f]*\).*/\1/p')
gdb_batch "$WORK/g1.gdb" "target remote $SOCK" 'info registers rip' 'x/16xb $pc' \
	'set $old = $rbx' 'set $rbx = 0x1234abcd' 'p/x $rbx' 'set $rbx = $old' \
	'stepi' 'info registers rip' 'stepi' 'info registers rip' \
	'p gdb_status' 'set var gdb_status = 42' 'p gdb_status' \
	'hbreak rt_trap' 'continue' 'bt 2' 'delete' 'info threads' 'continue'
gdb_batch "$WORK/g1.file" 'x/16xb startup_64'	# the same bytes, from the file
wait_vm "$WORK/g1.out"
OUT=$WORK/g1.gdb
check "gdb: stops at the guest's first instruction (gdb.wait)" \
	grep -qE "^rip +$entry " "$WORK/g1.gdb"
check "gdb: the target description is x86-64 (gdb names the entry's source)" \
	grep -q "startup_64 () at rt/head.S" "$WORK/g1.gdb"
check "gdb: a register written reads back (P/G)" grep -q '^\$1 = 0x1234abcd' "$WORK/g1.gdb"
rips=$(grep -E '^rip ' "$WORK/g1.gdb" | awk '{print $2}' | tr '\n' ' ')
check "gdb: single-steps move one instruction at a time (CPL0 code: $rips)" \
	grep -qE "^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <startup_64\+1>" "$WORK/g1.gdb"
grep -A1 '<startup_64>:' "$WORK/g1.gdb" >"$WORK/g1.mem"
grep -A1 '<startup_64>:' "$WORK/g1.file" >"$WORK/g1.filemem"
check "gdb: guest memory reads as the ELF's bytes (m, virtual addresses)" \
	eval 'grep -q "startup_64>:" "$WORK/g1.mem" && cmp -s "$WORK/g1.mem" "$WORK/g1.filemem"'
check "gdb: guest memory written (M) reads back" grep -q '^\$3 = 42' "$WORK/g1.gdb"
check "gdb: a hardware breakpoint in CPL0 guest code is hit (Z1)" \
	grep -qE '^Breakpoint [0-9]+, rt_trap ' "$WORK/g1.gdb"
check "gdb: the backtrace from it unwinds into the trap entry" \
	grep -q 'in trap_common () at rt/traps.S' "$WORK/g1.gdb"
check "gdb: continue to the exit port's status (W)" \
	grep -q 'exited with code 052' "$WORK/g1.gdb"
OUT=$WORK/g1.out
check "gdb: picovm exits with the status gdb wrote into the guest (42)" \
	test "$VM_STATUS" = 42
check "gdb: the guest saw the write" grep -q 'status=42' "$WORK/g1.serial"
check "gdb: the socket is there while the VM runs and removed at exit" \
	test "$sock_seen" = yes -a ! -e "$SOCK"

# ---- 2. Breakpoints, watchpoints and steps in CPL3 code (the test
# guest's own), with the guest's int3 system calls handed back to it.
if [ -n "$PVM_WHY" ]; then
	for what in "a software breakpoint in CPL3 guest code is hit (Z0)" \
		"the guest's own int3s run on while a software breakpoint is set" \
		"a hardware breakpoint in CPL3 guest code is hit (Z1)" \
		"a single-step in CPL3 code" \
		"a watchpoint on a variable written at CPL3 (Z2)"; do
		skip "gdb: $what" "$PVM_WHY"
	done
else
	SOCK=$WORK/g2.sock
	conf "$WORK/g2.conf" "${base[@]}" cmdline=picotest=gdb \
		serial="file:$WORK/g2.serial" gdb="unix:$SOCK" gdb.wait=on timeout=60s
	start_vm "$WORK/g2.out" "$WORK/g2.conf"
	wait_sock "$SOCK"
	gdb_batch "$WORK/g2.gdb" "target remote $SOCK" 'break gdb_mark' 'continue' \
		'p i' 'continue' 'p i' 'delete' 'hbreak gdb_mark' 'continue' 'p i' \
		'delete' 'stepi' 'p $pc != gdb_mark' 'watch gdb_counter' 'continue' \
		'delete' 'continue'
	wait_vm "$WORK/g2.out"
	OUT=$WORK/g2.gdb
	check "gdb: a software breakpoint in CPL3 guest code is hit (Z0)" \
		grep -qE '^Breakpoint 1, gdb_mark \(i=0\)' "$WORK/g2.gdb"
	check "gdb: the guest's own int3s run on while a software breakpoint is set" \
		grep -qE '^Breakpoint 1, gdb_mark \(i=1\)' "$WORK/g2.gdb"
	check "gdb: a hardware breakpoint in CPL3 guest code is hit (Z1)" \
		grep -qE '^Breakpoint 2, gdb_mark \(i=2\)' "$WORK/g2.gdb"
	check "gdb: a single-step in CPL3 code" grep -q '^\$4 = 1' "$WORK/g2.gdb"
	check "gdb: a watchpoint on a variable written at CPL3 (Z2)" \
		grep -qE '^Hardware watchpoint 3: gdb_counter' "$WORK/g2.gdb"
	check "gdb: the guest ends as without gdb" grep -q 'counter=15 status=7' \
		"$WORK/g2.serial"
fi

# ---- 3. 4 vCPUs on a loopback port, gdb attached to a running guest:
# Ctrl-C stops all, every vCPU is a thread, a detach lets the guest run on.
PORT=$(port)
conf "$WORK/g3.conf" "${base[@]}" cmdline=picotest=gdb-smp vcpus=4 \
	serial="file:$WORK/g3.serial" gdb="127.0.0.1:$PORT" timeout=60s
start_vm "$WORK/g3.out" "$WORK/g3.conf"
if wait_for "$WORK/g3.serial" 'gdb-smp: up=4'; then
	timeout -k 3 90 gdb -batch -nx -ex 'set pagination off' -ex 'set confirm off' \
		-ex "target remote 127.0.0.1:$PORT" -ex "shell touch $WORK/g3.cont" \
		-ex continue -ex 'info threads' \
		-ex 'set var gdb_release = 1' -ex detach "$ELF" >"$WORK/g3.gdb" 2>&1 &
	GDB_PID=$!	# timeout's; gdb is its child
	# Ctrl-C once gdb has let the guest run (again if it got lost).
	for ((n = 0; n < 3; n++)); do
		wait_path -e "$WORK/g3.cont" || break
		kill -INT $(pgrep -P "$GDB_PID" -x gdb) 2>/dev/null
		wait_for "$WORK/g3.gdb" 'received signal SIGINT' && break
	done
	wait "$GDB_PID"
fi
wait_vm "$WORK/g3.out"
OUT=$WORK/g3.gdb
check "gdb: Ctrl-C stops a running guest of 4 vCPUs" \
	grep -q 'received signal SIGINT' "$WORK/g3.gdb"
check "gdb: each of the 4 vCPUs is a thread" \
	test "$(grep -cE '^\*? +[1-4] +Thread [1-4] \(vCPU [0-3]\)' "$WORK/g3.gdb")" = 4
check "gdb: detach" grep -q 'Inferior 1 (Remote target) detached' "$WORK/g3.gdb"
OUT=$WORK/g3.out
check "gdb: after the detach the guest runs on and exits (status 7)" \
	test "$VM_STATUS" = 7
check "gdb: the guest saw gdb's write before it ran on" \
	grep -q 'gdb-smp: released' "$WORK/g3.serial"

# ---- 4. kill
SOCK=$WORK/g4.sock
conf "$WORK/g4.conf" "${base[@]}" cmdline=picotest=gdb serial=none \
	gdb="unix:$SOCK" gdb.wait=on timeout=60s
start_vm "$WORK/g4.out" "$WORK/g4.conf"
wait_sock "$SOCK"
gdb_batch "$WORK/g4.gdb" "target remote $SOCK" 'kill'
wait_vm "$WORK/g4.out"
OUT=$WORK/g4.out
check "gdb: kill ends the VM with status 137" test "$VM_STATUS" = 137

# ---- 5. A hostile peer on a running guest (2 vCPUs): every packet answered
# or dropped, the VM never stops for good, then a real gdb still works.
PORT=$(port)
conf "$WORK/g5.conf" "${base[@]}" cmdline=picotest=gdb-smp vcpus=2 \
	serial="file:$WORK/g5.serial" gdb="127.0.0.1:$PORT" timeout=60s
start_vm "$WORK/g5.out" "$WORK/g5.conf"
wait_for "$WORK/g5.serial" 'gdb-smp: up=2'
P=$WORK/g5.poke
"$POKE" "$PORT" 'raw:$g#00' byte 'raw:$g#67' byte wait 'pkt:m' \
	'pkt:m0,ffffffffffffffff' 'pkt:mffff800000000000,10' 'pkt:m7fffffff000,10' \
	'pkt:m11111111111111111,1' 'pkt:M0fffffff0,4:00000000' 'pkt:M100000,8:00' \
	big:9000 byte 'pkt:Z9,0,1' 'pkt:Z2,1001,3' 'pkt:Z1,1000,8' 'pkt:z0,123,1' \
	'pkt:G00' 'pkt:P1ff=00' 'pkt:p99' 'pkt:Hg9999' 'pkt:T0' \
	'pkt:qThreadExtraInfo,63' 'pkt:qXfer:features:read:target.xml:ffffffff,10' \
	'pkt:qXfer:features:read:other.xml:0,10' 'pkt:vCont;t' 'raw:\x03' \
	rand:20000 >"$P" 2>&1
kill -0 "$VM_PID" 2>/dev/null && alive1=yes || alive1=no
"$POKE" "$PORT" 'pkt:qSupported' 'raw:$m1000,4' >>"$P" 2>&1	# gone mid-packet
"$POKE" "$PORT" 'raw:$vCont;c#a8' 'raw:$m10' >>"$P" 2>&1	# gone while running
kill -0 "$VM_PID" 2>/dev/null && alive2=yes || alive2=no
gdb_batch "$WORK/g5.gdb" "target remote 127.0.0.1:$PORT" 'p gdb_release' \
	'set var gdb_release = 1' 'detach'
wait_vm "$WORK/g5.out"
OUT=$P
mapfile -t R <"$P"
check "gdb hostile: a bad checksum gets '-', a good one '+' and the registers" \
	test "${R[*]:0:3}" = "- + <1200 bytes>"
# m: no argument, a huge length (capped at 2048 bytes), unmapped, non-
# canonical, 17 digits; M: outside RAM, data shorter than its length;
# a 9000-byte packet ('-'); Z/z: unknown type, misaligned watch, hbreak of
# length 8, removing what is not there; G, P, p of no register; H, T,
# qThreadExtraInfo of no thread; qXfer past the end, of another file;
# vCont with an unknown action.
want="E01 <4096 bytes> E0e E0e E01 E0e E01 - E01 E16 E16 E02 E16 E16 E16 E03 E03 E03 l E02 E01"
got="${R[*]:3:21}"
check "gdb hostile: malformed packets, huge lengths, addresses outside RAM each answered ($got)" \
	test "$got" = "$want"
check "gdb hostile: the VM keeps running through garbage and a mid-packet disconnect" \
	test "$alive1$alive2" = yesyes
check "gdb hostile: a real gdb attaches afterwards" \
	eval 'grep -q "^\\\$1 = 0" "$WORK/g5.gdb" && grep -q "Remote target) detached" "$WORK/g5.gdb"'
OUT=$WORK/g5.out
check "gdb hostile: the guest runs on to its end (status 7)" test "$VM_STATUS" = 7

# ---- 6. Configuration errors
for bad in "10.0.0.1:1234" "0.0.0.0:1234" "127.0.0.1:0" "127.0.0.1:70000" \
	"localhost:1234" "unix:" "tcp::1234"; do
	conf "$WORK/bad.conf" "${base[@]}" gdb="$bad"
	vm_run 20 "$WORK/bad.out" check "$WORK/bad.conf"
	OUT=$WORK/bad.out
	check "gdb config: '$bad' refused (status 2, says what is expected)" \
		eval 'test "$VM_STATUS" = 2 && grep -q "gdb: .*expected .*\(loopback\|unix:PATH\)" "$WORK/bad.out.err"'
done
conf "$WORK/path.conf" "${base[@]}" cmdline=picotest=exit:0 serial=none \
	gdb="unix:$WORK/nodir/x.sock"
vm_run 20 "$WORK/path.out" run "$WORK/path.conf"
OUT=$WORK/path.out
check "gdb config: a socket in a missing folder is status 2" \
	eval 'test "$VM_STATUS" = 2 && grep -q "gdb: .*No such file or directory" "$OUT.err"'

# ---- 6b. A restored VM debugged from its first instruction (restore may
# override gdb and gdb.wait).
conf "$WORK/s.conf" kernel="$ELF" memory=16M vcpus=2 cmdline=picotest=snap:2:1 \
	serial=none snapshot.path="$WORK/snap" timeout=30s
vm_run 40 "$WORK/s0.out" run "$WORK/s.conf"
SOCK=$WORK/s.sock
( timeout -k 3 60 "$PICOVM" restore "$WORK/snap" gdb="unix:$SOCK" gdb.wait=on \
	serial="file:$WORK/s1.serial" >"$WORK/s1.out" 2>&1 </dev/null
  echo $? >"$WORK/s1.out.rc" ) &
VM_PID=$!
wait_sock "$SOCK"
gdb_batch "$WORK/s1.gdb" "target remote $SOCK" 'info threads' 'detach'
wait_vm "$WORK/s1.out"
OUT=$WORK/s1.gdb
check "gdb: a restored VM (gdb overridden) stops with its 2 vCPUs as threads" \
	test "$(grep -cE '^\*? +[12] +Thread [12] \(vCPU [01]\)' "$WORK/s1.gdb")" = 2
OUT=$WORK/s1.out
check "gdb: after the detach the restored guest runs to its end" \
	eval 'test "$VM_STATUS" = 0 && grep -q "snap: done" "$WORK/s1.serial"'

# ---- 7. kgdb's line: serial.1, a second 8250 at COM2 (0x2f8, IRQ 3).
# The test guest talks to it polled (picotest=com2); a kernel's kgdboc
# would use it as ttyS1.
conf "$WORK/k.conf" "${base[@]}" serial="file:$WORK/k0.serial" timeout=30s
vm_run 40 "$WORK/k0.out" run "$WORK/k.conf" cmdline=picotest=com2
OUT=$WORK/k0.out
check "serial.1: absent by default (nothing at 0x2f8)" \
	eval 'test "$VM_STATUS" = 3 && grep -q "com2: absent" "$WORK/k0.serial"'
KS=$WORK/k.sock
start_vm "$WORK/k1.out" "$WORK/k.conf" cmdline=picotest=com2 serial.1="unix:$KS" \
	serial="file:$WORK/k1.serial"
wait_sock "$KS" && ks_seen=yes || ks_seen=no
"$POKE" "unix:$KS" >"$WORK/k1.poke0" 2>&1	# a client that goes at once
"$POKE" "unix:$KS" 'raw:ping\x0a' line >"$WORK/k1.poke" 2>&1
wait_vm "$WORK/k1.out"
OUT=$WORK/k1.out
check "serial.1 = unix: the guest reads what the client sends and the client reads its answer" \
	grep -qx "com2: got ping" "$WORK/k1.poke"
check "serial.1 = unix: a client gone frees the line for the next" \
	eval 'test "$VM_STATUS" = 0 && grep -q "com2: got ping" "$WORK/k1.serial"'
check "serial.1 = unix: the socket is there while the VM runs and removed at exit" \
	test "$ks_seen" = yes -a ! -e "$KS"
vm_run 40 "$WORK/k2.out" run "$WORK/k.conf" cmdline=picotest=com2:send \
	serial.1="file:$WORK/k2.com2"
OUT=$WORK/k2.out
check "serial.1 = file: the guest's COM2 output lands in the file" \
	eval 'test "$VM_STATUS" = 0 && grep -qx "com2: hello" "$WORK/k2.com2"'
vm_run 20 "$WORK/k3.out" check "$WORK/k.conf" serial.1=tcp:1234
OUT=$WORK/k3.out
check "serial.1: a value that is not none, file: or unix: is status 2" \
	eval 'test "$VM_STATUS" = 2 && grep -q "serial.1: .*expected COM2" "$WORK/k3.out.err"'
vm_run 20 "$WORK/k4.out" run "$WORK/k.conf" cmdline=picotest=exit:0 \
	serial.1="unix:$WORK/nodir/k.sock"
OUT=$WORK/k4.out
check "serial.1: a socket in a missing folder is status 2" \
	eval 'test "$VM_STATUS" = 2 && grep -q "serial.1: .*No such file or directory" "$OUT.err"'

# ---- 8. The gdb thread's own seccomp filter (every run above had it).
HOOKS=$TOP/tests/build/picovm-hooks
if make -s -C "$TOP" tests/build/picovm-hooks >"$WORK/hooks.log" 2>&1; then
	conf "$WORK/h.conf" "${base[@]}" cmdline=picotest=gdb serial=none \
		gdb="unix:$WORK/h.sock" timeout=30s
	OUT=$WORK/h.out
	PICOVM=$HOOKS PICOVM_TEST_VIOLATE=gdb:syscall vm_run 40 "$OUT" run "$WORK/h.conf"
	check "gdb thread: a forbidden call kills picovm (159, named)" \
		eval 'test "$VM_STATUS" = 159 && grep -q "sandbox: thread gdb made system call" "$OUT.err"'
	OUT=$WORK/h1.out
	PICOVM=$HOOKS PICOVM_TEST_VIOLATE=serial1:syscall vm_run 40 "$OUT" run \
		"$WORK/h.conf" gdb= serial.1="unix:$WORK/h1.sock"
	check "serial1 thread: a forbidden call kills picovm (159, named)" \
		eval 'test "$VM_STATUS" = 159 && grep -q "sandbox: thread serial1 made system call" "$OUT.err"'
else
	fail "gdb thread: build picovm-hooks" "$(tail -c 400 "$WORK/hooks.log")"
fi
exit 0
