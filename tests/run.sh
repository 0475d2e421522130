#!/usr/bin/env bash
# Runs the test tiers and prints one line per check, then the summary
#   N passed, N failed, N skipped
# Usage: tests/run.sh [PATTERN]   (runs tests/t-*PATTERN*.sh; default all
# fast tiers).  Exit status 0 only when nothing failed.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
RESULTS=$(mktemp "${TMPDIR:-/tmp}/picovm-results.XXXXXX")
export RESULTS
pattern=${1:-}
# The binaries the tiers run, up to date (make test has just built them;
# a tier run by hand after a change would otherwise test the old code).
if ! out=$(make -s -C "$TOP" picovm guests tests/build/picovm-hooks 2>&1 &&
	   make -s -C "$TOP/tests" tools 2>&1); then
	echo "$out" | tail -n 20
	echo "FAIL  build: picovm, the guests or the test tools do not build"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The unit tests (no /dev/kvm) first, then the fast KVM tiers, the slow
# Linux tier (t-linux.sh) last.
tiers=$(ls "$TOP"/tests/t-*"$pattern"*.sh 2>/dev/null)
for t in $(echo "$tiers" | grep '/t-unit.sh$') \
	$(echo "$tiers" | grep -v '/t-unit.sh$' | grep -v '/t-linux.sh$') \
	$(echo "$tiers" | grep '/t-linux.sh$'); do
	[ -e "$t" ] || continue
	echo "== $(basename "$t" .sh)"
	# A hard limit per script on top of the per-VM timeouts inside it; the
	# Linux tier boots an emulated kernel (minutes on nested KVM).
	limit=900
	case $t in */t-linux.sh) limit=2400 ;; esac
	timeout -k 5 $limit bash "$t"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL  $(basename "$t"): script exited with status $rc"
		echo "fail $(basename "$t")" >>"$RESULTS"
	fi
done
p=$(grep -c '^pass ' "$RESULTS")
f=$(grep -c '^fail ' "$RESULTS")
s=$(grep -c '^skip ' "$RESULTS")
rm -f "$RESULTS"
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
