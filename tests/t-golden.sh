#!/usr/bin/env bash
# Golden tests of the command line and of every config error message.
#
# For each tests/golden/NAME.conf:
#   cd tests/golden && picovm check NAME.conf [NAME.args, one per line]
# stdout and stderr together, then "exit status: N", with the absolute
# path of tests/golden replaced by @DIR@, must equal NAME.expected.
# GOLDEN_UPDATE=1 rewrites the .expected files instead (review the diff).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOLD=$TOP/tests/golden
if [ ! -x "$PICOVM" ]; then
	skip golden "no $PICOVM (run make first)"
	exit 0
fi
dir_l=$(cd "$GOLD" && pwd)
dir_p=$(cd "$GOLD" && pwd -P)

# run_picovm DIR ARGS... : prints stdout+stderr and "exit status: N"
run_picovm() {
	local dir=$1; shift
	local out rc
	out=$(cd "$dir" && timeout -k 2 20 "$PICOVM" "$@" 2>&1)
	rc=$?
	out=${out//"$dir_p"/@DIR@}
	out=${out//"$dir_l"/@DIR@}
	printf '%s\nexit status: %d\n' "$out" "$rc"
}

for conf in "$GOLD"/*.conf; do
	name=$(basename "$conf" .conf)
	args=()
	if [ -f "$GOLD/$name.args" ]; then
		mapfile -t args <"$GOLD/$name.args"
	fi
	run_picovm "$GOLD" check "$name.conf" "${args[@]}" >"$WORK/$name.out"
	if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$WORK/$name.out" "$GOLD/$name.expected"
	fi
	if [ ! -f "$GOLD/$name.expected" ]; then
		fail "golden $name" "no $name.expected; got: $(tr '\n' '|' <"$WORK/$name.out")"
	elif diff -u "$GOLD/$name.expected" "$WORK/$name.out" >"$WORK/$name.diff"; then
		pass "golden $name"
	else
		fail "golden $name" "output differs:"$'\n'"$(cat "$WORK/$name.diff")"
	fi
done

# A config error stops `run` the same way, before anything starts.
run_picovm "$GOLD" check missing-kernel.conf >"$WORK/check.out"
run_picovm "$GOLD" run missing-kernel.conf >"$WORK/run.out"
check "run with a bad config exits 2 like check" \
	cmp -s "$WORK/check.out" "$WORK/run.out"

# --- files that cannot be read --------------------------------------------
run_picovm "$WORK" check nonexistent.conf >"$WORK/nofile.out"
check "config file not found" grep -qxF \
	"picovm: nonexistent.conf: cannot read: No such file or directory" \
	"$WORK/nofile.out"
check "config file not found exits 2" grep -qx "exit status: 2" "$WORK/nofile.out"
mkdir -p "$WORK/dir.conf"
run_picovm "$WORK" check dir.conf >"$WORK/dir.out"
check "config file is a directory" grep -qxF \
	"picovm: dir.conf: cannot read: Is a directory" "$WORK/dir.out"
check "config directory exits 2" grep -qx "exit status: 2" "$WORK/dir.out"
if [ "$(id -u)" = 0 ]; then
	skip "config file unreadable" "running as root, which reads any file"
else
	printf 'kernel = x\n' >"$WORK/secret.conf"
	chmod 000 "$WORK/secret.conf"
	run_picovm "$WORK" check secret.conf >"$WORK/secret.out"
	check "config file unreadable" grep -qxF \
		"picovm: secret.conf: cannot read: Permission denied" "$WORK/secret.out"
fi

# --- the command line itself ----------------------------------------------
run_picovm "$WORK" --help >"$WORK/help.out"
check "--help exits 0" grep -qx "exit status: 0" "$WORK/help.out"
check "--help mentions man picovm.conf" grep -q "man picovm.conf" "$WORK/help.out"
for status in "124 " "128+N" "  2 " "  1 " "0x510"; do
	check "--help lists exit status '$status'" grep -qF -- "$status" "$WORK/help.out"
done
# Every key against the README and picovm.conf.5: tests/t-docs.sh.
for alias in -h help; do
	run_picovm "$WORK" "$alias" >"$WORK/alias.out"
	check "$alias is --help" cmp -s "$WORK/help.out" "$WORK/alias.out"
done

for v in --version -V; do
	run_picovm "$WORK" "$v" >"$WORK/version.out"
	check "$v" grep -qxE "picovm [0-9]+\.[0-9]+\.[0-9]+" "$WORK/version.out"
	check "$v exits 0" grep -qx "exit status: 0" "$WORK/version.out"
done

run_picovm "$WORK" >"$WORK/noargs.out"
check "no arguments exits 2" grep -qx "exit status: 2" "$WORK/noargs.out"
check "no arguments prints usage" grep -q "^usage: picovm run FILE" "$WORK/noargs.out"
run_picovm "$WORK" start x.conf >"$WORK/unknown.out"
check "unknown command" grep -qxF \
	"picovm: unknown command 'start' (try 'picovm --help')" "$WORK/unknown.out"
check "unknown command exits 2" grep -qx "exit status: 2" "$WORK/unknown.out"
for cmd in run check; do
	run_picovm "$WORK" "$cmd" >"$WORK/nofile.out"
	check "$cmd without FILE exits 2" grep -qx "exit status: 2" "$WORK/nofile.out"
done
if command -v man >/dev/null; then
	for page in picovm.1 picovm.conf.5; do
		if MANWIDTH=80 man -l "$TOP/doc/$page" 2>"$WORK/man.err" >"$WORK/man.out" &&
			[ ! -s "$WORK/man.err" ] && [ -s "$WORK/man.out" ]; then
			pass "man page $page renders cleanly"
		else
			fail "man page $page renders cleanly" "$(head -c 400 "$WORK/man.err")"
		fi
	done
else
	skip "man pages render" "no man here"
fi
exit 0
