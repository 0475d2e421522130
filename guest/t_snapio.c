/*
 * snapio:ROUNDS:POINT:NET:NPOINTS: virtio-blk, virtio-net and virtio-console I/O
 * in flight across a snapshot, with every AP the MP table lists started
 * (parked, halted, as in `snap`).  Output goes through the virtio console
 * only (COM1 only for a missing device).
 *
 * Disk 0 holds at least 2 * ROUNDS * 8 chunks of 32 KiB.  Round R reads
 * chunks 8R..8R+7 of the first half (8 reads kicked together), and, with
 * NET = 1, sends an ICMP echo request (10.99.0.2 -> 10.99.0.1, to MAC
 * 02:99:00:00:00:01, sequence R) and queues a console line of 3000
 * pattern bytes; at rounds POINT..POINT+NPOINTS-1 it writes the
 * snapshot port with all of them in flight.  Then it waits for the reads, writes each chunk XOR
 * (R + 1) to the second half, and waits for the echo reply (the request
 * is sent again every 0.3 s: a frame may be lost at a snapshot, as on a
 * wire).  At the end it reads the second half back.  Prints
 *     snapio: round R PATTERN
 *     snapio: done read=C written=C2 echo=C3 aps=N
 * echo: the checksum of the reply payloads, one per round.  The host
 * side of NET: the tap holds 10.99.0.1 and a static neighbour entry for
 * the guest's 10.99.0.2 (no ARP here).
 */
#include <stdbool.h>
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/mem.h"
#include "rt/smp.h"
#include "t_net.h"
#include "t_vcon.h"
#include "virtio/blk.h"
#include "../devices/ports.h"

#define SIO_CHUNK 32768u
#define SIO_DEPTH 8u
#define SIO_LINE 3000u
#define SIO_PAYLOAD 56u
#define SIO_ICMP_ID 0x5053
#define SIO_FRAME (ETH_HLEN + 20 + 8 + SIO_PAYLOAD)
#define SIO_TRIES 200
#define WAIT_TICKS 3000000000ULL

static struct blk sio_blk;
static struct vnet sio_net;
static const uint8_t peer_mac[ETH_ALEN] = { 2, 0x99, 0, 0, 0, 1 };

static void echo_request(uint8_t *f, uint16_t seq)
{
	uint8_t *ip = f + ETH_HLEN, *icmp = ip + 20;

	memcpy(f, peer_mac, ETH_ALEN);
	memcpy(f + ETH_ALEN, sio_net.mac, ETH_ALEN);
	put16be(f + 12, ETHERTYPE_IPV4);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16be(ip + 2, 20 + 8 + SIO_PAYLOAD);
	ip[8] = 64;
	ip[9] = 1;	/* ICMP */
	put32be(ip + 12, 0x0a630002);	/* 10.99.0.2 */
	put32be(ip + 16, 0x0a630001);	/* 10.99.0.1 */
	put16be(ip + 10, tnet_csum_fold(tnet_csum_add(ip, 20, 0)));
	memset(icmp, 0, 8);
	icmp[0] = 8;	/* echo request */
	put16be(icmp + 4, SIO_ICMP_ID);
	put16be(icmp + 6, seq);
	for (unsigned i = 0; i < SIO_PAYLOAD; i++)
		icmp[8 + i] = (uint8_t)(seq * 7 + i);
	put16be(icmp + 2, tnet_csum_fold(tnet_csum_add(icmp, 8 + SIO_PAYLOAD, 0)));
}

/* The echo reply of sequence seq, its payload added to ck: sends the
 * request again every 0.3 s.  0, or -1 after SIO_TRIES tries. */
static int echo(uint16_t seq, uint8_t *frame, uint8_t *in, struct cksum *ck,
		int sent)
{
	uint64_t every = tnet_tsc_hz(NULL) / 10 * 3;

	for (int t = 0; t < SIO_TRIES; t++) {
		if (t || !sent) {
			echo_request(frame, seq);
			if (vnet_send(&sio_net, NULL, frame, SIO_FRAME, 1) < 0)
				return -1;
		}
		uint64_t start = rdtsc();
		while (rdtsc() - start < every) {
			int n = vnet_recv(&sio_net, in, VNET_MAX_FRAME, NULL);
			if (n == VNET_NONE) {
				vnet_tx_reap(&sio_net, 0, 0);
				cpu_pause();
				continue;
			}
			const uint8_t *ip = in + ETH_HLEN, *icmp = ip + 20;
			if (n < (int)SIO_FRAME || get16be(in + 12) != ETHERTYPE_IPV4 ||
			    ip[9] != 1 || icmp[0] != 0 ||
			    get16be(icmp + 4) != SIO_ICMP_ID || get16be(icmp + 6) != seq)
				continue;	/* not the reply (or a late one) */
			cksum_update(ck, icmp + 8, SIO_PAYLOAD);
			return 0;
		}
	}
	return -1;
}

