/*
 * The virtio-blk driver of blk.h.
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/mem.h"
#include "rt/rt.h"
#include "virtio/blk.h"

/* How often blk_wait looks at Status while polling the used ring (in
 * ticks): each look is an MMIO exit, the used ring is free to read. */
#define STATUS_PERIOD 2000000ULL

int blk_open(struct blk *b, const struct bootinfo *bi, unsigned index,
	     const char **why)
{
	size_t pos = 0, vlen;
	const char *v;
	uint64_t n;

	*b = (struct blk){ .want = BLK_FEATURES_ALL };
	if (vdev_find(&b->dev, bi, VIRTIO_ID_BLOCK, index, why))
		return -1;
	if (cmdline_find(bi, "picotest.no-indirect", &pos, &vlen))
		b->want &= ~FBIT(VIRTIO_F_INDIRECT_DESC);
	pos = 0;
	if (cmdline_find(bi, "picotest.no-event-idx", &pos, &vlen))
		b->want &= ~FBIT(VIRTIO_F_EVENT_IDX);
	pos = 0;
	if ((v = cmdline_find(bi, "picotest.qsize=", &pos, &vlen)) &&
	    parse_u64(v, vlen, &n) == 0 && n <= VQ_MAX_NUM)
		b->qsize = (unsigned)n;
	b->slots = rt_alloc(VQ_MAX_NUM * sizeof(*b->slots), 64);
	if (!b->slots || vq_alloc(&b->q, &b->dev, 0)) {
		*why = "out of memory";
		return -1;
	}
	return blk_init(b, why);
}

int blk_init(struct blk *b, const char **why)
{
	struct vdev *d = &b->dev;
	unsigned num = b->qsize;

	if (vdev_negotiate(d, b->want, why))
		return -1;
	b->capacity = vdev_cfg64(d, BLK_CFG_CAPACITY);
	b->ro = !!(d->offered & FBIT(VIRTIO_BLK_F_RO));
	b->seg_max = d->acked & FBIT(VIRTIO_BLK_F_SEG_MAX)
			     ? vdev_cfg32(d, BLK_CFG_SEG_MAX) : 0;
	b->blk_size = d->acked & FBIT(VIRTIO_BLK_F_BLK_SIZE)
			      ? vdev_cfg32(d, BLK_CFG_BLK_SIZE) : 0;
	b->max_discard_sectors = d->acked & FBIT(VIRTIO_BLK_F_DISCARD)
		? vdev_cfg32(d, BLK_CFG_MAX_DISCARD_SECTORS) : 0;
	b->max_wz_sectors = d->acked & FBIT(VIRTIO_BLK_F_WRITE_ZEROES)
		? vdev_cfg32(d, BLK_CFG_MAX_WZ_SECTORS) : 0;
	if (num == 0) {
		vdev_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
		num = vdev_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
		if (num > VQ_MAX_NUM)
			num = VQ_MAX_NUM;
		while (num & (num - 1))	/* round down to a power of two */
			num &= num - 1;
	}
	if (vq_setup(&b->q, num, why))
		return -1;
	memset(b->slots, 0, VQ_MAX_NUM * sizeof(*b->slots));
	b->next_slot = b->inflight = 0;
	vdev_driver_ok(d);
	if (vdev_status(d) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED)) {
		*why = "device failed at DRIVER_OK";
		return -1;
	}
	return 0;
}

