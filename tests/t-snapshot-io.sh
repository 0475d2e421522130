#!/usr/bin/env bash
# Snapshots of VMs with device I/O in flight (guest/t_snapio.c): 4 vCPUs,
# virtio-blk reads, a virtio-console line and (as root) a virtio-net echo
# request kicked when the guest writes the snapshot port.  Restored in a
# new process the guest finishes with the checksums and output of a run
# that was never interrupted.  Ephemeral disks saved with the snapshot,
# each clone with its own copy-on-write view; bad device records.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$PICOVM" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail snapshot-io "picovm or the test guests are not built (make picovm guests)"
	exit 0
fi
if [ ! -c /dev/kvm ]; then
	skip snapshot-io "no /dev/kvm on this machine"
	exit 0
fi

NSLIST=()
cleanup() {
	local n
	for n in "${NSLIST[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# The output of the first VM and its restores, concatenated, against the
# uninterrupted run's: every console byte once, the same checksums.
same() {	# NAME FULL PARTS...
	local n=$1 full=$2; shift 2
	check "$n" cmp -s "$full" <(cat "$@")
}

head -c 4M /dev/urandom >"$WORK/disk0.img"
C=$WORK/io.conf
conf "$C" kernel="$GUEST/test64.elf" memory=64M vcpus=4 console=virtio \
	cmdline=picotest=snapio:8:3:0:1 disk.0.path="$WORK/d.img"

# blk + console, 4 vCPUs.
cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/full
vm_run 60 "$OUT" run "$C"
check "blk+console, uninterrupted: status 0" test "$VM_STATUS" = 0
check "blk+console, uninterrupted: the work ended on 4 vCPUs" \
	grep -q "^snapio: done read=[0-9]* written=[0-9]* echo=[0-9]* aps=3$" "$OUT"
cp "$WORK/d.img" "$WORK/d-full.img"
cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/a
vm_run 60 "$OUT" run "$C" snapshot.path="$WORK/s1"
check "blk+console: snapshot with reads and a console line in flight: status 0" \
	test "$VM_STATUS" = 0
OUT=$WORK/b
vm_run 60 "$OUT" restore "$WORK/s1"
check "blk+console: restored: status 0" test "$VM_STATUS" = 0
same "blk+console: snapshot + restore output = the uninterrupted output" \
	"$WORK/full" "$WORK/a" "$WORK/b"
check "blk+console: the disk ends byte-identical to the uninterrupted run's" \
	cmp -s "$WORK/d.img" "$WORK/d-full.img"
cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/cont
vm_run 60 "$OUT" run "$C" snapshot.path="$WORK/s2" snapshot.after=continue
check "blk+console, snapshot.after = continue: the run ends as an uninterrupted one" \
	cmp -s "$WORK/full" "$OUT"

# The console record: wrong sizes are status 2 (the state is re-sealed
# with a fixed checksum, tests/tools/snapseal).
make -s -C "$TOP/tests" build/snapseal >"$WORK/make.log" 2>&1 ||
	fail "snapseal" "make -C tests build/snapseal failed: $(tail -c 600 "$WORK/make.log")"
SEAL=$TOP/tests/build/snapseal
# badrec SNAPSHOT N HOW NAME PATTERN [prefix command...]: vdev record N of
# a copy of SNAPSHOT rewritten (snapseal HOW); the restore (run under the
# prefix, e.g. ip netns exec) must end with status 2 saying PATTERN.
badrec() {
	local snap=$1 n=$2 how=$3 name=$4 pat=$5; shift 5
	rm -rf "$WORK/bad"; cp -a --sparse=always "$snap" "$WORK/bad"
	"$SEAL" "$WORK/bad/state" vdev "$n" "$how"
	OUT=$WORK/bad.out
	timeout -k 3 30 "$@" "$PICOVM" restore "$WORK/bad" >"$OUT" 2>"$OUT.err" </dev/null
	VM_STATUS=$?
	check "bad snapshot, $name: status 2" test "$VM_STATUS" = 2
	check "bad snapshot, $name: says '$pat'" grep -q "$pat" "$OUT.err"
}
for how in short long; do
	badrec "$WORK/s1" 1 $how "console record $how" "console: [0-9]* bytes of state, expected"
done
badrec "$WORK/s1" 1 skip "console transmit offset out of range" "console: .* already out"

# Ephemeral disks: the overlay is saved in the folder (disk.0.overlay,
# disk.0.bitmap); each restore writes a private overlay of its own on top,
# so clones never write the saved one, and the image never changes.
CE=$WORK/eph.conf
conf "$CE" kernel="$GUEST/test64.elf" memory=64M vcpus=4 console=virtio \
	cmdline=picotest=snapio:8:3:0:2 disk.0.path="$WORK/img" disk.0.ephemeral=on
cp "$WORK/disk0.img" "$WORK/img"
OUT=$WORK/efull
vm_run 60 "$OUT" run "$CE"
check "ephemeral, uninterrupted: status 0" test "$VM_STATUS" = 0
same "ephemeral, uninterrupted: the checksums of a writable disk's run" "$WORK/full" "$OUT"
OUT=$WORK/ea
vm_run 60 "$OUT" run "$CE" snapshot.path="$WORK/e1"
check "ephemeral: snapshot with reads in flight: status 0" test "$VM_STATUS" = 0
check "ephemeral: the folder holds the overlay and its bitmap" \
	test -f "$WORK/e1/disk.0.overlay" -a -s "$WORK/e1/disk.0.bitmap"
check "ephemeral: the saved overlay is the disk's size" \
	test "$(stat -c %s "$WORK/e1/disk.0.overlay")" = $((4 << 20))
alloc=$(( $(stat -c %b "$WORK/e1/disk.0.overlay") * 512 ))
info "ephemeral: saved overlay: $((alloc / 1024)) KiB allocated (3 rounds of 256 KiB written)"
check "ephemeral: the saved overlay is sparse (under 2 MiB allocated of 4)" \
	test "$alloc" -lt $((2 << 20))
sum_e1=$(cat "$WORK/e1"/* | cksum)
OUT=$WORK/eb
vm_run 60 "$OUT" restore "$WORK/e1"
check "ephemeral: restored: status 0" test "$VM_STATUS" = 0
same "ephemeral: snapshot + restore = the uninterrupted output (the writes before the snapshot read back)" \
	"$WORK/efull" "$WORK/ea" "$WORK/eb"
check "ephemeral: the image never changed" cmp -s "$WORK/img" "$WORK/disk0.img"
check "ephemeral: the snapshot's files unchanged by the restore" \
	test "$(cat "$WORK/e1"/* | cksum)" = "$sum_e1"

# 8 clones of one snapshot at once, each with its own overlay.
clones "$WORK/e1" 8 "$WORK/eb" eclone
check "8 ephemeral clones at once: all 8 end with status 0 and the checksums" test "$CLONES_OK" = 8
check "8 ephemeral clones: the snapshot's files are byte-identical afterwards" \
	test "$(cat "$WORK/e1"/* | cksum)" = "$sum_e1"
check "8 ephemeral clones: the image never changed" cmp -s "$WORK/img" "$WORK/disk0.img"

# Snapshot, restore, snapshot again (the saved overlay and the clone's
# own merged into the new folder), restore again.
OUT=$WORK/eb2
vm_run 60 "$OUT" restore "$WORK/e1" snapshot.path="$WORK/e2"
check "ephemeral: a restored VM snapshots again: status 0" test "$VM_STATUS" = 0
OUT=$WORK/ec2
vm_run 60 "$OUT" restore "$WORK/e2"
check "ephemeral: restore of the second snapshot: status 0" test "$VM_STATUS" = 0
same "ephemeral: snapshot, restore, snapshot, restore = the uninterrupted output" \
	"$WORK/efull" "$WORK/ea" "$WORK/eb2" "$WORK/ec2"
check "ephemeral: the first snapshot's files unchanged by the second" \
	test "$(cat "$WORK/e1"/* | cksum)" = "$sum_e1"
OUT=$WORK/econt
vm_run 60 "$OUT" run "$CE" snapshot.path="$WORK/e3" snapshot.after=continue
check "ephemeral, snapshot.after = continue: the run ends as an uninterrupted one" \
	cmp -s "$WORK/efull" "$OUT"

# Bad ephemeral snapshots: status 2.
ebad() {	# NAME PATTERN COMMAND...: run on a copy of e1 in $WORK/bad
	local name=$1 pat=$2; shift 2
	rm -rf "$WORK/bad"; cp -a --sparse=always "$WORK/e1" "$WORK/bad"
	"$@"
	OUT=$WORK/bad.out
	vm_run 30 "$OUT" restore "$WORK/bad"
	check "bad snapshot, $name: status 2" test "$VM_STATUS" = 2
	check "bad snapshot, $name: says '$pat'" grep -q "$pat" "$OUT.err"
}
ebad "overlay truncated" "not a file of the disk's size" \
	truncate -s 1M "$WORK/bad/disk.0.overlay"
ebad "overlay longer" "not a file of the disk's size" \
	truncate -s 5M "$WORK/bad/disk.0.overlay"
ebad "bitmap truncated" "not a file of one bit per sector" \
	truncate -s 100 "$WORK/bad/disk.0.bitmap"
ebad "bitmap longer" "not a file of one bit per sector" \
	truncate -s 2000 "$WORK/bad/disk.0.bitmap"
ebad "overlay missing" "cannot open disk.0.overlay" rm "$WORK/bad/disk.0.overlay"
ebad "the disk record's ephemeral flag flipped" "the state says the disk is not ephemeral" \
	"$SEAL" "$WORK/bad/state" vdev 0 ephemeral
for how in short long; do
	badrec "$WORK/e1" 0 $how "disk record $how" "disk.0: [0-9]* bytes of state, expected"
done

# virtio-net: each VM in a namespace of its own with a pre-made tap
# holding 10.99.0.1 (MAC 02:99:00:00:00:01) and a static neighbour entry
# for the guest; a restore gets another namespace and tap (the host side
# may differ).  The echo request in flight at the snapshot, or its reply,
# may be lost: the guest sends it again.
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null ||
   ! ip netns add "pv-snap-$$-probe" 2>/dev/null; then
	skip snapshot-io-net "needs root and iproute2 (network namespaces, taps)"
	exit 0
fi
ip netns del "pv-snap-$$-probe"
MAC=02:aa:bb:cc:dd:01
ns() {	# NAME: a namespace with the tap pvsnap0 set up; in $NS
	NS=pv-snap-$$-$1
	ip netns add "$NS" || { fail "namespace $NS" "ip netns add failed"; exit 0; }
	NSLIST+=("$NS")
	ip -n "$NS" link set lo up
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$NS" tuntap add dev pvsnap0 mode tap vnet_hdr &&
	ip -n "$NS" link set pvsnap0 address 02:99:00:00:00:01 up &&
	ip -n "$NS" addr add 10.99.0.1/24 dev pvsnap0 &&
	ip -n "$NS" neigh add 10.99.0.2 lladdr $MAC dev pvsnap0 nud permanent ||
		{ fail "namespace $NS" "tap set-up failed"; exit 0; }
}
nrun() {	# NS SECONDS OUTFILE picovm-arguments...
	local n=$1 secs=$2 out=$3; shift 3
	timeout -k 3 "$secs" ip netns exec "$n" "$PICOVM" "$@" >"$out" 2>"$out.err" </dev/null
	VM_STATUS=$?
}
CN=$WORK/net.conf
conf "$CN" kernel="$GUEST/test64.elf" memory=64M vcpus=4 console=virtio \
	cmdline=picotest=snapio:8:3:1:1 disk.0.path="$WORK/d.img" \
	net.0.tap=pvsnap0 net.0.mac=$MAC
ns full; cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/nfull
nrun "$NS" 90 "$OUT" run "$CN"
check "blk+net+console, uninterrupted: status 0" test "$VM_STATUS" = 0
check "blk+net+console, uninterrupted: 8 echo replies, 4 vCPUs" \
	grep -q "^snapio: done .* aps=3$" "$OUT"
cp "$WORK/d.img" "$WORK/d-nfull.img"
ns first; cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/na
nrun "$NS" 90 "$OUT" run "$CN" snapshot.path="$WORK/n1"
check "blk+net+console: snapshot with all three in flight: status 0" test "$VM_STATUS" = 0
ns second
OUT=$WORK/nb
nrun "$NS" 90 "$OUT" restore "$WORK/n1"
check "blk+net+console: restored in another namespace: status 0" test "$VM_STATUS" = 0
same "blk+net+console: snapshot + restore = the uninterrupted run (checksums, output)" \
	"$WORK/nfull" "$WORK/na" "$WORK/nb"
check "blk+net+console: the disk ends byte-identical to the uninterrupted run's" \
	cmp -s "$WORK/d.img" "$WORK/d-nfull.img"
ns cont; cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/ncont
nrun "$NS" 90 "$OUT" run "$CN" snapshot.path="$WORK/n2" snapshot.after=continue
check "blk+net+console, snapshot.after = continue: the guest receives again, ends as uninterrupted" \
	cmp -s "$WORK/nfull" "$OUT"
ns other
ip -n "$NS" tuntap add dev pvother mode tap vnet_hdr
OUT=$WORK/nother
cp "$WORK/d-nfull.img" "$WORK/d.img"	# any disk of the same size
nrun "$NS" 30 "$OUT" restore "$WORK/n1" net.0.tap=pvother net.0.mac=02:00:00:00:00:09
check "restore overriding net.0.mac: status 2" test "$VM_STATUS" = 2
# Each in a fresh namespace: a closed tap may stay attached for a while
# (the io_uring ring of an ended picovm lets go of it only later).
for how in short long mac; do
	ns "bad$how"
	pat="net.0: [0-9]* bytes of state, expected"
	[ $how = mac ] && pat="net.0: the saved MAC, MTU or link status"
	badrec "$WORK/n1" 1 $how "net record ($how)" "$pat" ip netns exec "$NS"
done

# What a clone with a disk and a net costs beyond guest RAM: picovm's
# anonymous memory while the restored VM idles (snapboot:1).  About
# 0.22 MiB here; with every transmit slot's iovec array resident (64 x
# 4 KiB, as before the slots were handed out on demand) it was 0.47 MiB.
ns idle
truncate -s 1M "$WORK/idle.img"
conf "$WORK/idle.conf" kernel="$GUEST/test64.elf" memory=64M serial=none \
	cmdline=picotest=snapboot:1 disk.0.path="$WORK/idle.img" \
	net.0.tap=pvsnap0 net.0.mac=$MAC
OUT=$WORK/idle-snap
nrun "$NS" 60 "$OUT" run "$WORK/idle.conf" snapshot.path="$WORK/nidle"
check "idle clone with disk and net: snapshot, status 0" test "$VM_STATUS" = 0
ip netns exec "$NS" "$PICOVM" restore "$WORK/nidle" timeout=60s </dev/null \
	>/dev/null 2>"$WORK/idle.err" &
idle=$!
anon=
until_true 30 grep -q boot-timer "$WORK/idle.err" &&
	for p in $idle $(cat /proc/$idle/task/*/children 2>/dev/null); do
		grep -q "$WORK/nidle/memory" "/proc/$p/maps" 2>/dev/null || continue
		anon=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { a = ($6 == "" || $6 ~ /^\[(heap|stack)\]$/) }
			/^Private_Dirty:/ { if (a) n += $2 } END { print n + 0 }' "/proc/$p/smaps")
	done
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
info "idle clone with disk and net: picovm's anonymous private memory ${anon:-?} KiB"
check "idle clone with disk and net: picovm's anonymous memory under 384 KiB" \
	test -n "$anon" -a "${anon:-0}" -gt 0 -a "${anon:-0}" -lt 384
