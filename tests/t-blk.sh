#!/usr/bin/env bash
# Block tier: picovm's virtio-blk (and virtio-console) driven by the test
# guest (guest/t_blk.c, guest/t_vcon.c), checked from the host side: data
# read back byte for byte, writes in the image after the VM ends, FLUSH
# reaching the disk, discard punching holes, read-only and ephemeral disks
# leaving the image alone, durability across kill -9, interrupts, GET_ID,
# and the startup errors for bad images.  Data the guest writes is the
# pattern of guest/blkpattern.h, regenerated here by guest/build/blkpattern.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=$GUEST/test64.elf
PAT=$GUEST/blkpattern
if [ ! -x "$PICOVM" ] || [ ! -f "$K" ] || [ ! -x "$PAT" ]; then
	fail blk "picovm or the test guests are not built (make picovm guests)"
	exit 0
fi
if [ ! -c /dev/kvm ]; then
	skip blk "no /dev/kvm on this machine"
	exit 0
fi

C=$WORK/vm.conf
conf "$C" kernel="$K" memory=128M
ORIG=$WORK/orig.img		# 16 MiB of random data, never handed to a VM
D=$WORK/disk.img		# a fresh copy per run
head -c 16M /dev/urandom >"$ORIG"
SECTORS=$((16 * 2048))

fresh() { cp "$ORIG" "$D"; }
# blk OUTNAME SECONDS CMDLINE [key=value...]: one VM with disk.0 = $D
blk() {
	local name=$1 secs=$2 cl=$3; shift 3
	OUT=$WORK/$name
	vm_run "$secs" "$OUT" run "$C" "cmdline=$cl" "disk.0.path=$D" "$@"
}
has() { grep -qxF -- "$1" "$OUT"; }
# sectors START COUNT FILE: those sectors of FILE on stdout
sectors() { dd if="$3" bs=512 skip="$1" count="$2" status=none; }
# The image we expect after the guest wrote pattern SEED at START, COUNT.
expect_written() {
	cp "$ORIG" "$WORK/want.img"
	"$PAT" "$3" $(($2 * 512)) | dd of="$WORK/want.img" bs=512 seek="$1" conv=notrunc status=none
}
cksum_line() { cksum | awk -v p="$1" '{print p ": len=" $2 " cksum=" $1}'; }
bits() { local f=$1; shift; for b; do (((f >> b) & 1)) || return 1; done; }
nobits() { local f=$1; shift; for b; do (((f >> b) & 1)) && return 1; done; return 0; }
features() { sed -n 's/^blk: capacity=[0-9]* ro=[01] features=\(0x[0-9a-f]*\) serial=.*/\1/p' "$OUT" | head -1; }

# --- discovery, features, GET_ID ---
fresh
blk info 20 picotest=blk-info disk.0.serial=pico-serial-7
check "blk-info: one disk, 16 MiB, writable, serial from GET_ID" \
	grep -qE "^blk: capacity=$SECTORS ro=0 features=0x[0-9a-f]+ serial=pico-serial-7\$" "$OUT"
f=$(features)
# VERSION_1 EVENT_IDX INDIRECT_DESC FLUSH BLK_SIZE SEG_MAX DISCARD WRITE_ZEROES
check "blk-info: offers VERSION_1, EVENT_IDX, INDIRECT, FLUSH, BLK_SIZE, SEG_MAX, DISCARD, WRITE_ZEROES" \
	bits "${f:-0}" 32 29 28 9 6 2 13 14
check "blk-info: a writable disk does not offer RO" nobits "${f:-0}" 5
# The disk's two windows (command line 0xd0000000, DSDT 0xd0010000): both
# look like a device until the driver reads past MagicValue and Version;
# the one read first (here the DSDT's) keeps the device, the other reads
# as an empty slot (DeviceID 0, no features) and ignores writes.
blk windows 20 picotest=windows
check "two windows: the first one read takes the device, the other is an empty slot" has \
	"windows: before=0x74726976/2 0x74726976/2 acpi-id=2 cmdline=0x74726976/2/0/0x0 ignored=0 acpi-status=1 cmdline-status=0"

cp "$ORIG" "$WORK/second.img"
blk info2 20 picotest=blk-info disk.0.serial=abcdefghij0123456789 \
	"disk.1.path=$WORK/second.img" disk.1.readonly=true disk.1.cache=unsafe
