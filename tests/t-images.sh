#!/usr/bin/env bash
# Bad kernel and initrd images: each gets a clear error naming the file and
# the reason, exit status 2, no crash.  The images are made here from the
# test guests (truncated, patched, garbage); the messages are compared with
# tests/images.expected (IMAGES_UPDATE=1 rewrites it: review the diff).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$PICOVM" ] || [ ! -f "$GUEST/test64.elf" ]; then
	fail images "picovm or the test guests are not built"
	exit 0
fi
D=$WORK/img
mkdir -p "$D"
# poke FILE OFFSET BYTE-ESCAPES: overwrite bytes in place
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

: >"$D/empty"
head -c 8192 /dev/zero | tr '\0' 'x' >"$D/garbage"
head -c 40 "$GUEST/test64.elf" >"$D/elf-header-cut"
head -c 100 "$GUEST/test64.elf" >"$D/elf-phdrs-cut"
head -c 2000 "$GUEST/test64.elf" >"$D/elf-segment-cut"
cp "$GUEST/test64.elf" "$D/elf-aarch64"; poke "$D/elf-aarch64" 18 '\xb7'
cp "$GUEST/test64.elf" "$D/elf-32bit"; poke "$D/elf-32bit" 4 '\x01'
# A real 32-bit ELF without a PVH note, and the PVH guest's 32-bit build
# forced through the 64-bit entry: both need the note's PVH entry.
objcopy -O elf32-i386 "$GUEST/test64.elf" "$D/elf32-no-note"
cp "$GUEST/testpvh32.elf" "$D/elf32-pvh"
cp "$GUEST/test64.elf" "$D/elf-bigendian"; poke "$D/elf-bigendian" 5 '\x02'
cp "$GUEST/test64.elf" "$D/elf-phnum"; poke "$D/elf-phnum" 56 '\xff\xff'
cp "$GUEST/test64.elf" "$D/elf-entry"; poke "$D/elf-entry" 24 '\x00\x00\x00\x40'
cp "$GUEST/test64.elf" "$D/elf-shared"; poke "$D/elf-shared" 16 '\x03'
truncate -s 2G "$D/huge"
head -c 3000 "$GUEST/test.bzImage" >"$D/bz-cut"
head -c 600 "$GUEST/test.bzImage" >"$D/bz-header-only"
cp "$GUEST/test.bzImage" "$D/bz-old"; poke "$D/bz-old" $((0x206)) '\x01\x02'
cp "$GUEST/test.bzImage" "$D/bz-32only"; poke "$D/bz-32only" $((0x236)) '\x00'
head -c $((10 * 1024 * 1024)) /dev/zero >"$D/initrd-10M"

# case NAME KERNEL [key=value...]: one picovm check, output normalised
{
	run_case() {
		local name=$1 kernel=$2; shift 2
		printf 'kernel = %s\nmemory = 32M\n' "$kernel" >"$D/$name.conf"
		echo "== $name"
		(cd "$D" && timeout -k 2 20 "$PICOVM" check "$name.conf" "$@" 2>&1 >/dev/null)
		echo "exit status: $?"
	}
	run_case empty empty
	run_case garbage garbage
	run_case elf-header-cut elf-header-cut
	run_case elf-phdrs-cut elf-phdrs-cut
	run_case elf-segment-cut elf-segment-cut
	run_case elf-aarch64 elf-aarch64
	run_case elf-32bit elf-32bit
	run_case elf32-no-note elf32-no-note
	run_case elf32-pvh-as-elf elf32-pvh kernel.format=elf
	run_case elf-bigendian elf-bigendian
	run_case elf-phnum elf-phnum
	run_case elf-entry elf-entry
	run_case elf-shared elf-shared
	run_case huge huge
	run_case bz-cut bz-cut
	run_case bz-header-only bz-header-only
	run_case bz-old bz-old
	run_case bz-32only bz-32only
	run_case force-pvh-without-note "$GUEST/test64.elf" kernel.format=pvh
	run_case force-bzimage-on-elf "$GUEST/test64.elf" kernel.format=bzimage
	run_case force-elf-on-bzimage "$GUEST/test.bzImage" kernel.format=elf
	run_case initrd-too-big "$GUEST/test64.elf" memory=8M initrd=initrd-10M
	run_case cmdline-too-long "$GUEST/test.bzImage" "cmdline=$(head -c 3000 /dev/zero | tr '\0' 'a')"
} | sed -e "s#$D#@DIR@#g" -e "s#$GUEST#@GUEST@#g" \
	-e 's/(up to 0x[0-9a-f]*)/(up to @KERNEL_END@)/' >"$WORK/images.out"

if [ "${IMAGES_UPDATE:-}" = 1 ]; then
	cp "$WORK/images.out" "$TOP/tests/images.expected"
fi
# One check per case, so a failure names the image.
awk '/^== / {name = $2} {print > (dir "/" name ".got")}' dir="$WORK" "$WORK/images.out"
awk '/^== / {name = $2} {print > (dir "/" name ".want")}' dir="$WORK" "$TOP/tests/images.expected"
for want in "$WORK"/*.want; do
	name=$(basename "$want" .want)
	if diff -u "$want" "$WORK/$name.got" >"$WORK/$name.diff" 2>&1; then
		pass "bad image: $name"
	else
		fail "bad image: $name" "$(cat "$WORK/$name.diff")"
	fi
done
# And `run` refuses the same way, before any VM exists.
printf 'kernel = %s\n' "$D/garbage" >"$D/run.conf"
timeout -k 2 20 "$PICOVM" run "$D/run.conf" >/dev/null 2>"$WORK/run.err"
st=$?
check "bad image: run exits 2 too" test "$st" = 2
