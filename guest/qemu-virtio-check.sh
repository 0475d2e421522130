#!/usr/bin/env bash
# Checks the guest's virtio driver (virtio/, t_blk*.c, t_vcon.c) against
# QEMU's virtio-mmio devices, the reference implementation, under TCG: the
# good paths only.  QEMU answers several hostile cases differently from
# picovm's error model, so hostile-all is only run to its end here; the
# verdicts are tests/t-virtio-hostile.sh's business.
#
# QEMU needs acpi=off (else microvm puts no virtio_mmio.device= words on
# the command line) and virtio-mmio.force-legacy=false (else version 1).
# Prints one line per check and "N passed, N failed"; exit 0 if none failed.
set -u
cd "$(dirname "$0")"
B=build
QEMU=${QEMU:-qemu-system-x86_64}
if ! command -v "$QEMU" >/dev/null; then
	echo "skip: $QEMU not found"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/picotest-virtio.XXXXXX")
trap 'rm -rf "$T"' EXIT
npass=0 nfail=0
IMG=$T/disk.img
head -c 16M /dev/urandom >"$T/orig.img"

# run CMDLINE [qemu args...]: one VM with $IMG as virtio-blk (DRIVE_OPTS
# appended to -drive); output in $T/out, guest exit status in $st.
run() {
	local cl=$1; shift
	timeout -k 2 60 "$QEMU" -M microvm,x-option-roms=off,rtc=off,acpi=off \
		-accel tcg -m 128 -display none -no-reboot -monitor none \
		-kernel $B/testpvh.elf -append "$cl" \
		-global virtio-mmio.force-legacy=false \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive "id=d0,file=$IMG,format=raw,if=none,discard=unmap${DRIVE_OPTS:-}" \
		-device virtio-blk-device,drive=d0,serial=qemu-serial "$@" \
		>"$T/out" 2>"$T/err" <"${IN:-/dev/null}"
	st=$(($? >> 1))
}
serial() { run "$@" -serial stdio; }
check() {	# check NAME CONDITION...
	local name=$1; shift
	if "$@"; then
		echo "ok    $name"; npass=$((npass + 1))
	else
		echo "FAIL  $name: status $st; output: $(tail -c 300 "$T/out" | tr '\n' '|')"
		nfail=$((nfail + 1))
	fi
}
has() { grep -qxF -- "$1" "$T/out"; }
sum() { cksum | awk -v p="$1" '{print p ": len=" $2 " cksum=" $1}'; }
sectors() { dd if="$IMG" bs=512 skip="$1" count="$2" status=none; }

cp "$T/orig.img" "$IMG"
serial picotest=blk-info
check blk-info grep -qE '^blk: capacity=32768 ro=0 features=0x[0-9a-f]+ serial=qemu-serial$' "$T/out"
serial picotest=blk-read:0:32768
check "blk-read whole disk" has "$(sum blk-read <"$IMG")"
serial picotest=blk-read:1001:77
check "blk-read odd range" has "$(sectors 1001 77 | sum blk-read)"
serial picotest=blk-write:100:3000:7
check "blk-write + flush" eval 'has "blk-write: ok" && has "blk-flush: ok" &&
	cmp -s <(sectors 100 3000) <($B/blkpattern 7 $((3000 * 512)))'
for v in "" picotest.no-indirect picotest.no-event-idx "picotest.qsize=4 picotest.no-indirect"; do
	serial "picotest=blk-rw-verify:5000:2500:42 $v"
	check "blk-rw-verify $v" has "blk-verify: ok"
done
serial picotest=blk-zeroes:10000:100
check blk-zeroes eval 'has "blk-zeroes: ok" && cmp -s <(sectors 10000 100) <(head -c 51200 /dev/zero)'
serial picotest=blk-discard:0:8192
check blk-discard has "blk-discard: ok"
cp "$T/orig.img" "$IMG"
DRIVE_OPTS=,readonly=on serial picotest=blk-ro-write
check blk-ro-write eval 'has "blk-ro: ioerr" && cmp -s "$T/orig.img" "$IMG"'
serial picotest=blk-oob
check blk-oob eval 'has "blk-oob: all ioerr" && cmp -s "$T/orig.img" "$IMG"'
serial picotest=blk-irq
check blk-irq has "blk-irq: ok irqs=4 reads=4 len=16384 cksum=$(sectors 0 32 | cksum | cut -d' ' -f1)"
serial picotest=blk-bench:randread4k:8:2000
check blk-bench grep -q '^bench: ops=2000 bytes=8192000 ' "$T/out"
serial picotest=hostile-all
check "hostile-all runs to its end" grep -q '^hostile: done pass=' "$T/out"

vcon=(-serial "file:$T/serial" -device virtio-serial-device,max_ports=1
	-chardev stdio,id=c0 -device virtconsole,chardev=c0)
run picotest=vcon-hello "${vcon[@]}"
check vcon-hello has "vcon: hello from picotest"
printf 'the quick brown fox\nmore\n' >"$T/in"
IN=$T/in run picotest=vcon-echo "${vcon[@]}"
check vcon-echo eval 'has "vcon-echo: the quick brown fox" &&
	has "$(printf %s "the quick brown fox" | sum vcon-echo)"'
run picotest=vcon-flood:1000 "${vcon[@]}"
check vcon-flood eval 'test "$(head -c 1000 "$T/out" | tr -d a-z | wc -c)" = 15 && has "vcon-flood: done"'

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
