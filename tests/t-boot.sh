#!/usr/bin/env bash
# Boot tier: the test guests (guest/) through each boot path, checking what
# a user would check: output, exit status, what the guest saw.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$PICOVM" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail boot "picovm or the test guests are not built (make picovm guests)"
	exit 0
fi
if [ ! -c /dev/kvm ]; then
	skip boot "no /dev/kvm on this machine"
	exit 0
fi

declare -A IMG=([elf]=test64.elf [pvh]=testpvh.elf [pvh32]=testpvh32.elf
	[bzimage]=test.bzImage)
head -c 300000 /dev/urandom >"$WORK/initrd.img"
CMDLINE='picotest=info console=ttyS0 "quoted" ünïcode x=1'

# pvh32: the PVH guest in a 32-bit ELF file, booted through PVH too.
for path in elf pvh pvh32 bzimage; do
	C=$WORK/$path.conf
	conf "$C" kernel="$GUEST/${IMG[$path]}" memory=64M cmdline=picotest=hello
	OUT=$WORK/$path.hello
	vm_run 20 "$OUT" run "$C"
	check "$path: boots and reaches CPL3" grep -qx "picotest: hello from cpl=3" "$OUT"
	check "$path: exit status 0" test "$VM_STATUS" = 0

	# The command line (with quotes escaped in the file) and the initrd
	# arrive byte for byte: the guest prints POSIX cksum sums.
	esc=${CMDLINE//\\/\\\\}; esc=${esc//\"/\\\"}
	printf 'kernel = %s\nmemory = 64M\ninitrd = initrd.img\ncmdline = "%s"\n' \
		"$GUEST/${IMG[$path]}" "$esc" >"$C"
	OUT=$WORK/$path.info
	vm_run 20 "$OUT" run "$C"
	check "$path: guest entered through the ${path%32} path" grep -qx "boot: ${path%32}" "$OUT"
	# picovm appends the VM's name and, stdin not being a terminal here,
	# picovm.stdin=notty (picovm(1)).
	want=$(printf '%s picovm.name=%s picovm.stdin=notty' "$CMDLINE" "$path" |
		cksum | awk '{print "cmdline: len=" $2 " cksum=" $1}')
	check "$path: command line arrives intact" grep -qxF "$want" "$OUT"
	want=$(cksum <"$WORK/initrd.img" | awk '{print "initrd: len=" $2 " cksum=" $1}')
	check "$path: initrd arrives intact" grep -qxF "$want" "$OUT"
	# RAM = memory minus the 640K-1M hole and the 1 KiB MP table area
	check "$path: e820 RAM matches memory = 64M" grep -qx \
		"e820: total-ram=$((64 * 1024 * 1024 - 0x60000 - 0x2000))" "$OUT"

	conf "$C" kernel="$GUEST/${IMG[$path]}" memory=64M vcpus=4 cmdline=picotest=smp
	OUT=$WORK/$path.smp
	vm_run 30 "$OUT" run "$C"
	check "$path: vcpus = 4 all come up" grep -qx "smp: mptable=4 up=4 apicids=0,1,2,3" "$OUT"
done

# Memory above the 3 GiB hole moves to 4 GiB.
C=$WORK/big.conf
conf "$C" kernel="$GUEST/test64.elf" memory=5G cmdline=picotest=info
OUT=$WORK/big.info
vm_run 20 "$OUT" run "$C"
check "memory = 5G: RAM below the hole ends at 3 GiB" grep -qx "e820: 0x100000-0xc0000000 1" "$OUT"
check "memory = 5G: the rest starts at 4 GiB" grep -qx "e820: 0x100000000-0x180000000 1" "$OUT"
check "memory = 5G: total RAM" grep -qx "e820: total-ram=$((5 * 1024 * 1024 * 1024 - 0x60000 - 0x2000))" "$OUT"

C=$WORK/one.conf
conf "$C" kernel="$GUEST/test64.elf" memory=32M vcpus=1 cmdline=picotest=smp
OUT=$WORK/one.smp
vm_run 20 "$OUT" run "$C"
check "vcpus = 1: one CPU" grep -qx "smp: mptable=1 up=1 apicids=0" "$OUT"

# Exit status passthrough, the way a CI job returns its result.
for n in 0 1 42 255; do
	OUT=$WORK/exit$n
	vm_run 20 "$OUT" run "$C" "cmdline=picotest=exit:$n"
	check "exit port: status $n passes through" test "$VM_STATUS" = "$n"
done
OUT=$WORK/reset
vm_run 20 "$OUT" run "$C" cmdline=picotest=reset
check "i8042 reset ends the VM with status 0" test "$VM_STATUS" = 0
check "i8042 reset: the guest did not run on" test ! -s "$OUT"
# Linux's probe: no "Keylock active" (status bit 4), and every answer at
# once: self test, CTR, the aux loop answered from the keyboard side and
# the aux interface test failing (no aux port), a keyboard command refused
# (0xfe: no keyboard), so no timeout is waited out.
OUT=$WORK/i8042
vm_run 20 "$OUT" run "$C" cmdline=picotest=i8042
check "i8042 answers Linux's probe at once: no keylock, no aux port, no keyboard" grep -qx \
	"i8042: status=0x14 selftest=0x55/0x1d ctr=0x24/0x1d auxloop=0x5a/0x15 auxtest=0x1/0x1d kbd=0xfe/0x15" "$OUT"
OUT=$WORK/triple
vm_run 20 "$OUT" run "$C" cmdline=picotest=triple
check "triple fault ends the VM with status 1" test "$VM_STATUS" = 1
check "triple fault is reported" grep -q "triple fault" "$OUT.err"
# pvpanic (port 0x505): a guest kernel's panic report ends the VM with
# status 122 and one line on stderr; CRASH_LOADED alone is only logged.
OUT=$WORK/panic
vm_run 20 "$OUT" run "$C" cmdline=picotest=panic
check "pvpanic: the port reads the supported events (PANICKED, CRASH_LOADED)" \
	grep -qx "pvpanic: events=0x3" "$OUT"
check "pvpanic: PANICKED ends the VM with status 122" test "$VM_STATUS" = 122
check "pvpanic: the guest did not run on" test "$(grep -c 'pvpanic: written' "$OUT")" = 0
check "pvpanic: one stderr line says the guest kernel panicked" \
	test "$(grep -cx 'picovm: the guest kernel panicked' "$OUT.err")" = 1
OUT=$WORK/crashloaded
vm_run 20 "$OUT" run "$C" cmdline=picotest=panic:2
check "pvpanic: CRASH_LOADED alone is logged once and the guest runs on" \
	test "$VM_STATUS" = 0 -a "$(grep -c 'crash kernel' "$OUT.err")" = 1 \
	-a "$(grep -c 'pvpanic: written' "$OUT")" = 1
OUT=$WORK/timeout
vm_run 20 "$OUT" run "$C" cmdline=picotest=spin timeout=500ms
check "timeout = 500ms stops a spinning guest with status 124" test "$VM_STATUS" = 124

# SIGTERM / SIGINT stop a running VM in order.
for sig in TERM INT; do
	OUT=$WORK/sig$sig
	timeout -k 3 90 "$PICOVM" run "$C" cmdline=picotest=spin >"$OUT" 2>"$OUT.err" </dev/null &
	pid=$!
	until_true 60 grep -qs spinning "$OUT"
	kill -s "$sig" "$pid"
	wait "$pid"
	st=$?
	want=$((128 + $(kill -l "$sig")))
	check "SIG$sig ends the VM with status $want" test "$st" = "$want"
	check "SIG$sig: output written before the signal is kept" grep -qx "picotest: spinning" "$OUT"
done

# Serial: byte-exact output, input from stdin.
n=100032	# 1563 lines of 64 bytes
awk -v n=$n 'BEGIN { s = ""; for (i = 0; i < 63; i++) s = s sprintf("%c", 97 + i % 26);
	for (i = 0; i < n / 64; i++) print s; print "print: done" }' >"$WORK/flood.want"
