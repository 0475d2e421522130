/*
 * Hostile cases on queue set-up, the status machine and block requests
 * (t_hostile.h has the rules).
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "t_hostile.h"

#define R	0
#define W	VRING_DESC_F_WRITE
#define N	VRING_DESC_F_NEXT
#define HDR	((uint32_t)sizeof(struct virtio_blk_outhdr))

/* Back to "FEATURES_OK, no queue ready" for the set-up cases. */
static int features_ok(struct hctx *h)
{
	const char *why;

	if (vdev_negotiate(&h->b.dev, BLK_FEATURES_ALL, &why)) {
		hwhy(h, "%s", why);
		return -1;
	}
	return 0;
}

/* Tries each set-up; all must be refused.  names[i] says what was odd. */
static int all_refused(struct hctx *h, const char *const *names,
		       const uint64_t (*rings)[4], unsigned n)
{
	char acc[120] = "";

	if (features_ok(h))
		return H_FAIL;
	for (unsigned i = 0; i < n; i++)
		if (!h_queue_refused(h, (uint32_t)rings[i][0], rings[i][1],
				     rings[i][2], rings[i][3])) {
			size_t u = strlen(acc);

			rt_snprintf(acc + u, sizeof(acc) - u, " %s", names[i]);
		}
	if (acc[0]) {
		hwhy(h, "QueueReady accepted:%s", acc);
		return H_FAIL;
	}
	hwhy(h, "QueueReady refused for all %u", n);
	return H_PASS;
}

static int vq_ring_overlap(struct hctx *h)
{
	static const char *const names[] = { "avail-in-desc", "used-on-avail",
					     "used-on-desc" };
	uint64_t d = (uint64_t)h->b.q.desc, a = (uint64_t)h->b.q.avail,
		 u = (uint64_t)h->b.q.used;
	const uint64_t r[][4] = {
		{ 256, d, d + 0x800, u },
		{ 256, d, a, a + 4 },
		{ 256, d, a, d },
	};

	return all_refused(h, names, r, ARRAY_SIZE(r));
}

static int vq_ring_misaligned(struct hctx *h)
{
	static const char *const names[] = { "desc+8", "avail+1", "used+2" };
	uint64_t d = (uint64_t)h->b.q.desc, a = (uint64_t)h->b.q.avail,
		 u = (uint64_t)h->b.q.used;
	const uint64_t r[][4] = {
		{ 256, d + 8, a, u },
		{ 256, d, a + 1, u },
		{ 256, d, a, u + 2 },
	};

	return all_refused(h, names, r, ARRAY_SIZE(r));
}

static int vq_ring_mmio(struct hctx *h)
{
	static const char *const names[] = { "desc-on-device", "avail-on-lapic",
					     "used-on-ioapic", "desc-past-ram",
					     "desc-straddling-ram-end" };
	uint64_t d = (uint64_t)h->b.q.desc, a = (uint64_t)h->b.q.avail,
		 u = (uint64_t)h->b.q.used, top = h->ram_top;
	const uint64_t r[][4] = {
		{ 256, h->b.dev.base, a, u },
		{ 256, d, 0xfee00000, u },
		{ 256, d, a, 0xfec00000 },
		{ 256, top, a, u },
		{ 256, top - 0x800, a, u },
	};

	return all_refused(h, names, r, ARRAY_SIZE(r));
}

static int vq_num_bad(struct hctx *h)
{
	static const char *const names[] = { "0", "3", "1024", "2*max" };
	uint64_t d = (uint64_t)h->b.q.desc, a = (uint64_t)h->b.q.avail,
		 u = (uint64_t)h->b.q.used, max;
	uint64_t r[][4] = {
		{ 0, d, a, u }, { 3, d, a, u }, { 1024, d, a, u }, { 0, d, a, u },
	};

	vdev_w32(&h->b.dev, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = vdev_r32(&h->b.dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
	r[3][0] = max * 2;
	return all_refused(h, names, r, ARRAY_SIZE(r));
}

/* Queue registers rewritten while QueueReady = 1 and after DRIVER_OK (to
 * a size of 2 and a zeroed page): ignored, the original ring goes on. */
static void rewrite(struct hctx *h)
{
	const struct vdev *d = &h->b.dev;
	uint64_t junk = (uint64_t)h->tab;

	memset(h->tab, 0, 8192);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_NUM, 2);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)junk);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)junk + 4096);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)junk + 4096);
}

static int vq_rewrite_after_ready(struct hctx *h)
{
	const char *why;

	if (features_ok(h))
		return H_FAIL;
	if (vq_setup(&h->b.q, h->b.q.num, &why)) {
		hwhy(h, "set-up: %s", why);
		return H_FAIL;
	}
	rewrite(h);
	vdev_driver_ok(&h->b.dev);
	rewrite(h);
	vdev_w32(&h->b.dev, VIRTIO_MMIO_QUEUE_READY, 0);
	if (vdev_r32(&h->b.dev, VIRTIO_MMIO_QUEUE_READY) != 1) {
		hwhy(h, "QueueReady = 0 after DRIVER_OK took effect");
		return H_FAIL;
	}
	if (h_read_ok(h))
		return H_FAIL;
	hwhy(h, "rewrites ignored, the first ring still works");
	return H_PASS;
}

