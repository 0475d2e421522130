#!/usr/bin/env bash
# The Linux test tier: picovm's default Linux guest (guest/linux/), booted
# twice; every in-guest check runs in those two boots (a Linux boot costs
# tens of seconds on the project's machines, where guest kernel code is
# emulated: shared/notes/kvm-here.md).
#
#   boot 1  initramfs -> switch_root to rootfs.ext4 on virtio-blk (vda),
#           a scratch disk (vdb), a read-only disk (vdc), virtio-net on a
#           tap in a network namespace (as root), 2 vCPUs, serial
#           console, `picovm.test=1`: /init runs every check and exits with
#           the number of failures.  Here: its `linux-test NAME: PASS|FAIL|SKIP`
#           lines, its exit status, the marker on the scratch disk, the file
#           on the root image, the boot-timer line.
#   boot 2  no initramfs (the kernel mounts vda itself), console = virtio
#           (hvc0), `picovm.cmd=...`: the command's output arrives through
#           virtio-console and its exit status (7) is picovm's.
#   (later boots: demo, power button, panics, snapshots; boot 10 snapshots
#   at /init-ready and restores two clones with jobs given at restore)
#
# Runs standalone (bash guest/linux/t-linux.sh) or as a tier: tests/run.sh
# exports TOP; a tests/t-linux.sh of one line hooks it in:
#   . "$(dirname "${BASH_SOURCE[0]}")/../guest/linux/t-linux.sh"
# LINUX_TIMEOUT (seconds, default 300) bounds each boot.
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=../../tests/lib.sh
. "$TOP/tests/lib.sh"
LB=$TOP/guest/linux/build
SECS=${LINUX_TIMEOUT:-300}
# As in examples/demo.conf (see the comments there); picovm appends its
# virtio_mmio.device= entries.
BASE="noxsave clearcpuid=popcnt,smap no_timer_check rodata=off norandmaps percpu_alloc=page quiet"

# Up to date (a second when the kernel is cached; ~5 minutes once per
# machine otherwise).
if ! bash "$TOP/guest/linux/build.sh" >"$WORK/build.log" 2>&1; then
	fail "linux: build the guest" "guest/linux/build.sh failed: $(tail -n 5 "$WORK/build.log" | tr '\n' '|')"
	exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "linux: boots" "no access to /dev/kvm"
	exit 0
fi

fsck_clean() { e2fsck -fn "$1" >/dev/null 2>&1; }

# --- boot 1 ---------------------------------------------------------------------
# With root and iproute2, the VM runs in a network namespace of its own with
# a tap (net.0.tap = auto: "lnx-t0"), host end 10.0.2.2/24: the guest's
# virtio-net check pings it.  Nothing leaves the namespace.
NETNS= NETARGS=()
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "pv-linux-$$" 2>/dev/null; then
	NETNS=pv-linux-$$
	trap 'ip netns del "$NETNS" 2>/dev/null; rm -rf "$WORK"' EXIT
	ip netns exec "$NETNS" ip link set lo up
	NETARGS=(ip netns exec "$NETNS")
fi
# tap_up TAP: gives the tap picovm makes (net.N.tap = auto) its host end,
# 10.0.2.2/24, as soon as it exists (run in the background).
tap_up() {
	for _ in $(seq 1 600); do
		if "${NETARGS[@]}" ip link show "$1" >/dev/null 2>&1; then
			"${NETARGS[@]}" ip addr add 10.0.2.2/24 dev "$1"
			"${NETARGS[@]}" ip link set "$1" up
			return
		fi
		sleep 0.1
	done
}
cp "$LB/rootfs.ext4" "$WORK/root.img"
truncate -s 1M "$WORK/scratch.img"
truncate -s 1M "$WORK/ro.img"
token=run$$
OUT=$WORK/boot1.out
conf "$WORK/test.conf" \
	"kernel=$LB/vmlinux" "initrd=$LB/initramfs.cpio" "memory=128M" "vcpus=2" \
	"cmdline=\"console=ttyS0 $BASE root=/dev/vda picovm.test=1 picovm.test.cpus=2 picovm.test.disk=vdb picovm.test.rodisk=vdc picovm.test.token=$token\"" \
	"disk.0.path=$WORK/root.img" "disk.1.path=$WORK/scratch.img" \
	"disk.2.path=$WORK/ro.img" "disk.2.readonly=on" "timeout=${SECS}s" "name=lnx"
if [ -n "$NETNS" ]; then
	echo "net.0.tap = auto" >>"$WORK/test.conf"
	tap_up lnx-t0 &
fi
timeout -k 3 $((SECS + 10)) "${NETARGS[@]}" "$PICOVM" run "$WORK/test.conf" >"$OUT" 2>"$OUT.err" </dev/null
VM_STATUS=$?
wait

