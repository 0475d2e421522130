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
