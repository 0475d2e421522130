#!/usr/bin/env bash
# Smoke run of the libFuzzer targets (tests/fuzz/): each for a few seconds
# from a fixed seed.  `make fuzz` builds them; run one longer with e.g.
#   tests/build/fuzz_virtq -max_total_time=600
# Targets: fuzz_virtq (chain walker, block request parser), fuzz_config
# (config loader, print/reload round trip), fuzz_kernel (kernel-image
# probes and loaders), fuzz_snap (the snapshot state loader), fuzz_gdb
# (the gdb stub's framing, packet parser, registers and page walk).  fuzz_config,
# fuzz_kernel and fuzz_snap start from seeds made here: the golden and
# example configs with `kernel = k`, the test guests' kernel images behind
# a parameter byte, and (with /dev/kvm) the state file of a test guest's
# snapshot behind one (and one with virtio device records).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v clang >/dev/null; then
	skip fuzz "clang is not installed (apt-get install clang)"
	exit 0
fi
if ! make -s -C "$TOP/tests" fuzz >"$WORK/build.log" 2>&1; then
	fail "fuzz: build" "$(tail -5 "$WORK/build.log")"
	exit 0
fi
mkdir -p "$WORK/seeds/fuzz_config" "$WORK/seeds/fuzz_kernel" "$WORK/seeds/fuzz_virtq" \
	"$WORK/seeds/fuzz_snap" "$WORK/seeds/fuzz_gdb"
# gdb packets with their checksums, as gdb sends them.
gdbpkt() {
	local p=$1 s=0 c i
	for ((i = 0; i < ${#p}; i++)); do
		printf -v c '%d' "'${p:i:1}"
		s=$(((s + c) & 255))
	done
	printf '$%s#%02x' "$p" "$s"
}
{ printf '+'; gdbpkt 'qSupported:swbreak+'; gdbpkt g; gdbpkt 'm100200,40'
  gdbpkt 'Z0,10caf0,1'; printf '\3'; gdbpkt 'vCont;s:1;c'; } >"$WORK/seeds/fuzz_gdb/session"
{ gdbpkt 'M1000,2:abcd'; gdbpkt 'P10=0011223344556677'
  gdbpkt 'qXfer:features:read:target.xml:0,ffb'; } >"$WORK/seeds/fuzz_gdb/writes"
if [ -c /dev/kvm ] && [ -x "$PICOVM" ] && [ -f "$GUEST/test64.elf" ]; then
	conf "$WORK/snap.conf" kernel="$GUEST/test64.elf" memory=16M vcpus=2 \
		cmdline=picotest=snap:2:1 snapshot.path="$WORK/snap"
	timeout -k 3 30 "$PICOVM" run "$WORK/snap.conf" >/dev/null 2>&1 </dev/null &&
		{ printf '\1'; cat "$WORK/snap/state"; } >"$WORK/seeds/fuzz_snap/state"
	# One with device records: an ephemeral disk and the virtio console.
	head -c 1M /dev/zero >"$WORK/snap.img"
	conf "$WORK/snapdev.conf" kernel="$GUEST/test64.elf" memory=16M vcpus=2 \
		console=virtio cmdline=picotest=snapio:1:0:0:1 \
		disk.0.path="$WORK/snap.img" disk.0.ephemeral=on snapshot.path="$WORK/snapdev"
	timeout -k 3 30 "$PICOVM" run "$WORK/snapdev.conf" >/dev/null 2>&1 </dev/null &&
		{ printf '\1'; cat "$WORK/snapdev/state"; } >"$WORK/seeds/fuzz_snap/state-dev"
fi
for c in "$TOP"/tests/golden/*.conf "$TOP"/examples/*.conf; do
	sed 's/^kernel *=.*/kernel = k/' "$c" >"$WORK/seeds/fuzz_config/$(basename "$c")"
done
for k in "$GUEST"/test64.elf "$GUEST"/testpvh.elf "$GUEST"/test.bzImage; do
	[ -f "$k" ] && { printf '\0'; cat "$k"; } >"$WORK/seeds/fuzz_kernel/$(basename "$k")"
done
for f in "$TOP"/tests/build/fuzz_*; do
	name=$(basename "$f")
	mkdir -p "$WORK/corpus-$name"
	# New inputs go to the first folder (scratch), seeds are read only.
	# -close_fd_mask=2: the loaders' error messages; libFuzzer and the
	# sanitizers keep reporting on a descriptor of their own.
	if timeout -k 5 60 "$f" -max_total_time="${FUZZ_SECONDS:-5}" -seed=1 \
		-close_fd_mask=2 -max_len=65536 "$WORK/corpus-$name" "$WORK/seeds/$name" \
		>"$WORK/$name.log" 2>&1; then
		pass "fuzz: $name ran $(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$WORK/$name.log") inputs without a crash"
	else
		fail "fuzz: $name" "$(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$WORK/$name.log")"
	fi
done