if ! grep -q '^linux-test summary:' "$OUT"; then
	fail "linux: boot 1 reaches /init and runs the checks" \
		"status $VM_STATUS; last output: $(tail -n 5 "$OUT" | tr '\n' '|') stderr: $(tail -n 3 "$OUT.err" | tr '\n' '|')"
else
	pass "linux: boot 1 reaches /init and runs the checks ($(grep -o 'uptime [0-9.]* s' "$OUT" | tail -n1))"
	grep '^linux-test [a-z0-9-]*: ' "$OUT" | grep -v '^linux-test summary' | tr -d '\r' |
	while IFS= read -r line; do
		name=${line#linux-test }; name=${name%%:*}
		rest=${line#*: }; verdict=${rest%% *}; detail=${rest#"$verdict"}
		# boot 2 checks virtio-console
		[ "$name" = hvc0 ] && [ "$verdict" = SKIP ] && continue
		case $verdict in
		PASS) pass "linux: $name${detail:+ ($(echo $detail))}";;
		SKIP) skip "linux: $name" "$(echo $detail)";;
		*) fail "linux: $name" "$rest";;
		esac
	done
	nfail=$(grep -c '^linux-test [a-z0-9-]*: FAIL' "$OUT")
	check "linux: exit status = failed checks ($nfail)" [ "$VM_STATUS" = "$nfail" ]
	got=$(dd if="$WORK/scratch.img" bs=512 skip=8 count=1 2>/dev/null | head -n1 | tr -d '\0')
	check "linux: scratch disk holds the guest's marker after exit" [ "$got" = "picovm-linux-test $token" ]
	got=$(debugfs -R 'cat /picovm-test.txt' "$WORK/root.img" 2>/dev/null)
	check "linux: ext4 root holds the guest's file after exit" [ "$got" = "picovm-linux-test $token" ]
	if command -v e2fsck >/dev/null; then
		check "linux: ext4 root is clean after exit (e2fsck -fn)" fsck_clean "$WORK/root.img"
	fi
	check "linux: read-only disk unchanged" cmp -s "$WORK/ro.img" <(head -c 1M /dev/zero)
	check "linux: boot-timer port reached from the guest" grep -q 'boot-timer: .* ms' "$OUT.err"
fi

# --- boot 2 ---------------------------------------------------------------------
cp "$LB/rootfs.ext4" "$WORK/root2.img"
OUT=$WORK/boot2.out
conf "$WORK/cmd.conf" \
	"kernel=$LB/vmlinux" "memory=128M" "vcpus=1" "console=virtio" \
	"cmdline=\"console=hvc0 $BASE root=/dev/vda rootfstype=ext4 rw picovm.cmd=\\\"echo cmd-on-hvc0 \$(uname -s); dmesg -r; grep -m1 model.name /proc/cpuinfo; exit 7\\\"\"" \
	"disk.0.path=$WORK/root2.img" "timeout=${SECS}s"
vm_run $((SECS + 10)) "$OUT" run "$WORK/cmd.conf"
check "linux: picovm.cmd output arrives on virtio-console (hvc0)" grep -q '^cmd-on-hvc0 Linux' "$OUT"
check "linux: picovm.cmd exit status (7) is picovm's" [ "$VM_STATUS" = 7 ]
# A clean boot is silent: no kernel message of level warning or worse
# (dmesg -r: "<N>" with N <= 4).  Excused (README, "The default Linux
# guest"): only the kernel saying that it ran late, which on this nested,
# emulating KVM depends on the host's load, not on picovm (hrtimer,
# clocksource/TSC watchdog, TSC and APIC timer calibration against the PIT
# failing, RCU stall reports).  Each is shown as info.
LATE='hrtimer: interrupt took|clocksource|tsc: (Marking TSC unstable|Unable to calibrate|Fast TSC calibration failed)|APIC timer disabled due to verification failure|rcu: .*(stall|detected)|rcu: +(Tasks blocked|\(detected by)'
tr -d '\r' <"$OUT" | grep -E '^<[0-4]>' >"$WORK/dmesg-all"
grep -vE "$LATE" "$WORK/dmesg-all" >"$WORK/dmesg-errwarn"
grep -E "$LATE" "$WORK/dmesg-all" | while IFS= read -r l; do info "excused (a late emulated kernel): $l"; done
if [ -s "$WORK/dmesg-errwarn" ]; then
	fail "linux: a clean boot logs no errors or warnings (dmesg --level=err,warn)" \
		"$(head -c 600 "$WORK/dmesg-errwarn" | tr '\n' '|')"
else
	pass "linux: a clean boot logs no errors or warnings (dmesg --level=err,warn)"
fi
model=$(tr -d '\r' <"$OUT" | sed -n 's/^model name[[:space:]]*: //p')
check "linux: /proc/cpuinfo has a real model name ($model)" eval "[ -n '$model' ] && ! grep -qxE '[0-9a-f]{2}/[0-9a-f]{2}' <<<'$model'"

