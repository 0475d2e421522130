#!/usr/bin/env bash
# Snapshot tier: a test guest snapshots itself through port 0x512 in the
# middle of its work (4 vCPUs: the APs halted, the boot CPU computing);
# restored in new processes it finishes with the output of a run that was
# never interrupted.  Clones, a snapshot of a restored VM, and snapshots
# that must not load (each a status-2 error).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$PICOVM" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail snapshot "picovm or the test guests are not built (make picovm guests)"
	exit 0
fi
if [ ! -c /dev/kvm ]; then
	skip snapshot "no /dev/kvm on this machine"
	exit 0
fi

C=$WORK/snap.conf
conf "$C" kernel="$GUEST/test64.elf" memory=64M vcpus=4 cmdline=picotest=snap:40:1

# The reference: no snapshot.path, the port write is ignored (and said so).
OUT=$WORK/full
vm_run 60 "$OUT" run "$C"
check "uninterrupted run ends with status 0" test "$VM_STATUS" = 0
check "uninterrupted run: every AP came up and the work ended" \
	grep -q "^snap: done cksum=[0-9]* aps=3$" "$OUT"
check "without snapshot.path the port write is logged as ignored" \
	grep -q "snapshot.path is not set: ignored" "$OUT.err"

# Snapshot, stop.
S1=$WORK/s1
OUT=$WORK/first
vm_run 60 "$OUT" run "$C" snapshot.path="$S1"
check "snapshot run ends with status 0 (snapshot.after = stop)" test "$VM_STATUS" = 0
check "snapshot run: stopped after the first part" \
	diff <(head -n 1 "$WORK/full") "$OUT"
check "snapshot: the folder holds vm.conf, state and memory" \
	test -s "$S1/vm.conf" -a -s "$S1/state" -a -f "$S1/memory"
check "snapshot: the memory file is the size of memory (64M)" \
	test "$(stat -c %s "$S1/memory")" = $((64 << 20))
alloc=$(( $(stat -c %b "$S1/memory") * $(stat -c %B "$S1/memory") ))
info "snapshot: memory file: $((alloc / 1024)) KiB allocated of 65536 KiB"
check "snapshot: the memory file is sparse (under 8 MiB allocated)" \
	test "$alloc" -lt $((8 << 20))
check "snapshot: vm.conf has no snapshot.path" grep -qx 'snapshot.path = ""' "$S1/vm.conf"
grep -h "snapshot: saved" "$OUT.err" | sed 's/^/info  /'