OUT=$WORK/flood
# Flow controlled (the guest honours LSR): byte-exact however slowly the
# host side is scheduled.
vm_run 30 "$OUT" run "$C" "cmdline=picotest=print:$n"
check "serial: $n bytes of output are byte-exact" cmp -s "$WORK/flood.want" "$OUT"

# A stalled stdout reader: a guest that honours LSR loses nothing...
n=200000
timeout -k 3 60 "$PICOVM" run "$C" "cmdline=picotest=print:$n" 2>"$WORK/stall.err" </dev/null |
	(sleep 2; cat >"$WORK/stall.out")
check "serial: stalled reader, flow-controlled output: nothing lost" \
	test "$(wc -c <"$WORK/stall.out")" = $((n + 12))
# ...and one that ignores it neither blocks its vCPU nor grows memory:
# what does not fit is dropped and counted.  The reader reads nothing
# until picovm has ended (a FIFO held open here), so the overflow happens
# however fast or slow the guest runs; what the pipe holds is read after.
n=400000
mkfifo "$WORK/fstall.fifo"
exec 3<>"$WORK/fstall.fifo"
timeout -k 3 60 /usr/bin/time -f 'maxrss %M' -o "$WORK/flood.rss" "$PICOVM" run "$C" \
	"cmdline=picotest=flood:$n" 2>"$WORK/fstall.err" </dev/null >"$WORK/fstall.fifo"