# --- boots 3 and 4: `poweroff` and `reboot` end the VM cleanly ------------------
# poweroff goes through ACPI (\_S5 -> picovm's PM1a control block), reboot
# through the i8042 (or ACPI's reset register).  If either did not end the
# VM, the guest would carry on to `exit 9` (or hang until the timeout).
# disk_boot NAME "CMDLINE TAIL": boots the root image (a fresh copy), one
# vCPU, serial console; OUT = its output, VM_STATUS = picovm's status.
disk_boot() {
	cp "$LB/rootfs.ext4" "$WORK/root-$1.img"
	OUT=$WORK/$1.out
	conf "$WORK/$1.conf" \
		"kernel=$LB/vmlinux" "memory=128M" "vcpus=1" \
		"cmdline=\"console=ttyS0 $BASE root=/dev/vda rootfstype=ext4 rw $2\"" \
		"disk.0.path=$WORK/root-$1.img" "timeout=${SECS}s"
	vm_run $((SECS + 10)) "$OUT" run "$WORK/$1.conf"
}
for how in poweroff reboot; do
	disk_boot "$how" "picovm.cmd=\\\"$how -f; sleep 5; exit 9\\\""
	check "linux: '$how' in the guest ends the VM with status 0 (status $VM_STATUS)" [ "$VM_STATUS" = 0 ]
	check "linux: '$how' ended it before the guest went on" eval "! grep -q 'command exited with status 9' '$OUT'"
done

# --- boot 4b: `picovm ctl NAME stop` shuts the guest down gracefully ---------------
# The guest runs a long command; `stop` presses the ACPI power button, the
# guest's picovm-pwrbtn sees it, /init syncs, remounts / read-only and
# powers off: status 0 and a clean ext4.  The reply comes once the VM is
# gone.  The stop's own TIMEOUT (120 s) is far above what it needs.
cp "$LB/rootfs.ext4" "$WORK/root-stop.img"
conf "$WORK/stop.conf" \
	"kernel=$LB/vmlinux" "memory=128M" "vcpus=1" "name=lstop" "control=auto" \
	"cmdline=\"console=ttyS0 $BASE root=/dev/vda rootfstype=ext4 rw picovm.cmd=\\\"sleep 600\\\"\"" \
	"disk.0.path=$WORK/root-stop.img" "timeout=${SECS}s"
OUT=$WORK/stop.out
export XDG_RUNTIME_DIR=$WORK/run
mkdir -p "$XDG_RUNTIME_DIR"
( timeout -k 3 $((SECS + 10)) "$PICOVM" run "$WORK/stop.conf" >"$OUT" 2>"$OUT.err" </dev/null
  echo $? >"$WORK/stop.status" ) &
end=$((SECONDS + SECS))
until grep -q 'running: sleep 600' "$OUT" 2>/dev/null || [ -s "$WORK/stop.status" ] ||
	[ $SECONDS -ge $end ]; do sleep 1; done
t0=$SECONDS
timeout -k 3 $((SECS + 10)) "$PICOVM" ctl lstop stop 120s >"$WORK/stop.reply" 2>&1
rc=$?
wait
VM_STATUS=$(cat "$WORK/stop.status" 2>/dev/null)
check "linux: picovm ctl NAME stop: the guest powers off, status 0, reply 'status = 0' (status $VM_STATUS, $((SECONDS - t0)) s)" \
	[ "$rc" = 0 -a "$VM_STATUS" = 0 -a "$(head -1 "$WORK/stop.reply")" = "status = 0" ]
check "linux: picovm ctl NAME stop: through the power button" grep -q 'power button: powering off' "$OUT"
if command -v e2fsck >/dev/null; then
	check "linux: picovm ctl NAME stop: ext4 root clean (e2fsck -fn)" fsck_clean "$WORK/root-stop.img"
fi

# --- boots 5 and 6: a kernel panic ends the VM with status 122 ------------------
# init= a program that exits: the kernel panics ("Attempted to kill init").
# pvpanic (the DSDT's QEMU0001, port 0x505) reports it before panic=1
# reboots (which would be status 0) or panic=0 spins (the timeout, 124).
for p in "panic=1" ""; do
	disk_boot "panic${p:+-1}" "init=/bin/true $p"
	check "linux: a kernel panic (${p:-panic=0}) ends the VM with status 122 (status $VM_STATUS)" [ "$VM_STATUS" = 122 ]
	check "linux: a kernel panic (${p:-panic=0}): stderr says so" grep -qx 'picovm: the guest kernel panicked' "$OUT.err"
done

