#!/usr/bin/env bash
# Checks the guest's virtio-net driver (virtio/net.c, t_net*.c) against
# QEMU's virtio-net-device (virtio-mmio, TCG, tap with vhost=off), the
# reference implementation: the good paths, plus the behaviour QEMU and
# picovm should share (a too-small RX chain drops the frame, a reset with
# a read pending finishes).  QEMU differs from picovm's error model on
# hostile TX (it passes bad GSO headers to the tap and fails the device
# for a short header), so net-tx-hostile is only run to its end here.
#
# Needs root (a network namespace, pv-qemu-PID, deleted on exit) and
# tests/tools/pvnet.  Prints one line per check and "N passed, N failed";
# exit 0 if none failed.
set -u
cd "$(dirname "$0")"
B=build
QEMU=${QEMU:-qemu-system-x86_64}
PVNET=../tests/build/pvnet
if ! command -v "$QEMU" >/dev/null; then
	echo "skip: $QEMU not found"
	exit 0
fi
NS=pv-qemu-$$
if [ "$(id -u)" != 0 ] || ! ip netns add "$NS" 2>/dev/null; then
	echo "skip: virtio-net checks need root (network namespace)"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/picotest-net.XXXXXX")
trap 'ip netns del "$NS"; rm -rf "$T"' EXIT
make -s -C ../tests build/pvnet || exit 1
nx() { ip netns exec "$NS" "$@"; }
nx ip link set lo up
nx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nx ip tuntap add dev qt0 mode tap vnet_hdr
nx ip link set qt0 up
nx ip addr add 10.99.0.1/24 dev qt0
MAC=02:11:22:33:44:55
npass=0 nfail=0

# run CMDLINE: QEMU in the background, output in $T/out, status in $T/st
run() {
	: >"$T/out"
	(timeout -k 2 60 ip netns exec "$NS" "$QEMU" \
		-M microvm,x-option-roms=off,rtc=off,acpi=off -accel tcg -m 128 \
		-display none -no-reboot -monitor none -kernel $B/testpvh.elf \
		-append "$1" -global virtio-mmio.force-legacy=false \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-netdev tap,id=n0,ifname=qt0,script=no,downscript=no,vhost=off \
		-device virtio-net-device,netdev=n0,mac=$MAC -serial stdio \
		>"$T/out" 2>"$T/err" </dev/null
	echo $(($? >> 1)) >"$T/st") &
	pid=$!
}
finish() { wait $pid; st=$(cat "$T/st"); }
waitout() {
	for _ in $(seq 300); do grep -q "$1" "$T/out" && return 0; sleep 0.1; done
	return 1
}
stop() { nx $PVNET send qt0 $MAC 60 picotest-stop; }
check() {	# check NAME CONDITION...
	local name=$1; shift
	if "$@"; then
		echo "ok    $name"; npass=$((npass + 1))
	else
		echo "FAIL  $name: status ${st:-}; output: $(tail -c 300 "$T/out" | tr '\n' '|')"
		nfail=$((nfail + 1))
	fi
}
has() { grep -q -- "$1" "$T/out"; }

run picotest=net-info
finish
check net-info grep -qE "^net: mac=$MAC mtu=1500 features=0x[0-9a-f]+ status=1\$" "$T/out"

for opts in "" "picotest.mrg picotest.rxbuf=256 picotest.offload"; do
	res=""
	run "picotest=net-echo $opts"
	waitout "net-echo: up" && res=$(nx $PVNET echo qt0 $MAC 60 1514)
	stop
	finish
	check "net-echo $opts: 1455 frames back intact" grep -q '^echo: sent=1455 ok=1455 ' <<<"${res:-}"
	ck=$(sed -n 's/.* cksum=\([0-9]*\) .*/\1/p' <<<"${res:-}")
	check "net-echo $opts: the guest's cksum is the host's" has "^net-echo: frames=1455 bytes=1145085 cksum=${ck:-x} "
done

run picotest=net-responder:10.99.0.2
waitout "net-responder: up"
if command -v ping >/dev/null; then
	check "net-responder: ping 56 and 1472 bytes" \
		eval 'nx ping -c 2 -i 0.3 -W 3 -s 56 10.99.0.2 >/dev/null && nx ping -c 2 -i 0.3 -W 3 -M do -s 1472 10.99.0.2 >/dev/null'
fi
stop
finish
check "net-responder: ends on the stop frame" has "^net-responder: arp="

run picotest=net-rx-small
if waitout ready; then
	nx $PVNET send qt0 $MAC 1514 big
	nx $PVNET send qt0 $MAC 100 small
fi
finish
check "net-rx-small: big dropped, small arrives" has "^net-rx-small: big=dropped small=ok"

run picotest=net-starve:2
if waitout "no buffers"; then
	nx $PVNET flood qt0 $MAC 1000 flood 1 >/dev/null
	waitout "posting buffers"
	sleep 0.5
	nx $PVNET send qt0 $MAC 200 after 20 2000
	sleep 0.5
	stop
fi
finish
check "net-starve: RX resumes" has "^net-starve: queued=[0-9]* fresh=20 "

run picotest=net-reset
finish
check "net-reset: a reset with a read pending finishes" has "^net-reset: ok"

run "picotest=net-tx-hostile picotest.offload"
finish
check "net-tx-hostile runs to its end" has "^net-tx-hostile: done"

echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
