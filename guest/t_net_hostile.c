/*
 * net-tx-hostile: transmit chains a device must refuse, one case at a
 * time, each followed by a good "probe-NAME" frame; then a final "good"
 * frame.  Every frame is a test frame (t_net.h) to the broadcast address
 * tagged "hostile-NAME", "probe-NAME" or "good", so a capture on the tap
 * (tests/tools/pvnet capture) shows which of them reached the host: the
 * probes and "good" must, no "hostile-*" may.
 *
 * Per case: `hostile NAME: PASS|FAIL|SKIP (what the device did; probe
 * ok|...)`.  What the device may do: drop the frame (the used entry comes
 * back, Status stays clean) or, for chains that break the ring rules,
 * set DEVICE_NEEDS_RESET -- then the driver resets and re-initialises
 * before the probe.  The exit status is 0 if no case failed and the good
 * frame's used entry came back.
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/mem.h"
#include "t_net.h"

enum expect { DROP, RESET, EITHER };
enum outcome { O_USED, O_RESET, O_TIMEOUT, O_BAD };

static const char *const outcome_name[] = { "dropped: used entry back",
					    "DEVICE_NEEDS_RESET",
					    "no answer", "bogus used entry" };
static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct vnet net;
static uint8_t *big;	/* header + oversize frame */

#define BIG_LEN (VNET_HDR_LEN + VNET_MAX_FRAME + 4096)
/* After the frame area: scratch for writable buffers, the probe frame. */
#define SCRATCH (big + BIG_LEN)
#define PROBE (big + BIG_LEN + 4096)

/* Waits for one used TX entry, watching Status. */
static enum outcome wait_tx(void)
{
	uint64_t t0 = rdtsc(), last = t0;
	uint32_t len;
	void *c;

	for (;;) {
		int h = vq_pop(&net.tx, &len, &c);
		uint64_t now = rdtsc();

		if (h >= 0) {
			if (c != VNET_RAW)
				net.txfree[net.ntxfree++] = (uint16_t)(uint64_t)c;
			/* A failure right after the answer still counts. */
			return vnet_broken(&net) ? O_RESET : O_USED;
		}
		if (h == -2)
			return O_BAD;
		if (now - last > 2000000) {
			last = now;
			if (vnet_broken(&net))
				return O_RESET;
		}
		if (now - t0 > VIRTIO_WAIT_LONG)
			return O_TIMEOUT;
		cpu_pause();
	}
}

/* A chain of n buffers around `big`, queued raw and kicked. */
static enum outcome send_raw(const struct vbuf *b, unsigned n)
{
	if (vq_add(&net.tx, b, n, VNET_RAW) < 0)
		return O_TIMEOUT;
	vq_kick(&net.tx);
	return wait_tx();
}

/* hdr + a tagged test frame of len bytes in `big`, as one buffer. */
static enum outcome send_hdr(const struct virtio_net_hdr *h, uint32_t len,
			     const char *name)
{
	char tag[48];
	struct vbuf b = { (uint64_t)big, VNET_HDR_LEN + len, 0 };

	rt_snprintf(tag, sizeof(tag), "hostile-%s", name);
	memcpy(big, h, VNET_HDR_LEN);
	tnet_test_frame(big + VNET_HDR_LEN, len, bcast, net.mac, tag, 1);
	return send_raw(&b, 1);
}

#define H(...) (&(struct virtio_net_hdr){ __VA_ARGS__ })

static enum outcome c_runt(const char *n)
{
	return send_hdr(H(0), ETH_HLEN - 1, n);
}

static enum outcome c_hdr_only(const char *n)
{
	return send_hdr(H(0), 0, n);
}

static enum outcome c_short_hdr(const char *n)
{
	struct vbuf b = { (uint64_t)big, VNET_HDR_LEN - 2, 0 };

	(void)n;
	memset(big, 0, VNET_HDR_LEN);
	return send_raw(&b, 1);
}

/* 64 KiB + Ethernet + VLAN + 1: one byte over what a device may pass,
 * spread over 17 descriptors (past an indirect table's 16). */
static enum outcome c_oversize(const char *n)
{
	uint32_t total = VNET_HDR_LEN + 65535 + ETH_HLEN + 4 + 1, off = 0;
	struct vbuf b[17];
	unsigned k = 0;

	memset(big, 0, VNET_HDR_LEN);
	tnet_test_frame(big + VNET_HDR_LEN, total - VNET_HDR_LEN, bcast, net.mac,
			"hostile-oversize", 2);
	(void)n;
	while (off < total) {
		uint32_t len = k < 16 ? 4096 : total - off;

		b[k++] = (struct vbuf){ (uint64_t)big + off, len, 0 };
		off += len;
	}
	return send_raw(b, k);
}

static enum outcome c_gso_udp(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_NEEDS_CSUM, .gso_type = VNET_GSO_UDP,
			  .hdr_len = 42, .gso_size = 1000, .csum_start = 34,
			  .csum_offset = 6), 1500, n);
}

static enum outcome c_gso_unknown(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_NEEDS_CSUM, .gso_type = 0x42,
			  .hdr_len = 54, .gso_size = 1000, .csum_start = 34,
			  .csum_offset = 16), 1500, n);
}

static enum outcome c_gso_ecn_alone(const char *n)
{
	return send_hdr(H(.gso_type = VNET_GSO_ECN), 200, n);
}

static enum outcome c_gso_no_csum(const char *n)
{
	return send_hdr(H(.gso_type = VNET_GSO_TCPV4, .hdr_len = 54,
			  .gso_size = 1000), 3000, n);
}