st=$?
dd if=/dev/fd/3 iflag=nonblock bs=65536 of="$WORK/fstall.out" 2>/dev/null
exec 3<&-
got=$(wc -c <"$WORK/fstall.out")
dropped=$(sed -n 's/.*wrote \([0-9]*\) bytes while the output buffer was full.*/\1/p' "$WORK/fstall.err")
atstop=$(sed -n 's/.*dropped the guest.s last \([0-9]*\) bytes at stop.*/\1/p' "$WORK/fstall.err")
check "serial: unread output, flood: the VM finishes (status $st)" test "$st" = 0
check "serial: unread output, flood: overflow is reported" test -n "$dropped"
check "serial: delivered + dropped bytes = what the guest wrote" \
	test "$((got + ${dropped:-0} + ${atstop:-0}))" = $((n + 12))
rss=$(awk '/maxrss/ {print $2}' "$WORK/flood.rss")
check "serial: memory stays bounded during the flood (${rss:-?} KiB)" test "${rss:-999999}" -lt 65536

# A stop never waits for a reader (issue 16): stdout on a pipe or a
# terminal that nobody reads while the guest floods the console.  stallrun
# waits until the output stalls, then sends SIGTERM (or lets timeout =
# fire); picovm must end with the stop's status before a generous watchdog.
# The time it took is printed for information only.
STALLRUN=$TOP/tests/build/stallrun
if make -s -C "$TOP/tests" build/stallrun >"$WORK/stallrun.log" 2>&1; then
	for mode in pipe pty; do
		opt=; [ $mode = pty ] && opt=-p
		r=$("$STALLRUN" $opt -t -w 20 -- "$PICOVM" run "$C" \
			cmdline=picotest=flood:100000000 2>"$WORK/unread-$mode.err")
		echo "info  unread $mode, SIGTERM: $r"
		check "serial: $mode nobody reads, SIGTERM: status 143 before the watchdog" \
			grep -q "stalled=yes .*status=143 " <<<"$r"
		[ $mode = pty ] && check "serial: pty nobody reads: terminal modes restored" \
			grep -q "tty-restored=yes" <<<"$r"
	done
	r=$("$STALLRUN" -p -w 20 -- "$PICOVM" run "$C" timeout=4s \
		cmdline=picotest=flood:100000000 2>"$WORK/unread-to.err")
	echo "info  unread pty, timeout = 4s: $r"
	check "serial: pty nobody reads, timeout: status 124 before the watchdog" \
		grep -q "status=124 " <<<"$r"
else
	fail "serial: stallrun" "make -C tests build/stallrun failed: $(tail -c 300 "$WORK/stallrun.log")"
fi

# Hostile UART register pokes (divisor 0 and 0xffff, every offset).
OUT=$WORK/uart
vm_run 20 "$OUT" run "$C" cmdline=picotest=uart
check "serial: hostile register writes survived" grep -qx "uart: survived" "$OUT"
check "serial: hostile register writes, exit 0" test "$VM_STATUS" = 0

