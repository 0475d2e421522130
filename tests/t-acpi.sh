#!/usr/bin/env bash
# The DSDT picovm writes (tests/build/dsdt: boot/acpi.c's tables in a
# scratch guest RAM, followed from the RSDP as a guest does) disassembled
# by ACPICA's iasl: for 0, 1 and 16 virtio devices, each device's LNRO0005
# id, 4 KiB window and interrupt as picovm placed them, and no other.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! make -s -C "$TOP/tests" build/dsdt >"$WORK/make.log" 2>&1; then
	fail acpi-build "make -C tests build/dsdt failed: $(tail -c 600 "$WORK/make.log")"
	exit 0
fi
if ! command -v iasl >/dev/null; then
	skip "acpi: iasl -d" "iasl not installed (Debian package acpica-tools)"
	exit 0
fi

for n in 0 1 16; do
	name="acpi: DSDT with $n virtio devices (iasl -d)"
	if ! "$TOP/tests/build/dsdt" "$n" "$WORK/dsdt$n.dat" 2>"$WORK/err"; then
		fail "$name" "tables refused: $(cat "$WORK/err")"
		continue
	fi
	if ! (cd "$WORK" && iasl -d "dsdt$n.dat") >"$WORK/iasl$n.log" 2>&1 ||
	   ! [ -s "$WORK/dsdt$n.dsl" ]; then
		fail "$name" "iasl: $(tail -c 600 "$WORK/iasl$n.log")"
		continue
	fi
	# Each device flattened to one line: name, _UID, window, length, IRQ.
	got=$(tr -s ' \t\n' ' ' <"$WORK/dsdt$n.dsl" |
		grep -o 'Device (VR[0-9A-F]*) { Name (_HID, "LNRO0005") // _HID: Hardware ID Name (_UID, [^)]*) // _UID: Unique ID Name (_CRS, ResourceTemplate () // _CRS: Current Resource Settings { Memory32Fixed (ReadWrite, 0x[0-9A-F]*, // Address Base 0x[0-9A-F]*, // Address Length ) Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x[0-9A-F]*, }' |
		sed -E 's/Device \((VR[0-9A-F]+)\).*_UID, ([^)]*)\).*Memory32Fixed \(ReadWrite, (0x[0-9A-F]+), \/\/ Address Base (0x[0-9A-F]+),.*\{ (0x[0-9A-F]+), \}/\1 \2 \3 \4 \5/')
	want=""
	for ((i = 0; i < n; i++)); do
		uid=$([ $i = 0 ] && echo Zero || { [ $i = 1 ] && echo One || printf '0x%02X' $i; })
		want+=$(printf 'VR%02X %s 0x%08X 0x00001000 0x%08X' $i "$uid" \
			$((0xd0010000 + 4096 * i)) $((5 + i)))$'\n'
	done
	ndev=$(grep -c 'Device (' "$WORK/dsdt$n.dsl")
	if [ "$got"$'\n' != "$want" ] && ! [ $n = 0 -a -z "$got" ]; then
		fail "$name" "devices differ: got '$got' want '$want'"
	elif [ "$ndev" != $((n + 1)) ]; then
		fail "$name" "$ndev devices in the DSDT, expected $n and pvpanic"
	elif ! grep -q 'Name (_S5, Package (0x04)' "$WORK/dsdt$n.dsl" ||
	     ! grep -q '"QEMU0001"' "$WORK/dsdt$n.dsl"; then
		fail "$name" "\\_S5 or pvpanic missing"
	else
		pass "$name"
	fi
done
exit 0