# --- boots 7 and 8: no terminal needed -------------------------------------------
# The README's demo with stdin from a pipe or /dev/null: the end of stdin
# reaches the guest's shell as ^D, the shell ends, the VM powers off with
# the status of the shell's last command.  The watchdog only catches a hang.
# The piped commands end without a newline (picovm then sends ^D twice, as
# a terminal user would); the last one's status is picovm's; the guest's
# hostname is the VM's name (demo).
OUT=$WORK/demo-pipe.out
t0=$SECONDS
(cd "$TOP" && printf 'uname -r\nhostname\n(exit 3)' | timeout -k 3 $((SECS + 10)) ./picovm run examples/demo.conf) >"$OUT" 2>"$OUT.err"
VM_STATUS=$?
check "linux: printf 'uname -r\\nhostname\\n(exit 3)' | picovm run examples/demo.conf ends with the last command's status, 3 (status $VM_STATUS, $((SECONDS - t0)) s)" [ "$VM_STATUS" = 3 ]
check "linux: piped demo prints the kernel version" \
	grep -qE '^6\.1\.[0-9]+' <(tr -d '\r' <"$OUT")
check "linux: the guest's hostname is the VM's name (demo)" \
	grep -qx 'demo' <(tr -d '\r' <"$OUT")
OUT=$WORK/demo-null.out
t0=$SECONDS
(cd "$TOP" && timeout -k 3 $((SECS + 10)) ./picovm run examples/demo.conf </dev/null) >"$OUT" 2>"$OUT.err"
VM_STATUS=$?
check "linux: picovm run examples/demo.conf </dev/null ends by itself, status 0 (status $VM_STATUS, $((SECONDS - t0)) s)" [ "$VM_STATUS" = 0 ]

# --- boot 9: snapshot and restore -------------------------------------------------
# The initramfs shell on 2 vCPUs, no virtio device: a piped command line
# writes the snapshot port (0x512 = 1298) through /dev/port and then echoes;
# the VM stops at the write (snapshot.after = stop), before the echo.
# `picovm restore` in a new process carries on right after the write: the
# same command line's echo runs (it was read whole before), then the shell
# meets the end of input it had already been given and the VM powers off,
# status 0: timers, interrupts, the UART and ACPI all continued.
conf "$WORK/snap.conf" "kernel=$LB/vmlinux" "initrd=$LB/initramfs.cpio" \
	"memory=128M" "vcpus=2" "cmdline=\"console=ttyS0 $BASE\""
OUT=$WORK/snap1.out
t0=$SECONDS
printf 'echo before\nprintf "\\001" | dd of=/dev/port bs=1 seek=1298 count=1 2>/dev/null; echo after-$((6 * 7))\n' |
	timeout -k 3 $((SECS + 10)) "$PICOVM" run "$WORK/snap.conf" \
	snapshot.path="$WORK/lxsnap" >"$OUT" 2>"$OUT.err"
VM_STATUS=$?
check "linux: snapshot through port 0x512 from the shell: status 0 (status $VM_STATUS, $((SECONDS - t0)) s)" [ "$VM_STATUS" = 0 ]
check "linux: the snapshotted VM stopped at the port write" \
	sh -c "tr -d '\\r' <'$OUT' | grep -qx before && ! grep -q after-42 '$OUT'"
OUT=$WORK/snap2.out
t0=$SECONDS
timeout -k 3 $((SECS + 10)) "$PICOVM" restore "$WORK/lxsnap" </dev/null >"$OUT" 2>"$OUT.err"
VM_STATUS=$?
check "linux: the restored VM carries on and powers off, status 0 (status $VM_STATUS, $((SECONDS - t0)) s)" [ "$VM_STATUS" = 0 ]
check "linux: the restored VM ran the rest of the command line" \
	grep -qx after-42 <(tr -d '\r' <"$OUT")

