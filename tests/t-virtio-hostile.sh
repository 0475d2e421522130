#!/usr/bin/env bash
# Hostile-guest tier: the test guest attacks picovm's virtio-mmio transport
# and virtio-blk (guest/t_hostile*.c; the cases are those of
# shared/notes/hostile-guest.md that a guest can cause).  Each case prints
# one line
#     hostile NAME: PASS|FAIL|SKIP (what happened)
# after which the guest resets the device and proves it still reads the
# right data.  Expected verdicts follow picovm's error model (IOERR /
# UNSUPP for requests it can parse, DEVICE_NEEDS_RESET plus a config
# interrupt for a broken ring, refused QueueReady for bad queue set-up).
# All cases run in one boot; a case whose line is missing (the VMM died or
# hung) is run again alone, so one crash does not hide the others.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=$GUEST/test64.elf
if [ ! -x "$PICOVM" ] || [ ! -f "$K" ]; then
	fail hostile "picovm or the test guests are not built (make picovm guests)"
	exit 0
fi
if [ ! -c /dev/kvm ]; then
	skip hostile "no /dev/kvm on this machine"
	exit 0
fi

# Keep in step with the tables in guest/t_hostile_vq.c, t_hostile_setup.c.
CASES="vq-loop vq-selfloop vq-long-chain vq-head-oob vq-next-oob vq-notify-oob
vq-wrap vq-past-ram vq-len0 vq-len-max vq-total-4g vq-mmio-dma
vq-indirect-nofeature vq-indirect-nested vq-indirect-next vq-indirect-len0
vq-indirect-len13 vq-indirect-outside vq-indirect-long vq-avail-jump
vq-avail-back vq-head-twice vq-ring-overlap vq-ring-misaligned vq-ring-mmio
vq-rewrite-after-ready vq-num-bad vq-sel-oob st-features-after-ok
st-bad-features st-clear-bits st-reset-inflight vq-torn blk-len-not-512
blk-status-ro blk-status-len0 blk-hdr-writeonly blk-unknown-type
blk-getid-short"

C=$WORK/vm.conf
# 128M: vq-total-4g needs 24 MiB of spare guest RAM.  16 MiB disk: the
# 4 GiB chain wrapped to 32 bits would be a valid 8 MiB read.
conf "$C" kernel="$K" memory=128M
IMG=$WORK/disk.img
head -c 16M /dev/urandom >"$IMG"
sum=$(sha256sum <"$IMG")

OUT=$WORK/all
if [ -x /usr/bin/time ]; then
	timeout -k 3 600 /usr/bin/time -f 'maxrss %M' -o "$WORK/rss" "$PICOVM" run "$C" \
		cmdline=picotest=hostile-all "disk.0.path=$IMG" >"$OUT" 2>"$OUT.err" </dev/null
	VM_STATUS=$?
else
	vm_run 600 "$OUT" run "$C" cmdline=picotest=hostile-all "disk.0.path=$IMG"
fi
want=$(head -c 4096 "$IMG" | cksum | awk '{print "hostile: baseline len=4096 cksum=" $1}')
check "hostile: the guest read the disk correctly before the attacks" grep -qxF "$want" "$OUT"
check "hostile: picovm survived all cases in one boot (guest reached the end)" \
	grep -q '^hostile: done pass=' "$OUT"
check "hostile: picovm exited normally (status $VM_STATUS; want 0 or 1)" \
	test "$VM_STATUS" = 0 -o "$VM_STATUS" = 1

for c in $CASES; do
	line=$(grep -m1 "^hostile $c: " "$OUT")
	if [ -z "$line" ]; then
		one=$WORK/one-$c
		vm_run 120 "$one" run "$C" "cmdline=picotest=$c" "disk.0.path=$IMG"
		line=$(grep -m1 "^hostile $c: " "$one")
		if [ -z "$line" ]; then
			fail "hostile $c" "no result line, even alone (picovm status $VM_STATUS;" \
				"stderr: $(tail -c 200 "$one.err" | tr '\n' '|'))"
			continue
		fi
		line="$line [alone: missing from the all-in-one run]"
	fi
	what=${line#hostile $c: }
	case $what in
	PASS*) pass "hostile $c: ${what#PASS }" ;;
	SKIP*) skip "hostile $c" "${what#SKIP }" ;;
	*) fail "hostile $c" "$what" ;;
	esac
done

check "hostile: the image is unchanged by every case" test "$(sha256sum <"$IMG")" = "$sum"
check "hostile: the image size is unchanged" test "$(stat -c %s "$IMG")" = $((16 << 20))
if [ -f "$WORK/rss" ]; then
	rss=$(awk '/maxrss/ {print $2}' "$WORK/rss")
	# Guest RAM (128M, partly touched) plus a bounded VMM: under 192 MiB.
	check "hostile: picovm's memory stays bounded (${rss:-?} KiB)" test "${rss:-999999}" -lt 196608
fi