check "two disks: a 20-byte serial comes back whole" \
	grep -qE '^blk: capacity=[0-9]+ ro=0 features=0x[0-9a-f]+ serial=abcdefghij0123456789$' "$OUT"
check "two disks: the second is announced, read-only" \
	test "$(grep -c '^blk: capacity=[0-9]* ro=1 ' "$OUT")" = 1
f=$(sed -n '2s/^blk: .* features=\(0x[0-9a-f]*\) .*/\1/p' "$OUT")
check "readonly = true offers BLK_F_RO; cache = unsafe offers no FLUSH" \
	eval 'bits "${f:-0}" 5 && nobits "${f:-0}" 9'

# --- reads: known host data arrives byte for byte ---
blk readall 60 picotest=blk-read:0:$SECTORS
check "read: the whole 16 MiB image matches the host's data" has "$(cksum_line blk-read <"$ORIG")"
blk readodd 20 picotest=blk-read:1001:77
check "read: an odd range (sector 1001, 77 sectors) matches" has "$(sectors 1001 77 "$ORIG" | cksum_line blk-read)"
blk readlast 20 picotest=blk-read:$((SECTORS - 1)):1
check "read: the last sector matches" has "$(sectors $((SECTORS - 1)) 1 "$ORIG" | cksum_line blk-read)"

# --- writes land in the image, and nowhere else ---
fresh
blk write 30 picotest=blk-write:100:3000:7
expect_written 100 3000 7
check "write: the guest reports success and a FLUSH" eval 'has "blk-write: ok" && has "blk-flush: ok"'
check "write: the image holds exactly the written pattern afterwards" cmp -s "$WORK/want.img" "$D"
fresh
blk writenf 30 picotest=blk-write-noflush:$((SECTORS - 64)):64:200
expect_written $((SECTORS - 64)) 64 200
check "write without FLUSH up to the last sector: in the image after exit" cmp -s "$WORK/want.img" "$D"
check "write: the image size is unchanged" test "$(stat -c %s "$D")" = $((SECTORS * 512))

for v in "picotest.no-indirect" "picotest.no-event-idx" "picotest.qsize=4 picotest.no-indirect" \
	"picotest.no-indirect picotest.no-event-idx picotest.qsize=8"; do
	fresh
	blk verify 30 "picotest=blk-rw-verify:5000:2500:42 $v"
	check "write + read back with $v" has "blk-verify: ok"
done
fresh
blk direct 30 picotest=blk-rw-verify:333:1000:77 disk.0.direct=true
expect_written 333 1000 77
check "direct = true (O_DIRECT): written data reads back" has "blk-verify: ok"
check "direct = true: the image holds the data" cmp -s "$WORK/want.img" "$D"

# --- FLUSH reaches the disk: fdatasync/fsync seen by strace ---
if command -v strace >/dev/null; then
	fresh
	OUT=$WORK/strace
	timeout -k 3 60 strace -f -qq -e trace=fdatasync,fsync,sync_file_range -o "$OUT.trace" \
		"$PICOVM" run "$C" cmdline=picotest=blk-write:0:8:3 "disk.0.path=$D" >"$OUT" 2>"$OUT.err" </dev/null
	check "flush: the guest's FLUSH succeeds" has "blk-flush: ok"
	check "flush: picovm calls fdatasync/fsync on the image" grep -qE '(fdatasync|fsync)\(' "$OUT.trace"
else
	skip "flush: picovm calls fdatasync/fsync on the image" "strace is not installed"
fi
fresh
blk unsafe 20 picotest=blk-write:0:8:3 disk.0.cache=unsafe
check "cache = unsafe: no FLUSH offered, writes still land" \
	eval 'has "blk-flush: not offered" && cmp -s <(sectors 0 8 "$D") <("$PAT" 3 4096)'

# --- discard punches a hole; write-zeroes zeroes ---
fresh
before=$(stat -c %b "$D")
blk discard 30 picotest=blk-discard:0:8192
after=$(stat -c %b "$D")
check "discard: the guest gets OK" has "blk-discard: ok"
check "discard: 4 MiB of the image are deallocated ($before -> $after blocks)" \
	test "$after" -le $((before - 8192 * 512 / $(stat -c %B "$D")))
check "discard: data after the range is untouched" cmp -s <(sectors 8192 $((SECTORS - 8192)) "$D") \
	<(sectors 8192 $((SECTORS - 8192)) "$ORIG")
