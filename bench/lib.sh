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

# pss_split PID MIB WHAT: prints "OWN GUEST" in KiB for a VMM process: the
# PSS of its guest RAM (the one anonymous, writable mapping of exactly the
# guest's memory, MIB MiB: picovm's and QEMU's own layout for a guest below
# 3 GiB) and of every other mapping (the monitor itself).  Stops the
# benchmark when /proc/PID/smaps cannot be read or holds no such mapping, or
# more than one: the split would be a guess.
pss_split() {
	local out
	out=$(awk -v ram=$(($2 * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { anon = ($2 ~ /^rw/ && $6 == "") }
		/^Size:/ { size = $2 }
		/^Pss:/ { if (anon && size == ram) { g += $2; n++ } else o += $2 }
		END { print o + 0, g + 0, n + 0 }' "/proc/$1/smaps" 2>/dev/null) ||
		die "$3: cannot read /proc/$1/smaps"
	set -- $out "$3" "$2"
	[ "$3" = 1 ] || die "$4: $3 anonymous mappings of exactly $5 MiB (the guest RAM) in its smaps, expected 1"
	echo "$1 $2"
}

# pss_total MIB WHAT PID...: "OWN GUEST" KiB summed over VMM processes
# (pss_split each; both figures must be there for every one).  Call it as
# read -r own guest < <(pss_total ...) || exit 1.
pss_total() {
	local mib=$1 what=$2 p o g own=0 guest=0
	shift 2
	for p in "$@"; do
		read -r o g < <(pss_split "$p" "$mib" "$what (pid $p)") || exit 1
		number "$o" "$what (pid $p): the monitor's own PSS"
		number "$g" "$what (pid $p): guest RAM the guest touched"
		own=$((own + o)) guest=$((guest + g))
	done
	echo "$own $guest"
}

# picovm_pids PREFIX N: the pids of the picovm VMs PREFIX-1..N, from their
# control sockets' status replies (PICOVM, XDG_RUNTIME_DIR set).
picovm_pids() {
	local i pid
	for ((i = 1; i <= $2; i++)); do
		pid=$("$PICOVM" ctl "$1-$i" status | sed -n 's/^pid = //p')
		[[ $pid =~ ^[0-9]+$ ]] || die "$1-$i: no pid in its status reply"
		echo "$pid"
	done
}

# ctl_stop_all DIR PREFIX N SECS: `picovm ctl PREFIX-I stop SECSs` for all N
# at once, then waits for every background job (the VMs' launchers too).
# Every reply must say status = 0 and every picovm must have ended with 0
# (DIR/PREFIX-I.status, written by its launcher).
ctl_stop_all() {
	local b=$1 pre=$2 n=$3 s=$4 i
	for ((i = 1; i <= n; i++)); do
		( timeout -k 3 $((s + 30)) "$PICOVM" ctl "$pre-$i" stop "${s}s" >"$b/stop-$i.out" 2>&1
		  echo $? >"$b/stop-$i.rc" ) &
	done
	wait
	for ((i = 1; i <= n; i++)); do
		[ "$(cat "$b/stop-$i.rc")" = 0 ] && grep -qx 'status = 0' "$b/stop-$i.out" ||
			die "picovm ctl $pre-$i stop did not end it with status 0: $(cat "$b/stop-$i.out")"
		[ "$(cat "$b/$pre-$i.status" 2>/dev/null)" = 0 ] ||
			die "$pre-$i: picovm ended with status $(cat "$b/$pre-$i.status" 2>/dev/null)"
	done
}