static void console_line(uint64_t r)
{
	static char line[SIO_LINE + 1];

	for (unsigned i = 0; i < SIO_LINE; i++)
		line[i] = (char)('a' + (r + i) % 26);
	line[SIO_LINE] = '\n';
	vcon_printf("snapio: round %llu ", (unsigned long long)r);
	vcon_write(line, sizeof(line));
}

static int reads(uint8_t *buf, uint64_t first, bool snap, bool net,
		 uint64_t r, uint8_t *frame, struct cksum *ck)
{
	for (unsigned k = 0; k < SIO_DEPTH; k++)
		if (blk_submit(&sio_blk, VIRTIO_BLK_T_IN,
			       (first + k) * (SIO_CHUNK / BLK_SECTOR),
			       buf + k * SIO_CHUNK, SIO_CHUNK, k) < 0)
			return -1;
	vq_kick(&sio_blk.q);
	if (net) {
		echo_request(frame, (uint16_t)r);
		if (vnet_send(&sio_net, NULL, frame, SIO_FRAME, 1) < 0)
			return -1;
	}
	if (snap)
		outb(PICOVM_PORT_SNAPSHOT, 1);
	for (unsigned k = 0; k < SIO_DEPTH; k++) {
		uint64_t tag;
		if (blk_wait(&sio_blk, VIRTIO_WAIT_LONG, &tag) != VIRTIO_BLK_S_OK)
			return -1;
	}
	cksum_update(ck, buf, (size_t)SIO_DEPTH * SIO_CHUNK);
	return 0;
}

int test_snap_io(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static uint8_t *buf, *frame, *in;
	uint64_t a[4];
	const char *why = "";
	struct mp_info mi;
	struct cksum rd, wr, ec;

	if (parse_args(arg, arglen, a, 4) || a[0] == 0 || a[2] > 1)
		return EXIT_USAGE;
	bool net = a[2];
	if (vcon_open(bi, "snapio"))
		return 1;
	if (blk_open(&sio_blk, bi, 0, &why) ||
	    (net && vnet_open(&sio_net, bi, 0, &why))) {
		vcon_printf("snapio: no disk or net: %s\n", why);
		tx_reap(1);
		return 1;
	}
	if (!buf && (!(buf = rt_alloc(SIO_DEPTH * SIO_CHUNK, 4096)) ||
		     !(frame = rt_alloc(VNET_MAX_FRAME, 4096)) ||
		     !(in = rt_alloc(VNET_MAX_FRAME, 4096))))
		return 1;
	uint64_t half = a[0] * SIO_DEPTH;	/* chunks */
	if (sio_blk.capacity < 2 * half * (SIO_CHUNK / BLK_SECTOR)) {
		vcon_printf("snapio: disk too small\n");
		tx_reap(1);
		return 1;
	}
	unsigned sent = 0;
	if (mptable_find(&mi, &why) == 0) {
		sent = smp_start_aps(&mi);
		uint64_t start = rdtsc();
		while (smp_ap_count() < sent && rdtsc() - start < WAIT_TICKS)
			cpu_pause();
	}
	cksum_init(&rd);
	cksum_init(&wr);
	cksum_init(&ec);
	for (uint64_t r = 0; r < a[0]; r++) {
		console_line(r);
		bool snap = r >= a[1] && r - a[1] < a[3];
		if (reads(buf, r * SIO_DEPTH, snap, net, r, frame, &rd) < 0) {
			vcon_printf("snapio: read failed in round %llu\n",
				    (unsigned long long)r);
			tx_reap(1);
			return 1;
		}
		for (unsigned k = 0; k < SIO_DEPTH; k++) {
			uint8_t *p = buf + k * SIO_CHUNK;
			for (unsigned i = 0; i < SIO_CHUNK; i++)
				p[i] ^= (uint8_t)(r + 1);
			if (blk_io(&sio_blk, VIRTIO_BLK_T_OUT, (half + r * SIO_DEPTH + k) *
				   (SIO_CHUNK / BLK_SECTOR), p, SIO_CHUNK) !=
			    VIRTIO_BLK_S_OK) {
				vcon_printf("snapio: write failed\n");
				tx_reap(1);
				return 1;
			}
		}
		if (net && echo((uint16_t)r, frame, in, &ec, 1) < 0) {
			vcon_printf("snapio: no echo reply in round %llu\n",
				    (unsigned long long)r);
			tx_reap(1);
			return 1;
		}
	}
	for (uint64_t r = 0; r < a[0]; r++)
		if (reads(buf, half + r * SIO_DEPTH, false, false, r, frame, &wr) < 0) {
			vcon_printf("snapio: read-back failed\n");
			tx_reap(1);
			return 1;
		}
	vcon_printf("snapio: done read=%u written=%u echo=%u aps=%u\n",
		    cksum_final(&rd), cksum_final(&wr), cksum_final(&ec),
		    smp_ap_count());
	tx_reap(1);
	return 0;
}