int blk_submit_rep(struct blk *b, uint32_t type, uint64_t sector, void *buf,
		   uint32_t len, unsigned nseg, uint64_t tag)
{
	struct vbuf v[2 + BLK_REP_MAX];
	struct blk_slot *s = NULL;
	unsigned n = 0, i;
	int dev_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

	if (nseg > BLK_REP_MAX)
		return -1;
	for (i = 0; i < b->q.num; i++) {
		unsigned k = (b->next_slot + i) % b->q.num;

		if (!b->slots[k].busy) {
			s = &b->slots[k];
			b->next_slot = k + 1;
			break;
		}
	}
	if (!s)
		return -1;
	s->hdr = (struct virtio_blk_outhdr){ .type = type, .sector = sector };
	s->status = 0xff;	/* a device that never writes it shows */
	s->tag = tag;
	v[n++] = (struct vbuf){ (uint64_t)&s->hdr, sizeof(s->hdr), 0 };
	for (i = 0; len && i < nseg; i++)
		v[n++] = (struct vbuf){ (uint64_t)buf, len, dev_writes };
	v[n++] = (struct vbuf){ (uint64_t)&s->status, 1, 1 };
	if (vq_add(&b->q, v, n, s) < 0)
		return -1;
	s->busy = 1;
	b->inflight++;
	return (int)(s - b->slots);
}

int blk_submit(struct blk *b, uint32_t type, uint64_t sector, void *buf,
	       uint32_t len, uint64_t tag)
{
	return blk_submit_rep(b, type, sector, buf, len, 1, tag);
}

int blk_poll(struct blk *b, uint64_t *tag, int *status)
{
	struct blk_slot *s;
	void *cookie;
	uint32_t len;
	int h = vq_pop(&b->q, &len, &cookie);

	if (h == -1)
		return 0;
	if (h < 0)
		return -1;
	s = cookie;
	barrier();
	s->busy = 0;
	s->used_len = len;
	b->inflight--;
	*tag = s->tag;
	*status = *(volatile uint8_t *)&s->status;
	return 1;
}

int blk_wait(struct blk *b, uint64_t timeout, uint64_t *tag)
{
	uint64_t t0 = rdtsc(), last = t0, now;
	int st;

	for (;;) {
		int r = blk_poll(b, tag, &st);

		if (r > 0)
			return st;
		if (r < 0)
			return BLK_BAD_USED;
		now = rdtsc();
		if (now - last > STATUS_PERIOD) {
			last = now;
			if (vdev_status(&b->dev) & VIRTIO_S_NEEDS_RESET)
				return BLK_NEEDS_RESET;
		}
		if (now - t0 > timeout)
			return BLK_TIMEOUT;
		cpu_pause();
	}
}

int blk_io(struct blk *b, uint32_t type, uint64_t sector, void *buf,
	   uint32_t len)
{
	uint64_t tag;

	if (blk_submit(b, type, sector, buf, len, 0) < 0)
		return BLK_FULL;
	vq_kick(&b->q);
	return blk_wait(b, VIRTIO_WAIT_LONG, &tag);
}

int blk_dwz(struct blk *b, uint32_t type, uint64_t sector, uint64_t count)
{
	uint32_t max = type == VIRTIO_BLK_T_DISCARD ? b->max_discard_sectors
						    : b->max_wz_sectors;

	if (max == 0)
		max = 1u << 22;	/* 2 GiB per request when there is no limit */
	while (count) {
		uint32_t n = count < max ? (uint32_t)count : max;
		struct virtio_blk_dwz seg = { .sector = sector, .num_sectors = n };
		int st = blk_io(b, type, sector, &seg, sizeof(seg));

		if (st != VIRTIO_BLK_S_OK)
			return st;
		sector += n;
		count -= n;
	}
	return VIRTIO_BLK_S_OK;
}

const char *blk_status_name(int status)
{
	static char buf[16];

	switch (status) {
	case VIRTIO_BLK_S_OK: return "ok";
	case VIRTIO_BLK_S_IOERR: return "ioerr";
	case VIRTIO_BLK_S_UNSUPP: return "unsupp";
	case BLK_NEEDS_RESET: return "needs-reset";
	case BLK_TIMEOUT: return "timeout";
	case BLK_BAD_USED: return "bad-used";
	case BLK_FULL: return "ring-full";
	default:
		rt_snprintf(buf, sizeof(buf), "status=%d", status);
		return buf;
	}
}
