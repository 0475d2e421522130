#!/usr/bin/env bash
# A fleet of L default Linux guests at once (issue 12), under picovm and
# then, in the same run, under QEMU microvm with the same kernel, initramfs,
# job disk and kernel command line.  bench/fleet.sh runs it after its tiny
# VMs; alone:
#   bash bench/fleet-linux.sh [L [VCPUS]]   (defaults 10 and 1; needs `make linux`)
# The guest: guest/linux/build's vmlinux (PVH entry) and initramfs.cpio,
# VCPUS vCPUs (default 1: with 2, ten QEMU guests at once did not all
# reach /init within 30 min on this 2-core nested host), 128 MiB, its job
# on a raw disk (picovm.script=vda, an ephemeral overlay per VM) that says "fleet job: waiting" on the console and then
# waits to be stopped:
#   picovm: ready when `picovm ctl NAME status` shows boot.timer.us (the
#     guest's /init wrote the boot-timer port: what systemd gets as
#     READY=1); stopped by `picovm ctl NAME stop` (the ACPI power button:
#     /init's picovm-pwrbtn sees it and powers off, status 0).
#   QEMU: ready when its serial output shows the job's line (QEMU has no
#     boot-timer port); stopped by the line "stop" written to its serial
#     port (a pipe chardev), which the job reads: /init then powers off
#     the same way (sync, / read-only); picovm's exit port is QEMU's fw_cfg
#     there, so the guest's `reboot -f` ends QEMU (-no-reboot, status 0).
#     QEMU's own power button (QMP system_powerdown) is an ACPI GED event
#     on microvm, which this guest kernel has no driver for (no
#     CONFIG_INPUT, so no ACPI button driver): it would be ignored.
# For both: the serial line "fleet job: waiting" as a common readiness
# mark, and every guest's "power off, exit status 0" line after the stop.
# Prints VMs started per second, the monitor's own PSS per VM (every
# mapping but the guest RAM mapping in /proc/PID/smaps) and the guest RAM
# touched, per VM and in total.  A VM that fails, or a figure that cannot
# be measured, stops it with an error.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
L=${1:-10}
VCPUS=${2:-1}
[[ $L =~ ^[1-9][0-9]*$ ]] && [ "$L" -le 50 ] || die "L must be 1..50 (got '$L')"
[[ $VCPUS =~ ^[1-8]$ ]] || die "VCPUS must be 1..8 (got '$VCPUS')"
PICOVM=$TOP/picovm
LB=$TOP/guest/linux/build
[ -x "$PICOVM" ] && [ -f "$LB/vmlinux" ] && [ -f "$LB/initramfs.cpio" ] ||
	die "run 'make picovm linux' first (picovm and guest/linux/build)"