static int vq_sel_oob(struct hctx *h)
{
	static const uint32_t sel[] = { 99, 0xffffffffu };
	const struct vdev *d = &h->b.dev;
	const char *why;

	if (features_ok(h))
		return H_FAIL;
	for (unsigned i = 0; i < ARRAY_SIZE(sel); i++) {
		uint32_t max, ready;

		vdev_w32(d, VIRTIO_MMIO_QUEUE_SEL, sel[i]);
		max = vdev_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
		ready = vdev_r32(d, VIRTIO_MMIO_QUEUE_READY);
		vdev_w32(d, VIRTIO_MMIO_QUEUE_NUM, 8);
		vdev_w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uint64_t)h->b.q.desc);
		vdev_w32(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uint64_t)h->b.q.avail);
		vdev_w32(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uint64_t)h->b.q.used);
		vdev_w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
		if (max || ready || vdev_r32(d, VIRTIO_MMIO_QUEUE_READY)) {
			hwhy(h, "QueueSel %#x: QueueNumMax %u, QueueReady %u, then "
			     "%u after writing 1", sel[i], max, ready,
			     vdev_r32(d, VIRTIO_MMIO_QUEUE_READY));
			return H_FAIL;
		}
	}
	if (vq_setup(&h->b.q, h->b.q.num, &why)) {
		hwhy(h, "queue 0 after QueueSel 99: %s", why);
		return H_FAIL;
	}
	vdev_driver_ok(d);
	if (h_read_ok(h))
		return H_FAIL;
	hwhy(h, "QueueNumMax 0, writes ignored, queue 0 still works");
	return H_PASS;
}

static int st_features_after_ok(struct hctx *h)
{
	const char *why;

	if (features_ok(h))
		return H_FAIL;
	vdev_write_features(&h->b.dev, 0);	/* drops VERSION_1 too */
	vdev_write_features(&h->b.dev, ~0ULL);
	if (!(vdev_status(&h->b.dev) & VIRTIO_S_FEATURES_OK)) {
		hwhy(h, "FEATURES_OK lost");
		return H_FAIL;
	}
	if (vq_setup(&h->b.q, h->b.q.num, &why)) {
		hwhy(h, "set-up: %s", why);
		return H_FAIL;
	}
	vdev_driver_ok(&h->b.dev);
	if (h_read_ok(h))
		return H_FAIL;
	hwhy(h, "ignored, device works with the first features");
	return H_PASS;
}

/* Features the device did not offer, then no VERSION_1: FEATURES_OK must
 * not stick either time. */
static int st_bad_features(struct hctx *h)
{
	struct vdev *d = &h->b.dev;
	uint64_t off = d->offered, extra = 0;
	uint32_t s1, s2;

	for (unsigned b = 0; b < 64 && !extra; b++)
		if (!(off & FBIT(b)))
			extra = FBIT(b);
	for (int k = 0; k < 2; k++) {
		uint32_t *s = k ? &s2 : &s1;

		if (vdev_reset(d))
			return H_FAIL;
		vdev_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
		vdev_write_features(d, k ? off & ~FBIT(VIRTIO_F_VERSION_1)
					 : off | extra);
		vdev_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE |
			 VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
		*s = vdev_status(d);
	}
	hwhy(h, "unoffered bit %#llx: Status %#x; no VERSION_1: Status %#x",
	     (unsigned long long)extra, s1, s2);
	return (s1 | s2) & VIRTIO_S_FEATURES_OK ? H_FAIL : H_PASS;
}

/* Clearing Status bits is undefined; only survival is judged. */
static int st_clear_bits(struct hctx *h)
{
	const struct vdev *d = &h->b.dev;
	uint32_t s0 = vdev_status(d), s1, s2;
	int st;

	vdev_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	s1 = vdev_status(d);
	vdev_w32(d, VIRTIO_MMIO_STATUS, s0);
	s2 = vdev_status(d);
	st = blk_io(&h->b, VIRTIO_BLK_T_IN, 0, h->data, 4096);
	hwhy(h, "Status %#x, wrote 0x3: reads %#x, wrote %#x back: reads %#x, "
	     "then a read: %s", s0, s1, s0, s2, blk_status_name(st));
	return H_PASS;
}

/* 64 reads of 64 KiB in flight, then reset: Status reads 0 in time, and
 * after that nothing more lands in guest memory. */