fresh
blk zeroes 30 picotest=blk-zeroes:10000:100
check "write-zeroes: the guest gets OK" has "blk-zeroes: ok"
check "write-zeroes: the range reads as zeros on the host" cmp -s <(sectors 10000 100 "$D") <(head -c 51200 /dev/zero)
check "write-zeroes: the neighbours are untouched" \
	eval 'cmp -s <(sectors 9999 1 "$D") <(sectors 9999 1 "$ORIG") && cmp -s <(sectors 10100 1 "$D") <(sectors 10100 1 "$ORIG")'

# --- read-only, out of range, ephemeral: the image stays as it was ---
fresh
blk ro 20 picotest=blk-ro-write disk.0.readonly=true
check "readonly: writes get IOERR, with and without RO acked" has "blk-ro: ioerr"
check "readonly: the image is unchanged" cmp -s "$ORIG" "$D"
fresh
blk oob 30 picotest=blk-oob
check "out of range (at capacity, straddling, 2^63, wrapping): all IOERR" has "blk-oob: all ioerr"
check "out of range: the image (size and data) is unchanged" cmp -s "$ORIG" "$D"
fresh
sum=$(sha256sum <"$D")
blk eph 30 picotest=blk-rw-verify:0:4096:99 disk.0.ephemeral=true
check "ephemeral: the guest reads back its own writes" has "blk-verify: ok"
check "ephemeral: the image is byte-identical afterwards" test "$(sha256sum <"$D")" = "$sum"

# --- durability: flushed data survives kill -9 of picovm ---
fresh
OUT=$WORK/durable
"$PICOVM" run "$C" cmdline=picotest=blk-durable:2048:4096:13 "disk.0.path=$D" >"$OUT" 2>"$OUT.err" </dev/null &
pid=$!
until_true 60 grep -qs '^blk-durable: flushed' "$OUT"
{ kill -9 "$pid"; wait "$pid"; } 2>/dev/null	# (no "Killed" notice)
check "durability: the guest wrote and flushed 2 MiB" has "blk-durable: flushed"
check "durability: after kill -9 every flushed block is in the image" \
	cmp -s <(sectors 2048 4096 "$D") <("$PAT" 13 $((4096 * 512)))

# --- interrupts ---
blk irq 30 picotest=blk-irq
check "blk-irq: four reads completed by interrupt, data intact" \
	grep -qxF "blk-irq: ok irqs=4 reads=4 len=16384 cksum=$(sectors 0 32 "$D" | cksum | cut -d' ' -f1)" "$OUT"

# --- startup errors: status 2, the message names the key ---
C2=$WORK/bad.conf
conf "$C2" kernel="$K" memory=64M cmdline=picotest=blk-info
OUT=$WORK/missing
vm_run 20 "$OUT" run "$C2" "disk.0.path=$WORK/no-such.img"
check "missing image: exit status 2" test "$VM_STATUS" = 2
check "missing image: the message names disk.0.path" grep -q 'disk\.0\.path' "$OUT.err"
head -c 1000 /dev/urandom >"$WORK/odd.img"
OUT=$WORK/odd
vm_run 20 "$OUT" run "$C2" "disk.0.path=$WORK/odd.img"
check "image size not a multiple of 512: exit status 2" test "$VM_STATUS" = 2
check "image size not a multiple of 512: the message names disk.0.path" grep -q 'disk\.0\.path' "$OUT.err"
fresh
OUT=$WORK/lock1
timeout -k 3 90 "$PICOVM" run "$C2" cmdline=picotest=spin "disk.0.path=$D" >"$OUT" 2>"$OUT.err" </dev/null &
pid=$!
until_true 60 grep -qs spinning "$OUT"
OUT=$WORK/lock2
vm_run 20 "$OUT" run "$C2" "disk.0.path=$D"
check "image in use by another picovm: exit status 2" test "$VM_STATUS" = 2
check "image in use by another picovm: the message names disk.0.path" grep -q 'disk\.0\.path' "$OUT.err"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# --- huge requests (issue 16): sparse images, so gigabytes cost nothing ---
# The guest builds each request from one buffer that every data descriptor
# points at (guest/t_blk_big.c).
BIG=$WORK/big.img
SMALL=$WORK/small.img
MIB64=$((64 * 1024 * 1024))

