#!/usr/bin/env bash
# Lifecycle tier: how picovm starts and ends (issue 13), checked by what
# happens, never by how long it took: the system calls of a stop (strace),
# which processes exist and when, and what the next VM finds free.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXIT_ELF=$GUEST/exit.elf
require_vm lifecycle "$EXIT_ELF"
HAVE_STRACE=$(command -v strace >/dev/null && echo 1)
truncate -s 1M "$WORK/disk.img"

# --- The stop waits for completions, not for an idle slice ---
# The I/O thread's stop ends when the completions it is owed have arrived;
# an io_uring wait that ends in ETIME means it sat out a timeout instead.
if [ -n "$HAVE_STRACE" ]; then
	C=$WORK/exitd.conf
	conf "$C" kernel="$EXIT_ELF" memory=64M serial=stdout disk.0.path="$WORK/disk.img"
	OUT=$WORK/etime
	timeout -k 3 60 strace -f -qq -e trace=io_uring_enter -o "$OUT.trace" \
		"$PICOVM" run "$C" >"$OUT" 2>"$OUT.err" </dev/null
	st=$?
	check "stop: the smallest guest with a disk exits 0 under strace" test "$st" = 0
	check "stop: the I/O thread's io_uring waits saw the stop" \
		grep -q io_uring_enter "$OUT.trace"
	check "stop: no io_uring wait ended in a timeout (ETIME)" \
		sh -c "! grep -q ETIME '$OUT.trace'"
else
	skip "stop: no io_uring wait ended in a timeout (ETIME)" "strace is not installed"
fi