# Restore: the guest finishes with the uninterrupted run's output.
sum_before=$(cat "$S1"/* | cksum)
OUT=$WORK/rest
vm_run 60 "$OUT" restore "$S1"
check "restore ends with status 0" test "$VM_STATUS" = 0
check "restore: first part + restored part = the uninterrupted output" \
	diff "$WORK/full" <(cat "$WORK/first" "$OUT")
check "restore: the snapshot's files are unchanged (memory mapped private)" \
	test "$(cat "$S1"/* | cksum)" = "$sum_before"

# Allowed overrides.
OUT=$WORK/rest-over
vm_run 60 "$OUT" restore "$S1" name=clone-x timeout=50s sandbox=on log=file:"$WORK/clone.log"
check "restore with name, timeout, sandbox and log overrides: status 0" test "$VM_STATUS" = 0
check "restore with overrides: same output" diff <(tail -n 1 "$WORK/full") "$OUT"

# 8 clones of one snapshot at once.
tail -n 1 "$WORK/full" >"$WORK/last"
clones "$S1" 8 "$WORK/last" clone
check "8 clones at once: all 8 end with status 0 and the right checksum" test "$CLONES_OK" = 8
check "8 clones: the snapshot's files are byte-identical afterwards" \
	test "$(cat "$S1"/* | cksum)" = "$sum_before"

# Snapshot, restore, snapshot again, restore again; snapshot.after = continue.
C2=$WORK/snap2.conf
conf "$C2" kernel="$GUEST/test64.elf" memory=64M vcpus=2 cmdline=picotest=snap:60:2
OUT=$WORK/full2
vm_run 60 "$OUT" run "$C2"
check "two snapshot points, uninterrupted: status 0" test "$VM_STATUS" = 0
OUT=$WORK/a
vm_run 60 "$OUT" run "$C2" snapshot.path="$WORK/d1"
check "first of two snapshots: status 0" test "$VM_STATUS" = 0
OUT=$WORK/b
vm_run 60 "$OUT" restore "$WORK/d1" snapshot.path="$WORK/d2"
check "restored VM snapshots again: status 0" test "$VM_STATUS" = 0
OUT=$WORK/c
vm_run 60 "$OUT" restore "$WORK/d2"
check "restore of the second snapshot: status 0" test "$VM_STATUS" = 0
check "snapshot, restore, snapshot, restore = the uninterrupted output" \
	diff "$WORK/full2" <(cat "$WORK/a" "$WORK/b" "$WORK/c")
OUT=$WORK/self
vm_run 60 "$OUT" restore "$WORK/d1" snapshot.path="$WORK/d1"
check "snapshot.path = the folder restored from: status 2" test "$VM_STATUS" = 2
check "snapshot.path = the folder restored from: says so" \
	grep -q "the folder this VM is restored from" "$OUT.err"
OUT=$WORK/cont
vm_run 60 "$OUT" run "$C2" snapshot.path="$WORK/d3" snapshot.after=continue
check "snapshot.after = continue: the run goes on to the end" \
	diff "$WORK/full2" "$OUT"
OUT=$WORK/cont2
vm_run 60 "$OUT" restore "$WORK/d3"
check "snapshot.after = continue: the last snapshot restores to the end" \
	diff <(tail -n 1 "$WORK/full2") "$WORK/cont2"

# A VM that may write a snapshot folder holds its memory file locked: no
# restore of it meanwhile (its pages could change under the clone), and no
# second writer.
conf "$WORK/long.conf" kernel="$GUEST/test64.elf" memory=64M \
	cmdline=picotest=snap:1000000:0 snapshot.path="$S1" timeout=120s
"$PICOVM" run "$WORK/long.conf" >/dev/null 2>"$WORK/long.err" </dev/null &
long=$!
# Until it holds the lock (taken at start), seen in /proc/locks: trying
# the lock before would race with it.  A watchdog, not a verdict on speed.
ino=$(stat -c %i "$S1/memory")
locked() { grep -q "FLOCK.*WRITE.*:$ino " /proc/locks; }
check "a VM with snapshot.path holds the memory file's lock" until_true 60 locked
OUT=$WORK/locked
vm_run 30 "$OUT" restore "$S1"
check "restore of a folder a running VM may write: status 2" test "$VM_STATUS" = 2
check "restore of a folder a running VM may write: says so" \
	grep -q "a running VM may write this snapshot" "$OUT.err"
vm_run 30 "$OUT" run "$C" snapshot.path="$S1"
check "a second VM snapshotting into the same folder: status 2" test "$VM_STATUS" = 2
check "the VM holding the folder was still running" kill "$long"
wait "$long" 2>/dev/null
OUT=$WORK/unlocked
vm_run 60 "$OUT" restore "$S1"
check "once that VM ended the folder restores again" test "$VM_STATUS" = 0

# Clones are distinct: the VM generation ID (16 bytes at 0xef000, named by
# the SSDT's \_SB.VGEN.ADDR) is new in every picovm process, and a restored
# guest finds GPE 0 raised (picovm does it before any vCPU runs) and gets
# the SCI (IRQ 9) for it; the VM that runs on after its snapshot does not.
CG=$WORK/vmgen.conf
conf "$CG" kernel="$GUEST/test64.elf" memory=64M vcpus=2 cmdline=picotest=vmgen
vmgen_id() { sed -n "s/^vmgen: $1 id=\([0-9a-f]*\).*/\1/p" "$2"; }
OUT=$WORK/vg-boot1
vm_run 60 "$OUT" run "$CG"
OUT=$WORK/vg-boot2
vm_run 60 "$OUT" run "$CG"
check "vmgenid: a boot without snapshot.path sees no GPE, restore count 0" \
	grep -q "^vmgen: after id=[0-9a-f]\{32\} gpe=0 sci=no cleared=no restores=0->0$" "$OUT"
b1=$(vmgen_id before "$WORK/vg-boot1"); b2=$(vmgen_id before "$WORK/vg-boot2")
check "vmgenid: random at every boot (two boots: $b1, $b2)" \
	test -n "$b1" -a -n "$b2" -a "$b1" != "$b2" -a "$b1" != "$(printf '0%.0s' {1..32})"
OUT=$WORK/vg-snap
vm_run 60 "$OUT" run "$CG" snapshot.path="$WORK/vg"
check "vmgenid: snapshot: status 0" test "$VM_STATUS" = 0
before=$(vmgen_id before "$OUT")
for i in 1 2; do	# the second one sandboxed: the GPE's SCI from a vCPU thread
	OUT=$WORK/vg-clone$i
	vm_run 60 "$OUT" restore "$WORK/vg" sandbox=$([ $i = 2 ] && echo on || echo off)
	check "vmgenid: clone $i: status 0, GPE 0 set, the SCI arrived, the bit cleared, restore count 0 -> 1" \
		grep -q "^vmgen: after id=[0-9a-f]\{32\} gpe=1 sci=yes cleared=yes restores=0->1$" "$OUT"
done
c1=$(vmgen_id after "$WORK/vg-clone1"); c2=$(vmgen_id after "$WORK/vg-clone2")
info "vmgenid: snapshotted $before, clones $c1 and $c2"
check "vmgenid: each clone's ID differs from the snapshotted VM's" \
	test -n "$c1" -a -n "$c2" -a "$c1" != "$before" -a "$c2" != "$before"
check "vmgenid: the two clones' IDs differ" test "$c1" != "$c2"
OUT=$WORK/vg-cont
vm_run 60 "$OUT" run "$CG" snapshot.path="$WORK/vg2" snapshot.after=continue
check "vmgenid: the VM that runs on keeps its ID and restore count and sees no GPE" \
	grep -q "^vmgen: after id=$(vmgen_id before "$OUT") gpe=0 sci=no cleared=no restores=0->0$" "$OUT"
# The tables as the guest got them (the snapshot's memory file holds its
# RAM): iasl -d shows the device, its ADDR, the GPE method and the FADT's
# GPE0 block.
if command -v iasl >/dev/null; then
	A=$WORK/acpi
	mkdir -p "$A"
	dd if="$WORK/vg/memory" of="$A/area" bs=4096 skip=$((0xe0000 / 4096)) \
		count=16 status=none
	table() {	# SIGNATURE FILE: the table, found by its signature
		local off len
		off=$(grep -obUa "$1" "$A/area" | head -n 1 | cut -d: -f1)
		[ -n "$off" ] || return 1
		len=$(od -An -tu4 -j$((off + 4)) -N4 "$A/area" | tr -d ' ')
		dd if="$A/area" of="$2" bs=1 skip="$off" count="$len" status=none
	}
	table SSDT "$A/ssdt.dat" && table FACP "$A/facp.dat" &&
		(cd "$A" && iasl -d ssdt.dat facp.dat >iasl.log 2>&1)
	check "vmgenid: iasl -d: the SSDT has \\_SB.VGEN with _HID VMGENCTR, _CID VM_Gen_Counter" \
		grep -Pzq 'Scope \(\\_SB\)\s*\{\s*Device \(VGEN\)\s*\{\s*Name \(_HID, "VMGENCTR"\)[^\n]*\n\s*Name \(_CID, "VM_Gen_Counter"\)' "$A/ssdt.dsl"
	check "vmgenid: iasl -d: ADDR returns the ID's address (0xEF000, 0)" \
		grep -Pzq 'Method \(ADDR, 0[^{]*\{\s*Return \(Package \(0x02\)\s*\{\s*0x000EF000,\s*Zero' "$A/ssdt.dsl"
	check "vmgenid: iasl -d: \\_GPE._E00 notifies \\_SB.VGEN with 0x80" \
		grep -Pzq 'Scope \(\\_GPE\)\s*\{\s*Method \(_E00, 0[^{]*\{\s*Notify \(\\_SB.VGEN, 0x80\)' "$A/ssdt.dsl"
	check "vmgenid: iasl -d: the FADT's GPE0 block is 4 bytes at port 0x60C" \
		grep -q "GPE0 Block Address : 0000060C" "$A/facp.dsl"
	check "vmgenid: iasl -d: GPE0 block length 4" \
		grep -q "GPE0 Block Length : 04" "$A/facp.dsl"
else
	skip "vmgenid: iasl -d of the SSDT" "iasl is missing (Debian package acpica-tools)"
fi

# A TSC-deadline timer armed at the snapshot (a tickless Linux guest's
# clock event) fires in the restored VM: the restore must load
# IA32_TSC_DEADLINE after the LAPIC, which KVM ignores it without.
CT=$WORK/snaptimer.conf
conf "$CT" kernel="$GUEST/test64.elf" memory=64M vcpus=1 cmdline=picotest=snaptimer
OUT=$WORK/st-boot
vm_run 120 "$OUT" run "$CT"
if reason=$(sed -n 's/^snaptimer: skip: //p' "$OUT") && [ -n "$reason" ]; then
	skip "snaptimer: TSC-deadline timer across a snapshot" "$reason"
else
	check "snaptimer, no snapshot.path: the timer fired" \
		grep -qx "snaptimer: fired" "$OUT"
	check "snaptimer, no snapshot.path: status 0" test "$VM_STATUS" = 0
	OUT=$WORK/st-snap
	vm_run 60 "$OUT" run "$CT" snapshot.path="$WORK/st" snapshot.after=stop
	check "snaptimer: snapshot with the timer armed: status 0, stopped there" \
		test "$VM_STATUS" = 0 -a "$(cat "$OUT")" = "snaptimer: armed"
	OUT=$WORK/st-rest
	vm_run 120 "$OUT" restore "$WORK/st"
	info "snaptimer: restored: $(grep '^snaptimer: restores=' "$OUT")"
	check "snaptimer: restored (restore count 0 -> 1)" \
		grep -q "^snaptimer: restores=0->1 " "$OUT"
	check "snaptimer: restored: the armed TSC-deadline timer fired, status 0" \
		test "$VM_STATUS" = 0 -a "$(tail -n 1 "$OUT")" = "snaptimer: fired"
fi

# The PIT ticking at the snapshot ticks on in the restored VM (its state
# restored; the guest does not program it again).  The restore loads it
# before PIT reinjection goes off (vm/pit.h): KVM_SET_PIT2 takes the PIT's
# lock, which that call holds through a grace period (13-16 ms here).
CP=$WORK/snappit.conf
conf "$CP" kernel="$GUEST/test64.elf" memory=64M cmdline=picotest=snappit
OUT=$WORK/pit-snap
vm_run 60 "$OUT" run "$CP" snapshot.path="$WORK/sp"
check "snappit: snapshot with the PIT running: status 0, stopped there" \
	test "$VM_STATUS" = 0 -a ! -s "$OUT"
OUT=$WORK/pit-rest
vm_run 60 "$OUT" restore "$WORK/sp"
# At least 5: one more may land between the guest's count reaching 5 and
# its interrupts going off.
check "snappit: restored, the PIT's interrupts go on (5 without programming it again)" \
	test "$VM_STATUS" = 0 -a "$(wc -l <"$OUT")" = 1 -a \
	-n "$(grep -Ex 'snappit: restores=0->1 irqs=([5-9]|[1-9][0-9]+)' "$OUT")"
if command -v strace >/dev/null; then
	timeout -k 3 60 strace -f -qq -e trace=ioctl -o "$OUT.ioctl" \
		"$PICOVM" restore "$WORK/sp" >"$OUT" 2>"$OUT.err" </dev/null
	VM_STATUS=$?
	pit=$(grep -n KVM_SET_PIT2 "$OUT.ioctl" | head -n 1 | cut -d: -f1)
	rein=$(grep -n KVM_REINJECT_CONTROL "$OUT.ioctl" | head -n 1 | cut -d: -f1)
	check "snappit: the restore loads the PIT before the reinjection call is made" \
		test "$VM_STATUS" = 0 -a -n "$pit" -a -n "$rein" -a "${pit:-0}" -lt "${rein:-0}"
	# The vCPU gets the snapshot's registers only, not a boot's first.
	check "restore: no boot-time register set-up (no KVM_SET_FPU, one KVM_SET_REGS)" \
		test "$(grep -c KVM_SET_FPU "$OUT.ioctl")" = 0 -a \
		"$(grep -c KVM_SET_REGS "$OUT.ioctl")" = 1
else
	skip "snappit: the restore loads the PIT before the reinjection call is made" \
		"strace is not installed"
	skip "restore: no boot-time register set-up (no KVM_SET_FPU, one KVM_SET_REGS)" \
		"strace is not installed"
fi

# What bench/restore.sh restores: the guest's first act after the
# snapshot port is the boot-timer write, logged once by the restore.
OUT=$WORK/sb-snap
conf "$WORK/snapboot.conf" kernel="$GUEST/test64.elf" memory=64M serial=none \
	cmdline=picotest=snapboot:0
vm_run 60 "$OUT" run "$WORK/snapboot.conf" snapshot.path="$WORK/sboot"
check "snapboot: snapshot, no boot-timer line before it: status 0" \
	test "$VM_STATUS" = 0 -a "$(grep -c boot-timer "$OUT.err")" = 0
OUT=$WORK/sb-rest
vm_run 60 "$OUT" restore "$WORK/sboot"
check "snapboot: the restore logs the boot-timer line once, with its split, status 0" \
	test "$VM_STATUS" = 0 -a "$(grep -c 'boot-timer: [0-9.]* ms since picovm started (vCPUs in KVM_RUN from [0-9.]* ms)' "$OUT.err")" = 1

# What a clone costs beyond guest RAM: picovm's anonymous memory (heap,
# stacks, device structures) while a restored VM with a disk idles.  A
# generous bound: about 0.3 MiB here; a device that makes all its request
# slots resident (virtio-blk's 256 x 4 KiB iovec arrays) is over it.
truncate -s 1M "$WORK/idle-disk.img"
conf "$WORK/sbidle.conf" kernel="$GUEST/test64.elf" memory=64M serial=none \
	cmdline=picotest=snapboot:1 disk.0.path="$WORK/idle-disk.img"
OUT=$WORK/sbi-snap
vm_run 60 "$OUT" run "$WORK/sbidle.conf" snapshot.path="$WORK/sbidle"
"$PICOVM" restore "$WORK/sbidle" timeout=60s </dev/null >/dev/null 2>"$WORK/sbi.err" &
idle=$!
anon= own=
until_true 30 grep -q boot-timer "$WORK/sbi.err" &&
	anon=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { a = ($6 == "" || $6 ~ /^\[(heap|stack)\]$/) }
	/^Private_Dirty:/ { if (a) n += $2 } END { print n + 0 }' "/proc/$idle/smaps" 2>/dev/null) &&
	own=$(own_kib "$idle" "$WORK/sbidle/memory")
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
info "restored VM with a disk: picovm's anonymous private memory ${anon:-?} KiB"
check "restored VM with a disk: picovm's anonymous memory under 1 MiB" \
	test -n "$anon" -a "${anon:-0}" -gt 0 -a "${anon:-0}" -lt 1024
# All of it, per clone: every mapping but guest RAM and the binary's text
# (the io_uring rings, the vCPU's run pages, the helpers: a reaper of its
# own address space kept a copy of each page picovm wrote after its fork).
# About 0.17 MiB here; before the ring was sized by the devices (512
# entries), the disk's chunk slots were handed out on demand and the
# reaper shared picovm's memory, 0.33 MiB.
info "restored VM with a disk: picovm's own memory beyond guest RAM and text ${own:-?} KiB"
check "restored VM with a disk: picovm's own memory (helpers included) under 256 KiB" \
	test -n "$own" -a "${own:-0}" -gt 0 -a "${own:-0}" -lt 256

# Bad snapshots: each a status-2 error with a message that says what.
bad() {	# NAME GREP-PATTERN [restore overrides...]: restores $WORK/bad
	local name=$1 pat=$2; shift 2
	OUT=$WORK/bad.out
	vm_run 30 "$OUT" restore "$WORK/bad" "$@"
	check "bad snapshot, $name: status 2" test "$VM_STATUS" = 2
	check "bad snapshot, $name: says '$pat'" grep -q "$pat" "$OUT.err"
}
fresh() { rm -rf "$WORK/bad"; cp -a --sparse=always "$S1" "$WORK/bad"; }
patch() {	# OFFSET HEXBYTES: overwrite bytes of the state file
	printf "$(echo "$2" | sed 's/../\\x&/g')" |
		dd of="$WORK/bad/state" bs=1 seek="$1" conv=notrunc status=none
}
size=$(stat -c %s "$S1/state")
fresh; truncate -s $((size - 100)) "$WORK/bad/state"; bad "state truncated" "truncated"
fresh; truncate -s 40 "$WORK/bad/state"; bad "state shorter than its header" "truncated"
fresh; : >"$WORK/bad/state"; bad "state empty" "truncated"
fresh; patch 5000 ff; bad "a byte flipped" "checksum mismatch"
fresh; patch $((size - 1)) 5a; bad "the last byte flipped" "checksum mismatch"
fresh; patch 8 03000000; bad "version 3" "version 3; this picovm reads version 2 only"
fresh; patch 8 01000000; bad "version 1 (older picovm)" "version 1; this picovm reads version 2 only"
fresh; patch 0 00; bad "not a state file" "not a picovm snapshot"
# Another CPU: the header's vendor or CPUID signature changed, the state
# sealed again (valid checksum), so only the CPU check can refuse it.
if make -s -C "$TOP/tests" build/snapseal >"$WORK/make.log" 2>&1; then
	fresh; "$TOP/tests/build/snapseal" "$WORK/bad/state" cpu vendor
	bad "another CPU vendor" "was taken on another CPU"
	fresh; "$TOP/tests/build/snapseal" "$WORK/bad/state" cpu model
	bad "another CPU model" "was taken on another CPU"
else
	fail "snapseal" "make -C tests build/snapseal failed: $(tail -c 600 "$WORK/make.log")"
fi
fresh; truncate -s 32M "$WORK/bad/memory"; bad "memory file too short" "expected a file of the guest's memory size"
fresh; rm "$WORK/bad/memory"; bad "memory file missing" "memory"
fresh; sed -i 's/^vcpus = 4$/vcpus = 2/' "$WORK/bad/vm.conf"; bad "another VM's vm.conf" "not the configuration"
fresh; cp "$WORK/d1/vm.conf" "$WORK/bad/vm.conf"; bad "vm.conf of another snapshot" "not the configuration"
fresh; bad "override of memory" "memory: the guest already saw it" memory=128M
fresh; bad "override of cmdline" "cmdline: the guest already saw it" cmdline=x
fresh; bad "override of vcpus" "vcpus: the guest already saw it" vcpus=1
fresh; bad "override of disk.0.readonly" "disk.0.readonly: the guest already saw it" disk.0.readonly=on
rm -rf "$WORK/bad"; bad "no such folder" "No such file"

# virtio-blk: the snapshot is taken with 8 reads kicked and in flight;
# the restored guest finishes them and its writes: same checksums, and the
# disk ends byte-identical to an uninterrupted run's.
head -c 4M /dev/urandom >"$WORK/disk0.img"
CB=$WORK/blk.conf
conf "$CB" kernel="$GUEST/test64.elf" memory=64M vcpus=4 \
	cmdline=picotest=snapblk:64:3 disk.0.path="$WORK/d.img"
cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/blkfull
vm_run 60 "$OUT" run "$CB"
check "blk, uninterrupted: status 0" test "$VM_STATUS" = 0
mv "$WORK/d.img" "$WORK/d-full.img"
cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/blk1
vm_run 60 "$OUT" run "$CB" snapshot.path="$WORK/sb"
check "blk: snapshot with reads in flight: status 0" test "$VM_STATUS" = 0
OUT=$WORK/blk2
vm_run 60 "$OUT" restore "$WORK/sb"
check "blk: restored: status 0" test "$VM_STATUS" = 0
check "blk: snapshot + restore output = the uninterrupted output" \
	diff "$WORK/blkfull" <(cat "$WORK/blk1" "$WORK/blk2")
check "blk: the disk ends byte-identical to the uninterrupted run's" \
	cmp -s "$WORK/d.img" "$WORK/d-full.img"
cp "$WORK/disk0.img" "$WORK/d.img"
OUT=$WORK/blkcont
vm_run 60 "$OUT" run "$CB" snapshot.path="$WORK/sbc" snapshot.after=continue
check "blk, snapshot.after = continue: the run ends as an uninterrupted one" \
	diff "$WORK/blkfull" "$OUT"
check "blk, snapshot.after = continue: the disk too" \
	cmp -s "$WORK/d.img" "$WORK/d-full.img"
cp "$WORK/disk0.img" "$WORK/other.img"
OUT=$WORK/blk3
vm_run 60 "$OUT" restore "$WORK/sb" disk.0.path="$WORK/other.img"
check "blk: restore with another disk of the same size: status 0" test "$VM_STATUS" = 0
head -c 8M /dev/zero >"$WORK/big.img"
rm -rf "$WORK/bad"; cp -a "$WORK/sb" "$WORK/bad"
bad "a disk of another size" "the guest saw a disk of 4194304 bytes" disk.0.path="$WORK/big.img"