# --- boots 10-12: how the guest finds its virtio devices ---------------------------
# picovm announces each virtio device twice (README, "Bringing your own
# kernel"): as an LNRO0005 device in the DSDT and, unless virtio.cmdline =
# off, as a virtio_mmio.device= entry.  The command below reports, for each
# virtio device the guest bound, the platform device it hangs off
# (LNRO0005:NN: found through ACPI; virtio-mmio.N: through the command
# line), then the kernel log (levels as <N>), and ends as the boot asks.
# find_boot NAME "CONFIG KEY=VALUE..." "END": root on disk 0, no initramfs
# (the kernel itself mounts /dev/vda), console = virtio (hvc0).
find_boot() {
	local name=$1 extra=$2 end=$3 script b64
	script='echo "cmdline-entries: $(grep -o virtio_mmio.device= /proc/cmdline | wc -l)"
echo "root: $(grep " / " /proc/mounts | cut -d" " -f1,3) $(cat /sys/block/vda/size)"
for d in /sys/bus/virtio/devices/*; do
	p=$(readlink -f "$d/.."); echo "vdev: ${d##*/} $(cat "$d/device") ${p##*/}"
done
[ -e /sys/class/net/eth0 ] && { ping -c 1 -W 10 10.0.2.2 >/dev/null 2>&1 && echo net: ping ok || echo net: ping failed; }
dmesg -r
'"$end"
	b64=$(printf '%s' "$script" | base64 -w0)
	cp "$LB/rootfs.ext4" "$WORK/root-$name.img"
	OUT=$WORK/$name.out
	# shellcheck disable=SC2086
	conf "$WORK/$name.conf" \
		"kernel=$LB/vmlinux" "memory=128M" "vcpus=1" "console=virtio" "name=$name" \
		"cmdline=\"console=hvc0 $BASE root=/dev/vda rootfstype=ext4 rw picovm.ip=10.0.2.15/24 picovm.cmd64=$b64\"" \
		"disk.0.path=$WORK/root-$name.img" "timeout=${SECS}s" $extra
	local pre=()
	if [ -n "$NETNS" ]; then
		echo "net.0.tap = auto" >>"$WORK/$name.conf"
		pre=("${NETARGS[@]}")
		tap_up "$name-t0" &
	fi
	timeout -k 3 $((SECS + 10)) "${pre[@]}" "$PICOVM" run "$WORK/$name.conf" >"$OUT" 2>"$OUT.err" </dev/null
	VM_STATUS=$?
	wait
	tr -d '\r' <"$OUT" >"$OUT.clean"
	grep '^vdev: ' "$OUT.clean" | while IFS= read -r l; do info "$name: $l"; done
}
# vdevs_via HOW N: exactly N virtio devices bound, every one through HOW
# (a pattern of the platform device's name), no device twice.
vdevs_via() {
	local n
	n=$(grep -c '^vdev: ' "$OUT.clean")
	[ "$n" = "$2" ] && [ "$(grep '^vdev: ' "$OUT.clean" | grep -cE " $1\$")" = "$2" ]
}
# dmesg_clean NAME: no kernel message of level warning or worse but the
# excused ones (boot 2).
dmesg_clean() {
	grep -E '^<[0-4]>' "$OUT.clean" | grep -vE "$LATE" >"$WORK/$1.errwarn"
	[ ! -s "$WORK/$1.errwarn" ] || { cat "$WORK/$1.errwarn"; false; }
}
nvirt=2	# disk 0 and the console
[ -n "$NETNS" ] && nvirt=3

# Through ACPI alone: no command-line entries; `poweroff` through ACPI.
find_boot lacpi "virtio.cmdline=off" "poweroff -f; sleep 5; exit 9"
check "linux: virtio.cmdline = off: no virtio_mmio.device= entry reaches the kernel" \
	grep -qx 'cmdline-entries: 0' "$OUT.clean"
root_on_vda() { grep -qE '^root: /dev/root ext4 [1-9]' "$OUT.clean"; }
check "linux: virtio.cmdline = off: root mounted from virtio-blk vda found through ACPI" \
	eval 'root_on_vda && grep -qE "^vdev: virtio0 0x0002 LNRO0005:00\$" "$OUT.clean"'
check "linux: virtio.cmdline = off: all $nvirt virtio devices (disk, console${NETNS:+, net}) found through ACPI, once" \
	vdevs_via 'LNRO0005:0[0-9]' "$nvirt"
check "linux: virtio.cmdline = off: output on the virtio console (hvc0)" grep -q '^cmdline-entries: ' "$OUT.clean"
if [ -n "$NETNS" ]; then
	check "linux: virtio.cmdline = off: virtio-net found through ACPI pings the host" grep -qx 'net: ping ok' "$OUT.clean"
else
	skip "linux: virtio.cmdline = off: virtio-net" "needs root and iproute2 for a network namespace"
fi
check "linux: virtio.cmdline = off: poweroff ends the VM with status 0 (status $VM_STATUS)" [ "$VM_STATUS" = 0 ]
check "linux: virtio.cmdline = off: the kernel logs no errors or warnings" dmesg_clean lacpi

# Without ACPI: the command-line entries alone (the exit port ends it).
find_boot lnoacpi "acpi=off" "exit 5"
check "linux: acpi = off: the command line's $nvirt entries reach the kernel" \
	grep -qx "cmdline-entries: $nvirt" "$OUT.clean"
check "linux: acpi = off: root on vda" root_on_vda
check "linux: acpi = off: all $nvirt virtio devices found through the command line, once" \
	vdevs_via 'virtio-mmio\.[0-9]+' "$nvirt"
check "linux: acpi = off: the guest's exit status (5) is picovm's (status $VM_STATUS)" [ "$VM_STATUS" = 5 ]

# Both paths at once (the default, virtio.cmdline = auto, with ACPI): the
# kernel sees every device through both, binds each once (the window it
# reads first; the other reads as an empty slot), and says nothing about it.
find_boot lboth "" "poweroff -f; sleep 5; exit 9"
check "linux: both paths: the command line's entries reach the kernel too" \
	grep -qx "cmdline-entries: $nvirt" "$OUT.clean"
