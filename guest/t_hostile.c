/*
 * The hostile-test runner: `hostile-all`, or one case by its name
 * (`picotest=vq-loop`).  Output:
 *     hostile: baseline len=4096 cksum=C      (sectors 0-7 at the start)
 *     hostile NAME: PASS (...) | FAIL (...) | SKIP (...)   one per case
 *     hostile: done pass=N fail=N skip=N      (hostile-all only)
 * Exit status 0 when nothing failed.  See t_hostile.h for the rules.
 */
#include <stdarg.h>
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/mem.h"
#include "t_hostile.h"

#define BASE_BYTES 4096u

static struct hctx hc;
static uint32_t baseline;

void hwhy(struct hctx *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
}

int h_init(struct hctx *h, uint64_t want, unsigned qsize)
{
	const char *why;

	h->b.want = want;
	h->b.qsize = qsize;
	if (blk_init(&h->b, &why)) {
		hwhy(h, "init: %s", why);
		return -1;
	}
	return 0;
}

void h_desc(struct hctx *h, unsigned i, uint64_t addr, uint32_t len,
	    uint16_t flags, uint16_t next)
{
	h->b.q.desc[i] = (struct vring_desc){ addr, len, flags, next };
}

void h_hdr(struct hctx *h, uint32_t type, uint64_t sector)
{
	*h->hdr = (struct virtio_blk_outhdr){ .type = type, .sector = sector };
	memset(h->status, 0xff, 64);
}

void h_post(struct hctx *h, uint16_t head)
{
	vq_raw_post(&h->b.q, head);
	vq_raw_publish(&h->b.q, h->b.q.avail_idx);
}

enum outcome h_wait(struct hctx *h, uint64_t ticks)
{
	uint64_t t0 = rdtsc(), last = 0;

	for (;;) {
		uint64_t now = rdtsc();

		if (vq_has_used(&h->b.q))
			return O_USED;
		if (now - last > 100000) {	/* ~50 us between exits */
			last = now;
			if (vdev_status(&h->b.dev) & VIRTIO_S_NEEDS_RESET)
				return O_NEEDS_RESET;
		}
		if (now - t0 > ticks)
			return O_NOTHING;
		cpu_pause();
	}
}

/* The config interrupt may be raised just after Status changes. */
static int config_irq_seen(struct hctx *h)
{
	uint64_t t0 = rdtsc();

	do {
		if (vdev_r32(&h->b.dev, VIRTIO_MMIO_INTERRUPT_STATUS) &
		    VIRTIO_INT_CONFIG)
			return 1;
	} while (rdtsc() - t0 < VIRTIO_WAIT_SHORT);
	return 0;
}

int h_expect_reset(struct hctx *h)
{
	switch (h_wait(h, VIRTIO_WAIT_LONG)) {
	case O_NEEDS_RESET:
		if (!config_irq_seen(h)) {
			hwhy(h, "NEEDS_RESET set, but no config interrupt");
			return H_FAIL;
		}
		hwhy(h, "NEEDS_RESET, config interrupt");
		return H_PASS;
	case O_USED:
		hwhy(h, "served it: used entry, status byte %u (expected "
		     "NEEDS_RESET)", h_st(h));
		return H_FAIL;
	default:
		hwhy(h, "no reaction (expected NEEDS_RESET)");
		return H_FAIL;
	}
}

int h_expect_status(struct hctx *h, int want)
{
	switch (h_wait(h, VIRTIO_WAIT_LONG)) {
	case O_USED:
		if (h_st(h) != want) {
			hwhy(h, "status %s (expected %s)",
			     blk_status_name(h_st(h)), blk_status_name(want));
			return H_FAIL;
		}
		hwhy(h, "%s", blk_status_name(want));
		return H_PASS;
	case O_NEEDS_RESET:
		hwhy(h, "NEEDS_RESET (expected status %s)", blk_status_name(want));
		return H_FAIL;
	default:
		hwhy(h, "no reaction (expected status %s)", blk_status_name(want));
		return H_FAIL;
	}
}

int h_expect_answer(struct hctx *h)
{
	switch (h_wait(h, VIRTIO_WAIT_LONG)) {
	case O_USED:
		hwhy(h, "answered with status %s", blk_status_name(h_st(h)));
		return H_PASS;
	case O_NEEDS_RESET:
		hwhy(h, "answered with NEEDS_RESET");
		return H_PASS;
	default:
		hwhy(h, "no reaction");
		return H_FAIL;
	}
}

int h_steps(struct hctx *h, int (*step)(struct hctx *, unsigned), unsigned n)
{
	char all[sizeof(h->why)] = "";
	int r = H_PASS;

	for (unsigned k = 0; k < n && r == H_PASS; k++) {
		size_t used = strlen(all);

		if (k && h_init(h, BLK_FEATURES_ALL, 0))
			return H_FAIL;
		r = step(h, k);
		rt_snprintf(all + used, sizeof(all) - used, "%s%s", k ? "; " : "",
			    h->why);
	}
	memcpy(h->why, all, sizeof(all));
	return r;
}

