#!/usr/bin/env bash
# Runs the picotest images that QEMU can boot (PVH, and the bzImage's
# real-mode stub) under QEMU TCG, as a check of the guests themselves that
# needs no picovm.  Under QEMU, port 0x510 is fw_cfg, so the guests' exit
# status arrives through isa-debug-exit at 0xf4 instead, and QEMU exits
# with (status << 1) | 1; a reset or triple fault with -no-reboot exits 0.
# Prints one line per check and "N passed, N failed"; exit 0 if none failed.
set -u
cd "$(dirname "$0")"
B=build
QEMU=${QEMU:-qemu-system-x86_64}
if ! command -v "$QEMU" >/dev/null; then
	echo "skip: $QEMU not found"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/picotest-qemu.XXXXXX")
trap 'rm -rf "$T"' EXIT
npass=0 nfail=0

# run MACHINE KERNEL CMDLINE [qemu args...]: output in $T/out, status in $st
run() {
	local m=$1 k=$2 c=$3; shift 3
	timeout -k 2 30 "$QEMU" -M "$m" -accel tcg -m 64 -nographic -no-reboot \
		-serial stdio -monitor none -kernel "$k" -append "$c" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" \
		>"$T/out" 2>"$T/err" </dev/null
	st=$?
}
# runin like run, with stdin from the file $IN
runin() {
	local m=$1 k=$2 c=$3; shift 3
	timeout -k 2 30 "$QEMU" -M "$m" -accel tcg -m 64 -nographic -no-reboot \
		-serial stdio -monitor none -kernel "$k" -append "$c" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" \
		>"$T/out" 2>"$T/err" <"$IN"
	st=$?
}
check() {	# check NAME EXPECTED-QEMU-STATUS [GREP-LINE...]
	local name=$1 want=$2 ok=1; shift 2
	[ "$st" = "$want" ] || ok=0
	for l in "$@"; do grep -qxF -- "$l" "$T/out" || ok=0; done
	if [ $ok = 1 ]; then
		echo "ok    $name"; npass=$((npass + 1))
	else
		echo "FAIL  $name: status $st (want $want); output: $(tail -c 300 "$T/out" | tr '\n' '|')"
		nfail=$((nfail + 1))
	fi
}

MV=microvm,x-option-roms=off,rtc=off
PVH=$B/testpvh.elf

run $MV $PVH "picotest=hello"
check hello 1 "picotest: hello from cpl=3"
for n in 0 7 255; do
	run $MV $PVH "x=1 picotest=exit:$n y"
	check "exit:$n" $(((n << 1 | 1) & 255))
done
run $MV $PVH "picotest=exit:256"
check "exit:256 refused" 199
run $MV $PVH "picotest=nosuch"
check unknown 199 "picotest: unknown test 'nosuch'"
run $MV $PVH "console=ttyS0"
check missing 199 "picotest: unknown test ''"

head -c 77777 /dev/urandom >"$T/initrd"
cl="a=b picotest=info  c=\"d e\""
run $MV $PVH "$cl" -initrd "$T/initrd"
check info 1 "boot: pvh" \
	"cmdline: len=${#cl} cksum=$(printf %s "$cl" | cksum | cut -d' ' -f1)" \
	"initrd: len=77777 cksum=$(cksum <"$T/initrd" | cut -d' ' -f1)" \
	"e820: 0x100000-0x4000000 1"
run $MV $PVH "picotest=info"
check "info without initrd" 1 "initrd: none"

for n in 1 4; do
	run $MV $PVH "picotest=smp" -smp $n
	ids=$(seq -s, 0 $((n - 1)))
	check "smp $n" 1 "smp: mptable=$n up=$n apicids=$ids"
done

printf 'line one\nline two\n' >"$T/in"; IN=$T/in
runin $MV $PVH "picotest=echo"
check echo 1 "echo: len=8 cksum=$(printf %s 'line one' | cksum | cut -d' ' -f1)" \
	"echo: line one"
head -c 5000 /dev/zero | tr '\0' 'x' >"$T/in"
runin $MV $PVH "picotest=echo"
check "echo 4096" 1 "echo: len=4096 cksum=$(head -c 4096 "$T/in" | cksum | cut -d' ' -f1)"

# flood:N writes N bytes of 64-byte lines (63 letters a..z,a..z,a..k and
# '\n'); a partial last line gets a '\n' before "flood: done".
line=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk
{ for i in $(seq 15); do echo $line; done; echo ${line:0:40}; echo "flood: done"; } >"$T/flood.want"
run $MV $PVH "picotest=flood:1000"
cmp -s "$T/out" "$T/flood.want" || st="$st (output differs)"
check flood 1 "flood: done"
run $MV $PVH "picotest=uart"
check uart 1 "uart: survived"
run $MV $PVH "picotest=boottime"
check boottime 1 "boottime: written"
run $MV $PVH "picotest=triple"
check triple 0
run pc $PVH "picotest=reset"
check "reset (-M pc)" 0
run $MV $PVH "picotest=cost"
check cost 1

run $MV $B/exit.elf ""
check exit.elf 1
run $MV $B/test.bzImage "picotest=hello"
check "bzImage real-mode stub" 193

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