static enum outcome c_gso_size0(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_NEEDS_CSUM,
			  .gso_type = VNET_GSO_TCPV4, .hdr_len = 54,
			  .csum_start = 34, .csum_offset = 16), 3000, n);
}

static enum outcome c_csum_start_beyond(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_NEEDS_CSUM, .csum_start = 300,
			  .csum_offset = 0), 200, n);
}

static enum outcome c_csum_offset_beyond(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_NEEDS_CSUM, .csum_start = 190,
			  .csum_offset = 9), 200, n);
}

static enum outcome c_csum_wrap(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_NEEDS_CSUM, .csum_start = 0xffff,
			  .csum_offset = 0xffff), 200, n);
}

static enum outcome c_flags_unknown(const char *n)
{
	return send_hdr(H(.flags = 0x80), 200, n);
}

static enum outcome c_flags_data_valid(const char *n)
{
	return send_hdr(H(.flags = VNET_HDR_F_DATA_VALID), 200, n);
}

/* A good frame followed by a device-writable buffer. */
static enum outcome c_writable_tail(const char *n)
{
	struct vbuf b[2] = { { (uint64_t)big, VNET_HDR_LEN + 200, 0 },
			     { (uint64_t)SCRATCH, 64, 1 } };

	memset(big, 0, VNET_HDR_LEN);
	tnet_test_frame(big + VNET_HDR_LEN, 200, bcast, net.mac,
			"hostile-tx-writable-tail", 3);
	(void)n;
	return send_raw(b, 2);
}

/* The whole frame in one device-writable buffer. */
static enum outcome c_writable_only(const char *n)
{
	struct vbuf b = { (uint64_t)big, VNET_HDR_LEN + 200, 1 };

	memset(big, 0, VNET_HDR_LEN);
	tnet_test_frame(big + VNET_HDR_LEN, 200, bcast, net.mac,
			"hostile-tx-writable-only", 4);
	(void)n;
	return send_raw(&b, 1);
}

/* A writable buffer first, then the frame: a readable buffer after a
 * writable one breaks the ring rules. */
static enum outcome c_writable_first(const char *n)
{
	struct vbuf b[2] = { { (uint64_t)SCRATCH + 64, 64, 1 },
			     { (uint64_t)big, VNET_HDR_LEN + 200, 0 } };

	memset(big, 0, VNET_HDR_LEN);
	tnet_test_frame(big + VNET_HDR_LEN, 200, bcast, net.mac,
			"hostile-tx-writable-first", 5);
	(void)n;
	/* vq_add puts buffers in the order given: writable first. */
	return send_raw(b, 2);
}

static const struct {
	const char *name;
	enum outcome (*run)(const char *name);
	enum expect expect;
} cases[] = {
	{ "runt", c_runt, DROP },
	{ "hdr-only", c_hdr_only, DROP },
	{ "short-hdr", c_short_hdr, DROP },
	{ "oversize", c_oversize, DROP },
	{ "gso-udp", c_gso_udp, DROP },
	{ "gso-unknown", c_gso_unknown, DROP },
	{ "gso-ecn-alone", c_gso_ecn_alone, DROP },
	{ "gso-no-csum", c_gso_no_csum, DROP },
	{ "gso-size0", c_gso_size0, DROP },
	{ "csum-start-beyond", c_csum_start_beyond, DROP },
	{ "csum-offset-beyond", c_csum_offset_beyond, DROP },
	{ "csum-wrap", c_csum_wrap, DROP },
	{ "flags-unknown", c_flags_unknown, DROP },
	{ "flags-data-valid", c_flags_data_valid, DROP },
	{ "tx-writable-tail", c_writable_tail, EITHER },
	{ "tx-writable-only", c_writable_only, EITHER },
	{ "tx-writable-first", c_writable_first, RESET },
};

/* A good tagged frame through the normal path; 0 if its used entry came
 * back and the device is fine. */
static int probe(const char *tag)
{
	uint8_t *f = PROBE;

	tnet_test_frame(f, 120, bcast, net.mac, tag, 9);
	if (vnet_send(&net, NULL, f, 120, 1) || vnet_tx_reap(&net, 1, VIRTIO_WAIT_LONG))
		return -1;
	return vnet_broken(&net) ? -1 : 0;
}

int test_net_tx_hostile(const struct bootinfo *bi, const char *arg,
			size_t arglen)
{
	unsigned fails = 0;
	const char *why;

	(void)arg, (void)arglen;
	if (tnet_open(&net, bi, "net-tx-hostile") ||
	    !(big = rt_alloc(BIG_LEN + 8192, 4096)))
		return 1;
	rt_printf("net-tx-hostile: features=0x%llx\n",
		  (unsigned long long)net.dev.acked);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum outcome o = cases[i].run(cases[i].name);
		enum expect e = cases[i].expect;
		int ok = (o == O_USED && e != RESET) || (o == O_RESET && e != DROP);
		const char *p = "ok";
		char tag[48];

		if (o != O_USED && vnet_init(&net, &why)) {
			rt_printf("hostile %s: FAIL (%s; re-init: %s)\n",
				  cases[i].name, outcome_name[o], why);
			return 1;
		}
		rt_snprintf(tag, sizeof(tag), "probe-%s", cases[i].name);
		if (probe(tag)) {
			ok = 0;
			p = "FAILED";
		}
		fails += !ok;
		rt_printf("hostile %s: %s (%s%s; probe %s)\n", cases[i].name,
			  ok ? "PASS" : "FAIL", outcome_name[o],
			  o == O_RESET ? ", reset" : "", p);
	}
	if (probe("good")) {
		rt_puts("net-tx-hostile: good frame not sent");
		return 1;
	}
	rt_printf("net-tx-hostile: done fail=%u\n", fails);
	return fails ? 1 : 0;
}
