#!/usr/bin/env bash
# Unit tests: builds tests/build/test_* (make -C tests tools) and runs each;
# every "ok    NAME" / "FAIL  NAME: why" line it prints becomes one result.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! make -s -C "$TOP/tests" tools >"$WORK/make.log" 2>&1; then
	fail unit-build "make -C tests tools failed: $(tail -c 600 "$WORK/make.log")"
	exit 0
fi

found=0
for t in "$TOP"/tests/build/test_*; do
	[ -x "$t" ] || continue
	found=1
	name=$(basename "$t")
	timeout -k 5 120 "$t" >"$WORK/$name.out" 2>"$WORK/$name.err"
	rc=$?
	nfail=0
	while IFS= read -r line; do
		case $line in
		"ok    "*) pass "$name: ${line#ok    }" ;;
		"FAIL  "*)
			rest=${line#FAIL  }
			fail "$name: ${rest%%: *}" "${rest#*: }"
			nfail=$((nfail + 1))
			;;
		esac
	done <"$WORK/$name.out"
	# A crash or a sanitizer report after the last check still counts.
	if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
		fail "$name" "exit status $rc: $(tail -c 800 "$WORK/$name.err")"
	fi
done
[ "$found" = 1 ] || skip unit "no tests/build/test_* binaries"
exit 0
