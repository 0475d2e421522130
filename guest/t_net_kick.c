/*
 * RX kicks: how often a driver that gives its buffers back one at a time
 * must notify the device.
 *
 *   net-kickbatch   posts every RX buffer, prints "net-kickbatch: ready
 *                   N" and takes N frames (N = queue size - 1) without
 *                   posting any back, so that the device runs out of
 *                   buffers.  Then it reads the avail_event the device
 *                   left (EVENT_IDX): how many buffers the driver may
 *                   post before it must kick.  A device that asks at the
 *                   next buffer costs the driver a kick (a VM exit) per
 *                   buffer while it refills one at a time, as vnet_recv
 *                   does.  Then the buffers go back one at a time with a
 *                   kick check after each, and frames are taken until the
 *                   stop frame (the host sends it after the first line).
 *                   Prints "net-kickbatch: asked after B buffers", then
 *                   "net-kickbatch: refill kicks=K frames=F".
 *   net-trickle     a driver that keeps one RX buffer posted: it posts
 *                   the next only after the last one came back (the device
 *                   must not wait for a batch that never comes).  Counts
 *                   test frames until the stop frame: "net-trickle:
 *                   frames=F".
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "t_net.h"

static struct vnet net;

/* Puts RX buffer i back on the ring (not yet published). */
static void post_one(unsigned i)
{
	struct vbuf b = { (uint64_t)(net.rxmem + (size_t)i * net.rx_stride),
			  net.rx_len, 1 };

	if (vq_add(&net.rx, &b, 1, (void *)(uint64_t)i) >= 0)
		net.rx_posted[i] = 1;
}

/* The next used RX buffer (its index) within VIRTIO_WAIT_LONG, or -1. */
static int take_one(uint32_t *len)
{
	uint64_t t0 = rdtsc();
	void *c;
	int h;

	while ((h = vq_pop(&net.rx, len, &c)) == -1) {
		if (rdtsc() - t0 > VIRTIO_WAIT_LONG)
			return -1;
		cpu_pause();
	}
	if (h < 0)
		return -1;
	net.rx_posted[(uint64_t)c] = 0;
	return (int)(uint64_t)c;
}

int test_net_kickbatch(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	unsigned n, asked = 1;	/* no sign of more: the next buffer */
	uint32_t len;

	(void)arg, (void)arglen;
	if (tnet_open(&net, bi, "net-kickbatch"))
		return 1;
	if (!net.rx.event_idx) {
		rt_puts("net-kickbatch: no EVENT_IDX");
		return 1;
	}
	n = net.rx.num - 1;
	rt_printf("net-kickbatch: ready %u\n", n);
	for (unsigned k = 0; k < n; k++) {
		if (take_one(&len) < 0) {
			rt_printf("net-kickbatch: only %u of %u frames came\n", k, n);
			return 1;
		}
	}
	/* The device looks at the ring again after the last frame it
	 * delivered; give it a moment to say what it wants. */
	uint64_t t0 = rdtsc();
	do {
		uint16_t ahead = (uint16_t)(*vq_avail_event(&net.rx) - net.rx.avail_idx);
		if (ahead >= 1 && ahead < net.rx.num) {
			asked = ahead + 1u;
			break;
		}
		cpu_pause();
	} while (rdtsc() - t0 < VIRTIO_WAIT_LONG);
	rt_printf("net-kickbatch: asked after %u buffers\n", asked);
	uint64_t kicks0 = net.rx.kicks;
	for (unsigned i = 0; i < net.rx.num; i++) {
		if (!net.rx_posted[i]) {
			post_one(i);
			vq_kick(&net.rx);
		}
	}
	uint64_t refill = net.rx.kicks - kicks0, frames = 0;
	uint8_t *f = tnet_frame_buf();
	for (;;) {
		int r = vnet_recv(&net, f, VNET_MAX_FRAME, NULL);
		if (r == VNET_NONE) {
			cpu_pause();
			continue;
		}
		if (r < 0)
			return 1;
		if (tnet_tagged(f, (uint32_t)r, TNET_STOP_TAG))
			break;
		frames++;
	}
	rt_printf("net-kickbatch: refill kicks=%llu frames=%llu\n",
		  (unsigned long long)refill, (unsigned long long)frames);
	return 0;
}

int test_net_trickle(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t frames = 0;
	uint32_t len;

	(void)arg, (void)arglen;
	net.rx_no_post = 1;
	if (tnet_open(&net, bi, "net-trickle"))
		return 1;
	rt_puts("net-trickle: ready");
	for (;;) {
		post_one(0);
		vq_kick(&net.rx);
		/* A generous watchdog: a device waiting for more buffers
		 * than this driver will ever post stalls here. */
		int i = take_one(&len);
		if (i < 0) {
			rt_printf("net-trickle: stalled after %llu frames\n",
				  (unsigned long long)frames);
			return 1;
		}
		const uint8_t *b = net.rxmem + (size_t)i * net.rx_stride;
		if (len < VNET_HDR_LEN)
			continue;
		if (tnet_tagged(b + VNET_HDR_LEN, len - VNET_HDR_LEN, TNET_STOP_TAG))
			break;
		if (tnet_tagged(b + VNET_HDR_LEN, len - VNET_HDR_LEN, "trickle"))
			frames++;
	}
	rt_printf("net-trickle: frames=%llu\n", (unsigned long long)frames);
	return 0;
}