[ -w /dev/kvm ] || die "no writable /dev/kvm"
need_qemu
B=$(mktemp -d "${TMPDIR:-/tmp}/picovm-lfleet.XXXXXX")
export XDG_RUNTIME_DIR=$B/run
mkdir -p "$XDG_RUNTIME_DIR"
MEM_MIB=128
VMS=()
cleanup() {
	local p f
	# picovm and QEMU themselves (children of the launching subshells)
	for ((i = 1; i <= L; i++)); do
		[ -e "$B/lfleet-$i.status" ] || "$PICOVM" ctl lfleet-$i kill >/dev/null 2>&1
	done
	for f in "$B"/q-*.pid; do
		[ -s "$f" ] && [ ! -s "${f%.pid}.status" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for p in "${VMS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# The host's TSC rate, given to both guests as tsc_early_khz: under QEMU
# microvm the kernel cannot calibrate the TSC against the PIT ("Unable to
# calibrate against PIT", no HPET or PM timer), then spins in
# calibrate_delay for minutes here (seen: over 5 min).  picovm's guest
# calibrates against the PIT without it; both get the same command line.
cc -O2 -o "$B/tsc" "$TOP/bench/tsc.c" || die "cannot build bench/tsc.c"
HZ=$("$B/tsc"); number "$HZ" "host TSC rate"
# The default guest's command line as bench/restore.sh has it (with its
# RCU stall suppression: L emulated kernels share the host's cores, and a
# stall report's NMI backtraces hit an instruction this nested KVM cannot
# emulate).
CMDLINE="console=ttyS0 noxsave clearcpuid=popcnt,smap no_timer_check rodata=off norandmaps percpu_alloc=page quiet rcupdate.rcu_cpu_stall_suppress=1 tsc_early_khz=$((HZ / 1000)) picovm.script=vda"
# The job (run by /init in a subshell of it: `arg` is /init's).  picovm
# appends picovm.name=NAME; under QEMU it is absent.
cat >"$B/job.img" <<'EOF'
echo "fleet job: waiting"
if arg picovm.name; then
	while :; do sleep 3600; done
fi
read -r line
echo "fleet job: read '$line' on the console"
EOF
truncate -s 64K "$B/job.img"
cat >"$B/linux.conf" <<EOF
kernel = $LB/vmlinux
initrd = $LB/initramfs.cpio
memory = ${MEM_MIB}M
vcpus = $VCPUS
cmdline = "$CMDLINE"
disk.0.path = $B/job.img
timeout = 30m
EOF

ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }
rate() { awk -v n="$L" -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", n * 1000 / (b - a) }'; }
# waiting FILE: the guest's job runs (its console line)
waiting() { grep -qs '^fleet job: waiting' "$1"; }
# powered_off FILE: /init's clean power-off line
powered_off() { grep -qs '^picovm-guest: power off, exit status 0 ' "$1"; }
WATCHDOG=1800	# s: against hangs, not a measurement (L boots share 2 cores)

# --- picovm ----------------------------------------------------------------------
t0=$(ms)
for ((i = 1; i <= L; i++)); do
	( "$PICOVM" run "$B/linux.conf" name=lfleet-$i disk.0.ephemeral=on control=auto \
		serial=file:"$B/lfleet-$i.out" 2>"$B/lfleet-$i.err" </dev/null
	  echo $? >"$B/lfleet-$i.status" ) &
	VMS+=($!)
done
# Every VM: when its status first showed boot.timer.us, and when its job's
# line came; a VM that ends stops the benchmark.
declare -A BT=() JOB=()
t_bt=0 t_job=0
while [ ${#BT[@]} -lt "$L" ] || [ ${#JOB[@]} -lt "$L" ]; do
	[ $(($(ms) - t0)) -lt $((WATCHDOG * 1000)) ] ||
		die "picovm: not all $L guests ready within the ${WATCHDOG} s watchdog (${#BT[@]} reached /init, ${#JOB[@]} their job)"
	for ((i = 1; i <= L; i++)); do
		[ -s "$B/lfleet-$i.status" ] &&
			die "lfleet-$i ended early (status $(cat "$B/lfleet-$i.status")): $(tail -c 300 "$B/lfleet-$i.err")"
		if [ -z "${BT[$i]:-}" ]; then
			v=$("$PICOVM" ctl lfleet-$i status 2>/dev/null | sed -n 's/^boot\.timer\.us = //p')
			[ -n "$v" ] && { BT[$i]=$v; t_bt=$(ms); }
		fi
		[ -z "${JOB[$i]:-}" ] && waiting "$B/lfleet-$i.out" && { JOB[$i]=1; t_job=$(ms); }
	done
	sleep 0.5
done
vm_listed=$("$PICOVM" ls 2>/dev/null | grep -c '^lfleet-[0-9]* [0-9]* running ')
[ "$vm_listed" = "$L" ] || die "picovm ls lists $vm_listed running VMs, expected $L"
bt_max=$(printf '%s\n' "${BT[@]}" | sort -n | tail -n 1)
bt_med=$(printf '%s\n' "${BT[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
number "$bt_max" "picovm: boot.timer.us"

pids=$(picovm_pids lfleet "$L") || exit 1
read -r own guest < <(pss_total "$MEM_MIB" picovm $pids) || exit 1

t2=$(ms)
ctl_stop_all "$B" lfleet "$L" 600
t3=$(ms)
for ((i = 1; i <= L; i++)); do
	powered_off "$B/lfleet-$i.out" || die "lfleet-$i: no clean power-off on its console: $(tail -c 300 "$B/lfleet-$i.out")"
done
[ -z "$("$PICOVM" ls 2>/dev/null)" ] || die "picovm ls still lists VMs after the stops"
VMS=()

prate_bt=$(rate "$t0" "$t_bt"); prate=$(rate "$t0" "$t_job")
number "$prate_bt" "picovm: VMs started per second (boot-timer)"
number "$prate" "picovm: VMs started per second (job line)"
echo "linux fleet: $L default Linux guests at once (vmlinux + initramfs, $VCPUS vCPUs, ${MEM_MIB}M, job disk ephemeral)"
echo "picovm: all $L ready (status boot.timer.us) in $(secs "$t0" "$t_bt") s: $prate_bt VMs started per second (boot.timer.us median $((bt_med / 1000)) ms, max $((bt_max / 1000)) ms)"
echo "picovm: all $L jobs waiting (serial line) in $(secs "$t0" "$t_job") s: $prate VMs started per second"
echo "picovm: per VM: $((own / L)) KiB PSS without guest RAM, $((guest / L)) KiB guest RAM touched"
echo "picovm: all $L: $((own / 1024)) MiB picovm, $((guest / 1024)) MiB guest RAM touched"
echo "picovm: stopped through picovm ctl NAME stop (power button, clean power-off, status 0) in $(secs "$t2" "$t3") s"

# --- QEMU microvm ---------------------------------------------------------------------
QCPU=$(qemu_cpu "$TOP/guest/build/exit.elf") || exit 1
t0=$(ms)
for ((i = 1; i <= L; i++)); do
	mkfifo "$B/q-$i.in" "$B/q-$i.out" || die "mkfifo failed"
	cat "$B/q-$i.out" >"$B/q-$i.log" &
	VMS+=($!)
	( timeout -k 3 $((WATCHDOG + 600)) qemu-system-x86_64 -M microvm -accel kvm -cpu "$QCPU" \
		-m ${MEM_MIB}M -smp "$VCPUS" -nodefaults -no-user-config -display none -monitor none \
		-no-reboot -chardev pipe,id=s0,path="$B/q-$i" -serial chardev:s0 \
		-pidfile "$B/q-$i.pid" \
		-drive file="$B/job.img",format=raw,if=none,id=d0,snapshot=on \
		-device virtio-blk-device,drive=d0 \
		-kernel "$LB/vmlinux" -initrd "$LB/initramfs.cpio" -append "$CMDLINE" \
		2>"$B/q-$i.err" </dev/null
	  echo $? >"$B/q-$i.status" ) &
	VMS+=($!)
done
JOB=()
t_job=0
while [ ${#JOB[@]} -lt "$L" ]; do
	[ $(($(ms) - t0)) -lt $((WATCHDOG * 1000)) ] ||
		die "QEMU: not all $L guests ready within the ${WATCHDOG} s watchdog ($(grep -l 'guest uptime: /init at' "$B"/q-*.log | wc -l) reached /init, ${#JOB[@]} their job)"
	for ((i = 1; i <= L; i++)); do
		[ -s "$B/q-$i.status" ] &&
			die "QEMU VM $i ended early (status $(cat "$B/q-$i.status")): $(tail -c 300 "$B/q-$i.err") $(tail -c 300 "$B/q-$i.log")"
		[ -z "${JOB[$i]:-}" ] && waiting "$B/q-$i.log" && { JOB[$i]=1; t_job=$(ms); }
	done
	sleep 0.5
done
QVMS=()
for ((i = 1; i <= L; i++)); do
	p=$(cat "$B/q-$i.pid" 2>/dev/null)
	[[ $p =~ ^[0-9]+$ ]] || die "QEMU VM $i: no pid file"
	QVMS+=("$p")
done
read -r qown qguest < <(pss_total "$MEM_MIB" QEMU "${QVMS[@]}") || exit 1
t2=$(ms)
for ((i = 1; i <= L; i++)); do echo stop >"$B/q-$i.in"; done
for ((i = 1; i <= L; i++)); do
	until [ -s "$B/q-$i.status" ]; do
		[ $(($(ms) - t2)) -lt 600000 ] || die "QEMU VM $i: not ended 600 s after its stop line"
		sleep 0.2
	done
done
t3=$(ms)
for ((i = 1; i <= L; i++)); do
	[ "$(cat "$B/q-$i.status")" = 0 ] ||
		die "QEMU VM $i ended with status $(cat "$B/q-$i.status"): $(tail -c 300 "$B/q-$i.err")"
	powered_off "$B/q-$i.log" || die "QEMU VM $i: no clean power-off on its console: $(tail -c 300 "$B/q-$i.log")"
done
qrate=$(rate "$t0" "$t_job")
number "$qrate" "QEMU: VMs started per second (job line)"
echo "qemu:   $L the same (-M microvm -cpu $QCPU -smp $VCPUS, same kernel, initramfs, command line; virtio-blk snapshot=on)"
echo "qemu:   all $L jobs waiting (serial line) in $(secs "$t0" "$t_job") s: $qrate VMs started per second"
echo "qemu:   per VM: $((qown / L)) KiB PSS without guest RAM, $((qguest / L)) KiB guest RAM touched"
echo "qemu:   all $L: $((qown / 1024)) MiB QEMU, $((qguest / 1024)) MiB guest RAM touched"
echo "qemu:   stopped by a line on the serial console (the guest's clean power-off, reboot -f, status 0) in $(secs "$t2" "$t3") s"
awk -v p="$prate" -v q="$qrate" 'BEGIN { printf "ratio: picovm / qemu VMs started per second (job line) = %.2fx\n", p / q }'
awk -v p="$own" -v q="$qown" 'BEGIN { printf "ratio: qemu / picovm memory per VM (without guest RAM) = %.1fx\n", q / p }'
