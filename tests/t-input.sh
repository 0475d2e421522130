#!/usr/bin/env bash
# Careless input tier (issue 16): what picovm is started with and pointed
# at, when it is wrong in a way that could lose data, hang picovm or raise
# privilege.  Closed standard descriptors, outputs naming inputs, FIFOs and
# devices as inputs and outputs, net.N.fd naming picovm's own descriptors,
# block devices as disks, vcpus up to the limit.  (sandbox.user is in
# t-golden.sh and the unit tests.)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=$GUEST/test64.elf
if [ ! -x "$PICOVM" ] || [ ! -f "$K" ]; then
	fail input "picovm or the test guests are not built (make picovm guests)"
	exit 0
fi
if [ ! -c /dev/kvm ]; then
	skip input "no /dev/kvm on this machine"
	exit 0
fi

C=$WORK/vm.conf
conf "$C" kernel="$K" memory=64M
ORIG=$WORK/orig.img
D=$WORK/disk.img
head -c 1M /dev/urandom >"$ORIG"
cp "$ORIG" "$D"
# status NAME: runs the rest, stdout to $WORK/NAME, stderr to $WORK/NAME.err,
# with a hard timeout; sets ST.
status() {
	OUT=$WORK/$1; shift
	timeout -k 3 20 "$@" >"$OUT" 2>"$OUT.err" </dev/null
	ST=$?
}

# --- started with stdin, stdout and stderr closed --------------------------
# As some supervisors start daemons.  The first file picovm opened used to
# become "stdout", and the console wrote over the disk image.
timeout -k 3 20 "$PICOVM" run "$C" cmdline=picotest=hello "disk.0.path=$D" \
	<&- >&- 2>&-
st=$?
check "closed stdio: the VM ran (status $st)" test "$st" = 0
check "closed stdio: the disk image is byte-identical afterwards" cmp -s "$ORIG" "$D"
cp "$ORIG" "$D"
timeout -k 3 20 "$PICOVM" run "$C" cmdline=picotest=hello "disk.0.path=$D" \
	disk.0.readonly=on "serial=file:$WORK/closed.out" <&- >&- 2>&-
check "closed stdio: serial = file: still gets the console" \
	grep -q "hello from" "$WORK/closed.out"
check "closed stdio, readonly disk: the image is byte-identical" cmp -s "$ORIG" "$D"

# --- serial and log must not name an input or each other ------------------
# serial truncates its file and both write: naming a disk image (even a
# readonly one), the kernel or the initrd destroyed it, and `check` said
# nothing.  Now check and run refuse it with status 2, naming both keys.
cp "$ORIG" "$D"
cp "$K" "$WORK/kernel.copy"
printf 'initrd' >"$WORK/initrd"
# sink_refused NAME WANT key=value...: check and run, each exit 2 with WANT
# in the message, and every input unchanged.
sink_refused() {
	local name=$1 want=$2 cmd; shift 2
	for cmd in check run; do
		status "$name-$cmd" "$PICOVM" "$cmd" "$C" "kernel=$WORK/kernel.copy" \
			"initrd=$WORK/initrd" cmdline=picotest=hello "disk.0.path=$D" "$@"
		check "$name: $cmd exits 2 (status $ST)" test "$ST" = 2
		check "$name: $cmd says why" grep -qF -- "$want" "$OUT.err"
	done
	check "$name: the disk image is unchanged" cmp -s "$ORIG" "$D"
	check "$name: the kernel is unchanged" cmp -s "$K" "$WORK/kernel.copy"
	check "$name: the initrd is unchanged" test "$(cat "$WORK/initrd")" = initrd
}
sink_refused "serial = a readonly disk" "serial: '$D' is also disk.0.path" \
	"serial=file:$D" disk.0.readonly=on
sink_refused "serial = a disk" "serial: '$D' is also disk.0.path" "serial=file:$D"
ln "$D" "$WORK/hardlink.img"
sink_refused "serial = a hard link of a disk" "is also disk.0.path" \
	"serial=file:$WORK/hardlink.img"
ln -s "$D" "$WORK/symlink.img"
sink_refused "log = a symlink to a disk" "log: '$WORK/symlink.img' is also disk.0.path" \
	"log=file:$WORK/symlink.img"
sink_refused "serial = the kernel" "is also kernel" "serial=file:$WORK/kernel.copy"
sink_refused "log = the initrd" "is also initrd" "log=file:$WORK/initrd"
sink_refused "serial and log the same file" "log: '$WORK/same.out' is also serial" \
	"serial=file:$WORK/same.out" "log=file:$WORK/same.out"

# --- FIFOs and devices as outputs ------------------------------------------
# A FIFO without a reader used to block picovm in open() for ever (with
# SIGTERM blocked and no timeout armed).
mkfifo "$WORK/fifo"
status fifo-noreader "$PICOVM" run "$C" cmdline=picotest=hello "serial=file:$WORK/fifo"
check "serial = a FIFO without a reader: exit 2, not a hang (status $ST)" test "$ST" = 2
check "serial = a FIFO without a reader: says so" grep -q "FIFO without a reader" "$OUT.err"
status log-fifo-noreader "$PICOVM" run "$C" cmdline=picotest=hello "log=file:$WORK/fifo"
check "log = a FIFO without a reader: exit 2, not a hang (status $ST)" test "$ST" = 2
timeout 20 cat "$WORK/fifo" >"$WORK/fifo.out" &
reader=$!
status fifo-reader "$PICOVM" run "$C" cmdline=picotest=hello "serial=file:$WORK/fifo"
wait "$reader"
check "serial = a FIFO with a reader: the VM runs (status $ST)" test "$ST" = 0
check "serial = a FIFO with a reader: it gets the console" grep -q "hello from" "$WORK/fifo.out"
status devnull "$PICOVM" run "$C" cmdline=picotest=hello serial=file:/dev/null
check "serial = /dev/null (a character device) is fine (status $ST)" test "$ST" = 0
printf 'old text\n' >"$WORK/serial.out"
status truncated "$PICOVM" run "$C" cmdline=picotest=hello "serial=file:$WORK/serial.out"
check "serial = a file: truncated, then the console" \
	eval 'test "$(head -c 8 "$WORK/serial.out")" != "old text" && grep -q "hello from" "$WORK/serial.out"'

# --- FIFOs as inputs: clear errors, no hang --------------------------------
for key in kernel initrd disk.0.path; do
	for cmd in check run; do
		status "fifo-$key-$cmd" "$PICOVM" "$cmd" "$C" cmdline=picotest=hello "$key=$WORK/fifo"
		check "$key = a FIFO: $cmd exits 2 (status $ST)" test "$ST" = 2
		check "$key = a FIFO: $cmd says it is not a regular file" \
			grep -q "$key: '$WORK/fifo' is not a regular file" "$OUT.err"
	done
done
# The config file itself: a FIFO without a writer reads as empty, a pipe
# is read to its end, /dev/zero is cut off at 1M.
status conf-fifo "$PICOVM" check "$WORK/fifo"
check "config file = a FIFO without a writer: exit 2, not a hang (status $ST)" test "$ST" = 2
status conf-pipe bash -c '"$1" check <(cat "$2")' - "$PICOVM" "$C"
check "config file = a pipe (process substitution) is read (status $ST)" test "$ST" = 0
status conf-zero "$PICOVM" check /dev/zero
check "config file = /dev/zero: exit 2 (status $ST)" test "$ST" = 2
check "config file = /dev/zero: cut off at 1M" grep -q "larger than 1M" "$OUT.err"