int h_read_ok(struct hctx *h)
{
	int st;

	memset(h->data, 0, BASE_BYTES);
	st = blk_io(&h->b, VIRTIO_BLK_T_IN, 0, h->data, BASE_BYTES);
	if (st != VIRTIO_BLK_S_OK) {
		hwhy(h, "good read: %s", blk_status_name(st));
		return -1;
	}
	if (cksum(h->data, BASE_BYTES) != h->baseline) {
		hwhy(h, "good read: wrong data");
		return -1;
	}
	return 0;
}

int h_queue_refused(struct hctx *h, uint32_t num, uint64_t desc,
		    uint64_t avail, uint64_t used)
{
	const struct vdev *d = &h->b.dev;

	vdev_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_NUM, num);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	vdev_w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (vdev_r32(d, VIRTIO_MMIO_QUEUE_READY) == 0)
		return 1;
	vdev_w32(d, VIRTIO_MMIO_QUEUE_READY, 0);
	return 0;
}

static const struct {
	const struct hcase *list;
	const unsigned *count;
} groups[] = {
	{ hcases_vq, &hcases_vq_count },
	{ hcases_setup, &hcases_setup_count },
};

/* Reads sectors 0-7 on a freshly initialised device: its cksum, or 0
 * with *why set (a CRC of 0 is possible but not for real data here). */
static int good_read(struct hctx *h, uint32_t *crc, const char **why)
{
	int st;

	if (blk_init(&h->b, why))
		return -1;
	memset(h->data, 0, BASE_BYTES);
	st = blk_io(&h->b, VIRTIO_BLK_T_IN, 0, h->data, BASE_BYTES);
	if (st != VIRTIO_BLK_S_OK) {
		*why = blk_status_name(st);
		return -1;
	}
	*crc = cksum(h->data, BASE_BYTES);
	return 0;
}

static int setup(const struct bootinfo *bi)
{
	struct hctx *h = &hc;
	const char *why;

	if (h->data)
		return 0;
	if (blk_open(&h->b, bi, 0, &why)) {
		rt_printf("hostile: no usable virtio-blk device: %s\n", why);
		return -1;
	}
	h->hdr = rt_alloc(4096, 4096);
	h->status = rt_alloc(4096, 4096);
	h->data = rt_alloc(65536, 4096);
	h->tab = rt_alloc(8192, 4096);
	h->big = rt_alloc(4u << 20, 4096);
	h->ram_top = rt_ram_top();
	if (!h->hdr || !h->status || !h->data || !h->tab || !h->big) {
		rt_puts("hostile: out of memory");
		return -1;
	}
	if (h->b.capacity < 8) {
		rt_puts("hostile: the disk needs at least 8 sectors");
		return -1;
	}
	if (good_read(h, &baseline, &why)) {
		rt_printf("hostile: baseline read: %s\n", why);
		return -1;
	}
	h->baseline = baseline;
	rt_printf("hostile: baseline len=%u cksum=%u\n", BASE_BYTES, baseline);
	return 0;
}

/* Runs one case and prints its line; returns its verdict. */
static int run_case(const struct hcase *c)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	struct hctx *h = &hc;
	const char *why;
	uint32_t crc;
	int r;

	hwhy(h, "?");
	if (h_init(h, BLK_FEATURES_ALL, 0))
		r = H_FAIL;
	else
		r = c->run(h);
	h->b.want = BLK_FEATURES_ALL;
	h->b.qsize = 0;
	if (r != H_SKIP) {
		if (good_read(h, &crc, &why)) {
			r = H_FAIL;
			rt_printf("hostile %s: FAIL (%s; after reset: %s)\n", c->name,
				  h->why, why);
			return r;
		}
		if (crc != baseline) {
			rt_printf("hostile %s: FAIL (%s; after reset: sectors 0-7 "
				  "changed, cksum %u)\n", c->name, h->why, crc);
			return H_FAIL;
		}
	}
	rt_printf("hostile %s: %s (%s%s)\n", c->name, word[r], h->why,
		  r == H_SKIP ? "" : "; works after reset");
	return r;
}

int test_hostile_named(const struct bootinfo *bi, const char *name,
		       size_t len)
{
	for (unsigned g = 0; g < ARRAY_SIZE(groups); g++)
		for (unsigned i = 0; i < *groups[g].count; i++) {
			const struct hcase *c = &groups[g].list[i];

			if (strlen(c->name) != len || memcmp(c->name, name, len))
				continue;
			if (setup(bi))
				return 1;
			return run_case(c) == H_FAIL ? 1 : 0;
		}
	return -1;
}

int test_hostile_all(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	unsigned n[3] = { 0, 0, 0 };

	(void)arg, (void)arglen;
	if (setup(bi))
		return 1;
	for (unsigned g = 0; g < ARRAY_SIZE(groups); g++)
		for (unsigned i = 0; i < *groups[g].count; i++)
			n[run_case(&groups[g].list[i])]++;
	rt_printf("hostile: done pass=%u fail=%u skip=%u\n", n[H_PASS],
		  n[H_FAIL], n[H_SKIP]);
	return n[H_FAIL] ? 1 : 0;
}