check "linux: both paths: each of the $nvirt virtio devices bound once" \
	vdevs_via '(LNRO0005:0[0-9]|virtio-mmio\.[0-9]+)' "$nvirt"
check "linux: both paths: root on vda" root_on_vda
check "linux: both paths: poweroff ends the VM with status 0 (status $VM_STATUS)" [ "$VM_STATUS" = 0 ]
check "linux: both paths: the kernel logs no errors or warnings (no resource clash, no empty-slot complaint)" dmesg_clean lboth

# --- boot 13: clones are distinct -----------------------------------------------
# The initramfs shell once more, snapshotted by the default guest's helper
# picovm-snapshot; two clones, restored one after the other, each print
# `date +%s`, whether the kernel had reseeded its random generator when
# picovm-snapshot returned (it waits for that: picovm raised GPE 0, Linux's
# vmgenid driver read the new VM generation ID, add_vmfork_randomness)
# and 16 bytes of /dev/urandom (picovm-snapshot set the clock from picovm's
# CMOS clock when its port write returned; the snapshot is at least 5 s
# old by then, so a clock left at the snapshot's time is caught).
# random.trust_cpu=on, as in examples/: this kernel does not trust RDRAND
# by default, and add_vmfork_randomness reseeds only a ready generator.
conf "$WORK/vgen.conf" "kernel=$LB/vmlinux" "initrd=$LB/initramfs.cpio" \
	"memory=128M" "vcpus=2" "cmdline=\"console=ttyS0 $BASE random.trust_cpu=on\""
VGREP='vmgenid|VMGENCTR|crng|ACPI (BIOS )?(Error|Exception|Warning)'
OUT=$WORK/vgen.out
t0=$SECONDS
printf '%s\n' "[ -e /sys/bus/acpi/drivers/vmgenid/VMGENCTR:00 ] && echo vmgenid-bound; \
picovm-snapshot; echo snap-rc=\$?; echo date=\$(date +%s); \
echo reseeded=\$(dmesg | grep -c 'crng reseeded due to virtual machine fork'); \
echo urandom=\$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'); \
dmesg | grep -E '$VGREP' | sed 's/^/dmesg: /'; echo dmesg-end" |
	timeout -k 3 $((SECS + 10)) "$PICOVM" run "$WORK/vgen.conf" \
	snapshot.path="$WORK/vgsnap" >"$OUT" 2>"$OUT.err"
VM_STATUS=$?
check "linux: vmgenid: snapshot by picovm-snapshot: status 0 (status $VM_STATUS, $((SECONDS - t0)) s)" [ "$VM_STATUS" = 0 ]
check "linux: vmgenid: the driver is bound to the SSDT's VMGENCTR device" \
	grep -qx vmgenid-bound <(tr -d '\r' <"$OUT")
sleep 5
for i in 1 2; do
	OUT=$WORK/vgen$i.out
	h0=$(date +%s)
	timeout -k 3 $((SECS + 10)) "$PICOVM" restore "$WORK/vgsnap" </dev/null >"$OUT" 2>"$OUT.err"
	VM_STATUS=$?
	h1=$(date +%s)
	tr -d '\r' <"$OUT" >"$OUT.txt"
	check "linux: vmgenid: clone $i carries on and powers off, status 0 (status $VM_STATUS)" [ "$VM_STATUS" = 0 ]
	check "linux: vmgenid: clone $i: picovm-snapshot returned 0" grep -qx snap-rc=0 "$OUT.txt"
	check "linux: vmgenid: clone $i: the kernel had reseeded (crng reseeded due to virtual machine fork) when picovm-snapshot returned" \
		grep -qx "reseeded=1" "$OUT.txt"
	check "linux: vmgenid: clone $i: no vmgenid or ACPI error in the kernel log" \
		sh -c "grep '^dmesg: ' '$OUT.txt' | grep -qiE 'vmgenid.*(fail|error)|Error|Exception|Warning' && exit 1; grep -qx dmesg-end '$OUT.txt'"
	gd=$(sed -n 's/^date=\([0-9]*\)$/\1/p' "$OUT.txt")
	info "linux: vmgenid: clone $i: guest date ${gd:-?}, host $h0..$h1"
	check "linux: vmgenid: clone $i: the guest's date +%s lies within [$((h0 - 1)), $((h1 + 1))] (got ${gd:-none})" \
		test -n "$gd" -a "${gd:-0}" -ge $((h0 - 1)) -a "${gd:-0}" -le $((h1 + 1))