static int st_reset_inflight(struct hctx *h)
{
	const unsigned n = 64;
	uint64_t t0;
	uint64_t span = h->b.capacity > 128 ? h->b.capacity - 127 : 1;
	uint16_t u1;
	uint32_t c1;
	unsigned k;

	for (k = 0; k < n; k++)
		if (blk_submit(&h->b, VIRTIO_BLK_T_IN, (k * 128) % span,
			       h->big + k * 65536u, 65536, k) < 0)
			break;
	vq_kick(&h->b.q);
	t0 = rdtsc();
	vdev_w32(&h->b.dev, VIRTIO_MMIO_STATUS, 0);
	while (vdev_status(&h->b.dev)) {
		if (rdtsc() - t0 > VIRTIO_WAIT_LONG) {
			hwhy(h, "Status never read 0 after reset");
			return H_FAIL;
		}
	}
	t0 = rdtsc() - t0;
	u1 = vq_used_idx(&h->b.q);
	c1 = cksum(h->big, 4u << 20);
	delay_ticks(VIRTIO_WAIT_SHORT);
	if (vq_used_idx(&h->b.q) != u1 || cksum(h->big, 4u << 20) != c1) {
		hwhy(h, "guest memory changed after Status read 0");
		return H_FAIL;
	}
	hwhy(h, "%u requests, %u done before Status read 0 (%llu ticks), "
	     "no writes after", k, u1, (unsigned long long)t0);
	return H_PASS;
}

static int blk_len_not_512(struct hctx *h)
{
	int r1 = blk_io(&h->b, VIRTIO_BLK_T_IN, 0, h->data, 100);
	int r2 = r1 >= BLK_NEEDS_RESET ? r1
				       : blk_io(&h->b, VIRTIO_BLK_T_OUT, 0, h->data, 1000);

	hwhy(h, "read of 100 bytes: %s, write of 1000 bytes: %s",
	     blk_status_name(r1), blk_status_name(r2));
	return r1 == VIRTIO_BLK_S_IOERR && r2 == VIRTIO_BLK_S_IOERR ? H_PASS
								      : H_FAIL;
}

/* hdr, 512-byte data, status with these properties. */
static void chain(struct hctx *h, uint16_t hdr_flags, uint16_t st_flags,
		  uint32_t st_len)
{
	h_hdr(h, VIRTIO_BLK_T_IN, 0);
	h_desc(h, 0, (uint64_t)h->hdr, HDR, (uint16_t)(hdr_flags | N), 1);
	h_desc(h, 1, (uint64_t)h->data, 512, W | N, 2);
	h_desc(h, 2, (uint64_t)h->status, st_len, st_flags, 0);
	h_post(h, 0);
}

static int blk_status_ro(struct hctx *h)
{
	chain(h, R, R, 1);
	return h_expect_reset(h);
}

static int blk_status_len0(struct hctx *h)
{
	chain(h, R, W, 0);
	return h_expect_reset(h);
}

static int blk_hdr_writeonly(struct hctx *h)
{
	chain(h, W, W, 1);
	return h_expect_status(h, VIRTIO_BLK_S_IOERR);
}

static int blk_unknown_type(struct hctx *h)
{
	int st = blk_io(&h->b, 0x12345, 0, NULL, 0);

	hwhy(h, "type 0x12345: %s", blk_status_name(st));
	return st == VIRTIO_BLK_S_UNSUPP ? H_PASS : H_FAIL;
}

static int blk_getid_short(struct hctx *h)
{
	int st = blk_io(&h->b, VIRTIO_BLK_T_GET_ID, 0, h->data, 10);

	hwhy(h, "GET_ID into 10 bytes: %s", blk_status_name(st));
	return st == VIRTIO_BLK_S_IOERR ? H_PASS : H_FAIL;
}

static int vq_torn(struct hctx *h)
{
	hwhy(h, "a torn index read is the VMM's own access; the guest cannot "
	     "cause or see it");
	return H_SKIP;
}

const struct hcase hcases_setup[] = {
	{ "vq-ring-overlap", vq_ring_overlap },
	{ "vq-ring-misaligned", vq_ring_misaligned },
	{ "vq-ring-mmio", vq_ring_mmio },
	{ "vq-rewrite-after-ready", vq_rewrite_after_ready },
	{ "vq-num-bad", vq_num_bad },
	{ "vq-sel-oob", vq_sel_oob },
	{ "st-features-after-ok", st_features_after_ok },
	{ "st-bad-features", st_bad_features },
	{ "st-clear-bits", st_clear_bits },
	{ "st-reset-inflight", st_reset_inflight },
	{ "vq-torn", vq_torn },
	{ "blk-len-not-512", blk_len_not_512 },
	{ "blk-status-ro", blk_status_ro },
	{ "blk-status-len0", blk_status_len0 },
	{ "blk-hdr-writeonly", blk_hdr_writeonly },
	{ "blk-unknown-type", blk_unknown_type },
	{ "blk-getid-short", blk_getid_short },
};
const unsigned hcases_setup_count = ARRAY_SIZE(hcases_setup);
