#!/usr/bin/env bash
# Smoke run of the libFuzzer targets (tests/fuzz/): each for a few seconds
# from a fixed seed.  `make fuzz` builds them; run one longer with e.g.
#   tests/build/fuzz_virtq -max_total_time=600
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v clang >/dev/null; then
	skip fuzz "clang is not installed (apt-get install clang)"
	exit 0
fi
if ! make -s -C "$TOP/tests" fuzz >"$WORK/build.log" 2>&1; then
	fail "fuzz: build" "$(tail -5 "$WORK/build.log")"
	exit 0
fi
for f in "$TOP"/tests/build/fuzz_*; do
	name=$(basename "$f")
	if timeout -k 5 60 "$f" -max_total_time="${FUZZ_SECONDS:-5}" -seed=1 \
		>"$WORK/$name.log" 2>&1; then
		pass "fuzz: $name ran $(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$WORK/$name.log") inputs without a crash"
	else
		fail "fuzz: $name" "$(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$WORK/$name.log")"
	fi
done