OUT=$WORK/echo
printf 'the quick brown fox\n' | timeout -k 3 20 "$PICOVM" run "$C" cmdline=picotest=echo >"$OUT" 2>"$OUT.err"
check "serial: stdin reaches the guest" grep -qx "echo: the quick brown fox" "$OUT"
want=$(printf 'the quick brown fox' | cksum | awk '{print "echo: len=" $2 " cksum=" $1}')
check "serial: input is byte-exact" grep -qxF "$want" "$OUT"
# stdin not a terminal: its end of file reaches the guest as ^D (0x04)
# after the bytes before it (echo:4 reads up to a 0x04; after 'abc' with
# no newline picovm sends a second ^D, which the guest does not read).
OUT=$WORK/eof
printf 'abc' | timeout -k 3 20 "$PICOVM" run "$C" cmdline=picotest=echo:4 >"$OUT" 2>"$OUT.err"
st=$?
want=$(printf 'abc' | cksum | awk '{print "echo: len=" $2 " cksum=" $1}')
check "serial: end of stdin arrives as ^D after the input" test "$st" = 0 -a "$(head -n1 "$OUT")" = "$want"
OUT=$WORK/eofnull
timeout -k 3 20 "$PICOVM" run "$C" cmdline=picotest=echo:4 >"$OUT" 2>"$OUT.err" </dev/null
st=$?
check "serial: stdin = /dev/null gives the guest one ^D" test "$st" = 0 -a "$(head -n1 "$OUT")" = "echo: len=0 cksum=4294967295"

# serial = file / none, log = file
OUT=$WORK/sfile
vm_run 20 "$OUT" run "$C" cmdline=picotest=hello "serial=file:$WORK/serial.out" "log=file:$WORK/log.out"
check "serial = file: output goes to the file" grep -qx "picotest: hello from cpl=3" "$WORK/serial.out"
check "serial = file: nothing on stdout" test ! -s "$OUT"
OUT=$WORK/snone
vm_run 20 "$OUT" run "$C" cmdline=picotest=hello serial=none
check "serial = none: no output, clean exit" test "$VM_STATUS" = 0 -a ! -s "$OUT"

# Boot-timer port: logged once, to the log sink.
OUT=$WORK/boottime
vm_run 20 "$OUT" run "$C" cmdline=picotest=boottime "log=file:$WORK/boot.log"
check "boot-timer port logs once to the log file" test "$(grep -c 'boot-timer: [0-9.]* ms since picovm started' "$WORK/boot.log")" = 1
check "boot-timer line is not on stderr when log = file" test "$(grep -c boot-timer "$OUT.err")" = 0
# Its split: when the vCPUs first called KVM_RUN, which is before the
# guest's write, so at most the line's figure.
split=$(sed -n 's/.*boot-timer: \([0-9.]*\) ms since picovm started (vCPUs in KVM_RUN from \([0-9.]*\) ms)$/\2 \1/p' "$WORK/boot.log")
info "boot-timer: exec -> vCPUs in KVM_RUN -> the guest's write: ${split:-no split} (ms)"
check "boot-timer line: the vCPUs' first KVM_RUN, after the start and not after the write" \
	awk -v s="$split" 'BEGIN { n = split(s, v, " "); exit !(n == 2 && v[1] > 0 && v[1] <= v[2]) }'

# memory.hugepages: guest RAM from the hugetlb pool, or a clear error.
HP=/proc/sys/vm/nr_hugepages
if [ -w "$HP" ]; then
	old=$(cat "$HP")
	echo 0 >"$HP"
	OUT=$WORK/nohuge
	vm_run 20 "$OUT" run "$C" cmdline=picotest=hello memory.hugepages=on memory=64M
	check "hugepages: none reserved: status 1" test "$VM_STATUS" = 1
	check "hugepages: none reserved: the error says where to look" grep -q "nr_hugepages" "$OUT.err"
	echo 40 >"$HP"
	if [ "$(cat "$HP")" -ge 32 ]; then
		OUT=$WORK/huge
		vm_run 20 "$OUT" run "$C" cmdline=picotest=info memory.hugepages=on memory=64M
		check "hugepages: the guest runs on 2M pages" grep -qx "e820: total-ram=$((64 * 1024 * 1024 - 0x60000 - 0x2000))" "$OUT"
	else
		skip "hugepages: boot" "the kernel reserved only $(cat "$HP") huge pages"
	fi
	echo "$old" >"$HP"
else
	skip "hugepages" "$HP is not writable (not root)"
fi

# Host input flood while the guest reads nothing: picovm stops reading
# stdin when its buffer is full, so memory stays bounded.
head -c 50M /dev/zero | timeout -k 3 20 /usr/bin/time -f 'maxrss %M' -o "$WORK/inflood.rss" \
	"$PICOVM" run "$C" cmdline=picotest=spin timeout=2s >/dev/null 2>"$WORK/inflood.err"