done
u1=$(sed -n 's/^urandom=\([0-9a-f]\{32\}\)$/\1/p' "$WORK/vgen1.out.txt")
u2=$(sed -n 's/^urandom=\([0-9a-f]\{32\}\)$/\1/p' "$WORK/vgen2.out.txt")
info "linux: vmgenid: /dev/urandom in the clones: ${u1:-none} and ${u2:-none}"
check "linux: vmgenid: the two clones' /dev/urandom differ" test -n "$u1" -a -n "$u2" -a "$u1" != "$u2"

# --- boot 14: snapshot at /init-ready, jobs given at restore ---------------------
# picovm.snapshot=1: /init snapshots itself just before it reads its job
# (picovm.script=vdb), root on an ephemeral disk.  Two clones at once, each
# restored with a job disk of its own (disk.1.path, same size as the empty
# one the snapshot saw) and an ext4 result disk of its own (disk.2.path):
# each job writes its root and its result disk and ends with its own
# status.  Afterwards: the statuses, the result files, every ext4 clean
# (e2fsck -fn), the root image and the snapshot's files unchanged.
cp "$LB/rootfs.ext4" "$WORK/ready-root.img"
truncate -s 64K "$WORK/job0.img"
mkres() { rm -f "$1"; truncate -s 8M "$1" && mke2fs -q -F -t ext4 "$1" >/dev/null 2>&1; }
mkres "$WORK/res0.img"
conf "$WORK/ready.conf" "kernel=$LB/vmlinux" "initrd=$LB/initramfs.cpio" \
	"memory=128M" "vcpus=2" \
	"cmdline=\"console=ttyS0 $BASE root=/dev/vda picovm.snapshot=1 picovm.script=vdb\"" \
	"disk.0.path=$WORK/ready-root.img" "disk.0.ephemeral=on" \
	"disk.1.path=$WORK/job0.img" "disk.2.path=$WORK/res0.img" "timeout=${SECS}s"
OUT=$WORK/ready.out
t0=$SECONDS
timeout -k 3 $((SECS + 10)) "$PICOVM" run "$WORK/ready.conf" snapshot.path="$WORK/ready" \
	</dev/null >"$OUT" 2>"$OUT.err"
VM_STATUS=$?
check "linux: snapshot at /init-ready (picovm.snapshot=1): status 0 (status $VM_STATUS, $((SECONDS - t0)) s)" \
	[ "$VM_STATUS" = 0 ]
check "linux: /init-ready: stopped before reading its job" \
	sh -c "grep -q 'snapshot at /init-ready' '$OUT' && ! grep -q 'running:' '$OUT'"
check "linux: /init-ready: the ephemeral root's overlay is in the snapshot" \
	test -s "$WORK/ready/disk.0.bitmap"