# A 2.25 GiB read (36 x 64 MiB) inside a 3 GiB image: one readv moves at
# most 0x7ffff000 bytes, so a short transfer must be continued.  The last
# segment (past 2 GiB) holds pattern 7 and must arrive intact.
truncate -s 3G "$BIG"
"$PAT" 7 $MIB64 | dd of="$BIG" bs=1M seek=$((35 * 64)) conv=notrunc status=none
OUT=$WORK/huge
vm_run 120 "$OUT" run "$C" memory=256M cmdline=picotest=blk-huge:0:36:64:7 "disk.0.path=$BIG"
check "huge read: 2.25 GiB in one request gets OK (status $VM_STATUS)" has "blk-huge: ok"

# Fairness: 16 reads of 896 MiB queued on disk 0, then one 4 KiB read on
# disk 1.  When the small read completes, the big ones must not all be
# done: disk 1 did not wait behind disk 0's backlog (an ordering check;
# the guest then exits with the backlog still queued).
truncate -s 1G "$BIG"
truncate -s 1M "$SMALL"
OUT=$WORK/fair
t0=$(date +%s%N)
PICOVM_STATS=1 vm_run 120 "$OUT" run "$C" memory=256M cmdline=picotest=blk-fair:16:14:64 \
	"disk.0.path=$BIG" "disk.1.path=$SMALL"
echo "info  fairness: $(grep blk-fair "$OUT"), VM took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "fairness: a small read on disk 1 completes while disk 0's big reads are queued" \
	test "$VM_STATUS" = 0 -a -n "$(grep '^blk-fair: small=ok big-done=' "$OUT")"
echo "info  fairness: $(grep -o 'stats: io ring: .*' "$OUT.err")"
check "fairness: both disks' chunks in flight fit the I/O ring sized for them, no completion overflowed" \
	ring_ok "$OUT.err"

# A stop with gigabytes of reads in flight: timeout = 2s, then SIGTERM.
OUT=$WORK/bigstop
t0=$(date +%s%N)
vm_run 20 "$OUT" run "$C" memory=256M timeout=2s cmdline=picotest=blk-flood:14:64 \
	"disk.0.path=$BIG"
echo "info  timeout with big reads in flight: status $VM_STATUS after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "big reads in flight: timeout = 2s ends the VM with 124 before the watchdog" \
	test "$VM_STATUS" = 124
OUT=$WORK/bigterm
truncate -s 1G "$SMALL"	# an image of its own: not one a killed VM may hold
# (timeout passes our SIGTERM on and kills 20 s later: the watchdog)
timeout -k 20 60 "$PICOVM" run "$C" memory=256M cmdline=picotest=blk-flood:14:64 \
	"disk.0.path=$SMALL" >"$OUT" 2>"$OUT.err" </dev/null &
pid=$!
until_true 60 grep -qs "blk-flood: running" "$OUT"
sleep 1
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"
st=$?
echo "info  SIGTERM with big reads in flight: status $st after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "big reads in flight: SIGTERM ends the VM with 143 before the watchdog" test "$st" = 143
rm -f "$BIG" "$SMALL"

# --- virtio-console (console = virtio): output, input, volume ---
OUT=$WORK/vcon
vm_run 20 "$OUT" run "$C2" cmdline=picotest=vcon-hello console=virtio
check "virtio-console: output reaches stdout" has "vcon: hello from picotest"
check "virtio-console: exit status 0" test "$VM_STATUS" = 0
OUT=$WORK/vecho
printf 'the quick brown fox\n' | timeout -k 3 20 "$PICOVM" run "$C2" cmdline=picotest=vcon-echo console=virtio >"$OUT" 2>"$OUT.err"
check "virtio-console: stdin reaches the guest" has "vcon-echo: the quick brown fox"
check "virtio-console: input is byte-exact" has "$(printf 'the quick brown fox' | cksum_line vcon-echo)"
n=100000
awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) printf "%c", (i % 64 == 63) ? 10 : 97 + i % 64 % 26;
	if (n % 64) printf "\n"; print "vcon-flood: done" }' >"$WORK/vflood.want"
OUT=$WORK/vflood
vm_run 30 "$OUT" run "$C2" "cmdline=picotest=vcon-flood:$n" console=virtio
check "virtio-console: $n bytes of output are byte-exact" cmp -s "$WORK/vflood.want" "$OUT"
# serial = none: no output, but the guest's writes are still consumed (a
# console thread drains the queue), so the flood ends.
OUT=$WORK/vflood-none
vm_run 30 "$OUT" run "$C2" "cmdline=picotest=vcon-flood:$n" console=virtio serial=none
check "virtio-console, serial = none: a $n-byte flood ends, status 0, nothing on stdout" \
	test "$VM_STATUS" = 0 -a ! -s "$OUT"