st=$?
rss=$(awk '/maxrss/ {print $2}' "$WORK/inflood.rss")
check "serial: 50 MB of unread input: the VM runs to its timeout (status $st)" test "$st" = 124
check "serial: 50 MB of unread input: memory stays bounded (${rss:-?} KiB)" test "${rss:-999999}" -lt 16384

# The UART in interrupt mode (how Linux drives it): host input raises IRQ 4
# from picovm's console thread.
OUT=$WORK/sirq
mkfifo "$WORK/sirq.in"
timeout -k 3 90 "$PICOVM" run "$C" cmdline=picotest=serial-irq <"$WORK/sirq.in" >"$OUT" 2>"$OUT.err" &
pid=$!
exec 7>"$WORK/sirq.in"
until_true 60 grep -qs "serial-irq: ready" "$OUT"
printf 'interrupt driven\n' >&7
exec 7>&-
wait "$pid"
st=$?
want=$(printf 'interrupt driven' | cksum | awk '{print "len=" $2 " cksum=" $1}')
check "serial: input raises the UART interrupt (status $st)" test "$st" = 0
check "serial: interrupt-driven input is byte-exact" grep -q "serial-irq: irqs=[1-9][0-9]* $want" "$OUT"

# The CPUID list's cache (vcpu/cpucache.h): the first VM of a user writes
# it, later ones read it; a cache that is garbage, cut or of another boot
# is replaced, and the VM runs the same either way.
CC_HOME=$WORK/cache
C=$WORK/cc.conf
conf "$C" kernel="$GUEST/test64.elf" memory=64M cmdline=picotest=hello
cc_run() {
	XDG_CACHE_HOME=$CC_HOME timeout -k 3 20 "$PICOVM" run "$C" >"$WORK/cc.out" \
		2>"$WORK/cc.out.err" </dev/null
	VM_STATUS=$?
}
cc_run
cache=$CC_HOME/picovm/cpuid
check "cpuid cache: the first VM writes it (status $VM_STATUS)" \
	test "$VM_STATUS" = 0 -a -s "$cache"
check "cpuid cache: the user's alone (0600)" test "$(stat -c %a "$cache" 2>/dev/null)" = 600
check "cpuid cache: keyed by this boot" grep -aqx "boot=$(cat /proc/sys/kernel/random/boot_id)" "$cache"
cp "$cache" "$WORK/cpuid.good"
cc_run
check "cpuid cache: a VM that reads it runs (status $VM_STATUS)" \
	grep -qx "picotest: hello from cpl=3" "$WORK/cc.out"
check "cpuid cache: reading leaves it as it was" cmp -s "$cache" "$WORK/cpuid.good"
for bad in garbage cut otherboot; do
	case $bad in
	garbage) head -c "$(stat -c %s "$cache")" /dev/urandom >"$cache" ;;
	cut) head -c 100 "$WORK/cpuid.good" >"$cache" ;;
	otherboot) sed 's/^boot=.*/boot=00000000-0000-0000-0000-000000000000/' \
		"$WORK/cpuid.good" >"$cache" ;;
	esac
	cc_run
	check "cpuid cache, $bad: the VM runs (status $VM_STATUS)" \
		grep -qx "picotest: hello from cpl=3" "$WORK/cc.out"
	check "cpuid cache, $bad: replaced by the list KVM gives" cmp -s "$cache" "$WORK/cpuid.good"
done
# A cache with a valid key and checksum whose list KVM refuses (as one
# whose key missed a change of KVM's would be): picovm asks KVM again.
XDG_CACHE_HOME=$CC_HOME "$TOP/tests/build/cpuidpoison"
poison=$?
if [ "$poison" = 0 ]; then
	cc_run
	check "cpuid cache KVM refuses: the VM runs (status $VM_STATUS)" \
		grep -qx "picotest: hello from cpl=3" "$WORK/cc.out"
	check "cpuid cache KVM refuses: stderr says the list was asked for again" \
		grep -q "KVM refused the cached CPUID list" "$WORK/cc.out.err"
	check "cpuid cache KVM refuses: replaced by the list KVM gives" \
		cmp -s "$cache" "$WORK/cpuid.good"
elif [ "$poison" = 3 ]; then
	skip "cpuid cache KVM refuses" "KVM's CPUID list has no leaf 0x80000008 to make unacceptable"
else
	fail "cpuid cache KVM refuses" "tests/build/cpuidpoison could not rewrite the cache"
fi