sum_ready=$(cat "$WORK/ready"/* | cksum)
for c in a b; do
	st=7; [ $c = b ] && st=9
	printf 'mkdir -p /tmp/res && mount -t ext4 /dev/vdc /tmp/res &&\necho "job %s on $(hostname)" >/tmp/res/result && umount /tmp/res &&\necho %s >/clone-%s && sync && exit %s\nexit 1\n' \
		$c $c $c $st >"$WORK/job-$c.img"
	truncate -s 64K "$WORK/job-$c.img"
	mkres "$WORK/res-$c.img"
done
t0=$SECONDS
for c in a b; do
	( timeout -k 3 $((SECS + 10)) "$PICOVM" restore "$WORK/ready" name=clone-$c \
		disk.1.path="$WORK/job-$c.img" disk.2.path="$WORK/res-$c.img" \
		</dev/null >"$WORK/clone-$c.out" 2>"$WORK/clone-$c.err"
	  echo $? >"$WORK/clone-$c.status" ) &
done
wait
info "linux: two clones restored and ran their jobs in $((SECONDS - t0)) s"
for c in a b; do
	st=7; [ $c = b ] && st=9
	OUT=$WORK/clone-$c.out
	check "linux: clone $c: the job's exit status ($st) is picovm's" \
		[ "$(cat "$WORK/clone-$c.status")" = $st ]
	check "linux: clone $c: restored through the boot-timer port" \
		grep -q 'boot-timer: .* ms' "$WORK/clone-$c.err"
	got=$(debugfs -R 'cat /result' "$WORK/res-$c.img" 2>/dev/null)
	check "linux: clone $c: its result disk holds its job's file ('$got')" \
		[ "$got" = "job $c on ready" ]
	check "linux: clone $c: its ext4 result disk is clean (e2fsck -fn)" fsck_clean "$WORK/res-$c.img"
done
# What one more clone costs picovm while its job waits: every mapping but
# guest RAM and the binary's text (tests/lib.sh own_kib), with its three
# disks (one ephemeral) and 2 vCPUs.  About 0.2 MiB here; 0.4 MiB before
# the I/O ring was sized by the devices and the reaper shared picovm's
# address space.
printf 'sleep 600\nexit 1\n' >"$WORK/job-c.img"
truncate -s 64K "$WORK/job-c.img"
"$PICOVM" restore "$WORK/ready" name=clone-c disk.1.path="$WORK/job-c.img" \
	timeout=$((SECS))s </dev/null >/dev/null 2>"$WORK/clone-c.err" &
idle=$!
own=
until_true $((SECS)) grep -q 'boot-timer' "$WORK/clone-c.err" &&
	own=$(own_kib "$idle" "$WORK/ready/memory")
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
info "linux: an idle clone (3 disks, 2 vCPUs): picovm's own memory beyond guest RAM and text ${own:-?} KiB"
check "linux: an idle clone: picovm's own memory (helpers included) under 320 KiB" \
	test -n "$own" -a "${own:-0}" -gt 0 -a "${own:-0}" -lt 320
check "linux: clones: the ephemeral root image never changed" cmp -s "$WORK/ready-root.img" "$LB/rootfs.ext4"
check "linux: clones: the root image is clean (e2fsck -fn)" fsck_clean "$WORK/ready-root.img"
check "linux: clones: the snapshot's files never changed" \
	test "$(cat "$WORK/ready"/* | cksum)" = "$sum_ready"

# --- boot 15: rootless networking over passt (examples/user-net.conf) --------------
# In a network namespace of its own with a veth pair (10.0.2.15/24, default
# route via 10.0.2.2, which nothing answers: passt copies them to the guest)
# and an HTTP server on its loopback (busybox httpd, 127.0.0.1:8000).  The
# guest's /init takes its address by DHCP from passt; the piped commands
# fetch hello.txt from the host through the gateway address, serve a file
# on port 80, which the host fetches through the example's forward
# (127.0.0.1:8080), and wait for the host's done.txt before they end.
if [ "$(id -u)" = 0 ] && command -v passt >/dev/null && command -v busybox >/dev/null &&
   ip netns add "pv-lpasst-$$" 2>/dev/null; then
	PNS=pv-lpasst-$$
	trap 'ip netns del "$PNS" 2>/dev/null; [ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null; rm -rf "$WORK"' EXIT
	pnx() { ip netns exec "$PNS" "$@"; }
	pnx ip link set lo up
	pnx ip link add v0 type veth peer name v1
	pnx ip addr add 10.0.2.15/24 dev v0
	pnx ip link set v0 up
	pnx ip link set v1 up
	pnx ip route add default via 10.0.2.2
	mkdir "$WORK/www"
	echo "host-file-$$" >"$WORK/www/hello.txt"
	# ip netns exec execs httpd: $! is httpd's pid
	ip netns exec "$PNS" busybox httpd -f -p 127.0.0.1:8000 -h "$WORK/www" &
	httpd_pid=$!
	OUT=$WORK/passt.out
	t0=$SECONDS
	guest_cmds='mkdir /tmp/www; echo guest-file-42 >/tmp/www/g.txt; httpd -p 80 -h /tmp/www
wget -q -O - http://10.0.2.2:8000/hello.txt
echo fetched-$?
i=0; until wget -q -O - http://10.0.2.2:8000/done.txt; do i=$((i+1)); [ $i -lt 120 ] || break; sleep 1; done
ip -4 addr show dev eth0 | grep -o "inet [0-9./]*"'
	(printf '%s\n' "$guest_cmds" | timeout -k 3 $((SECS + 60)) \
		ip netns exec "$PNS" "$PICOVM" run "$TOP/examples/user-net.conf" \
		>"$OUT" 2>"$OUT.err") &
	vm=$!
	for _ in $(seq 1 $((SECS * 10))); do
		grep -q '^fetched-' "$OUT" 2>/dev/null && break
		kill -0 $vm 2>/dev/null || break
		sleep 0.1
	done
	got=$(pnx timeout 30 busybox wget -q -O - http://127.0.0.1:8080/g.txt 2>&1)
	echo done >"$WORK/www/done.txt"
	wait $vm
	VM_STATUS=$?
	kill $httpd_pid 2>/dev/null
	wait $httpd_pid 2>/dev/null
	check "linux/passt: the guest took its address by DHCP from passt (10.0.2.15/24)" \
		grep -q 'inet 10.0.2.15/24' <(tr -d '\r' <"$OUT")
	check "linux/passt: the guest fetched a file from the host's loopback (HTTP via the gateway)" \
		grep -qx "host-file-$$" <(tr -d '\r' <"$OUT")
	check "linux/passt: the host fetched the guest's file through the forwarded port 8080 ($got)" \
		[ "$got" = guest-file-42 ]
	check "linux/passt: picovm run examples/user-net.conf ends with status 0 (status $VM_STATUS, $((SECONDS - t0)) s)" \
		[ "$VM_STATUS" = 0 ]
else
	skip "linux/passt: rootless networking" "needs root (a network namespace), passt and busybox on the host"
fi
