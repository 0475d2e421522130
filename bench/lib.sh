# Shared by the benchmarks: a figure that cannot be measured stops the
# benchmark with an error; it is never printed as a number.
#   . bench/lib.sh
set -o pipefail

die() { echo "bench: ERROR: $*" >&2; exit 1; }

# need_qemu: the side-by-side peer must exist.
need_qemu() {
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86): the side-by-side figures cannot be measured"
}

# qemu_cpu ELF: prints the -cpu option that lets QEMU run a guest on this
# host (ELF: guest/build/exit.elf).  Call it as QCPU=$(qemu_cpu ...) || exit 1:
# its die ends only the command substitution.
# QEMU 7.2 with plain `-cpu host` aborts on some hosts ("failed to set MSR
# 0x10a": a nested KVM without IA32_ARCH_CAPABILITIES); the probe boots the
# smallest guest with each candidate and keeps the first that really ran it
# (isa-debug-exit turns the guest's 0 into status 1).
qemu_cpu() {
	local elf=$1 c
	for c in host host,-arch-capabilities max; do
		timeout -k 2 30 qemu-system-x86_64 -M microvm -accel kvm -cpu "$c" -m 64M \
			-smp 1 -nodefaults -no-user-config -display none -serial none \
			-monitor none -device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$elf" >/dev/null 2>&1
		[ $? = 1 ] && { echo "$c"; return 0; }
	done
	die "QEMU runs no guest on this host with -cpu host, host,-arch-capabilities or max"
}

# number VALUE WHAT: VALUE must be a positive number, or the benchmark stops.
number() {
	[[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v v="$1" 'BEGIN { exit !(v > 0) }' ||
		die "$2: no figure (got '${1:-nothing}')"
}

# need_gnuplot: the plots are part of the results (gnuplot-nox, a
# bench-only dependency); checked before anything is measured.
need_gnuplot() {
	command -v gnuplot >/dev/null ||
		die "gnuplot is not installed (apt-get install gnuplot-nox): make bench writes its plots with it"
}

# result SECTION WHAT SYSTEM VALUE UNIT: one measured figure for the
# results table and plots (bench/report.sh), appended to $RESULTS.  VALUE
# must be a number (number() above), or the benchmark stops.
result() {
	number "$4" "$1: $2 ($3)"
	[ -n "${RESULTS:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}
