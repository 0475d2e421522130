/*
 * Hostile cases on the descriptors and ring indices of a running queue
 * (t_hostile.h has the rules).  Chains are written straight into the
 * descriptor table; the usual shape is a read of sector 0:
 *     0: header (device-readable) -> 1: data (writable) -> 2: status
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/mem.h"
#include "t_hostile.h"

#define R	0
#define W	VRING_DESC_F_WRITE
#define N	VRING_DESC_F_NEXT
#define I	VRING_DESC_F_INDIRECT
#define HDR	((uint32_t)sizeof(struct virtio_blk_outhdr))

/* A good read chain at i0, i0+1, i0+2 with this data buffer. */
static void read_chain(struct hctx *h, unsigned i0, uint64_t data, uint32_t len)
{
	h_hdr(h, VIRTIO_BLK_T_IN, 0);
	h_desc(h, i0, (uint64_t)h->hdr, HDR, R | N, (uint16_t)(i0 + 1));
	h_desc(h, i0 + 1, data, len, W | N, (uint16_t)(i0 + 2));
	h_desc(h, i0 + 2, (uint64_t)h->status, 1, W, 0);
}

/* The same chain as a 3-entry indirect table in h->tab. */
static void read_table(struct hctx *h)
{
	h_hdr(h, VIRTIO_BLK_T_IN, 0);
	h->tab[0] = (struct vring_desc){ (uint64_t)h->hdr, HDR, R | N, 1 };
	h->tab[1] = (struct vring_desc){ (uint64_t)h->data, 512, W | N, 2 };
	h->tab[2] = (struct vring_desc){ (uint64_t)h->status, 1, W, 0 };
}

static int need_indirect(struct hctx *h)
{
	if (h->b.dev.acked & FBIT(VIRTIO_F_INDIRECT_DESC))
		return 0;
	hwhy(h, "device does not offer RING_INDIRECT_DESC");
	return -1;
}

/* Loops are built from device-readable descriptors (a write request),
 * so the only thing wrong is the loop: a read's header after its data
 * would also break the "readable before writable" rule, which a device
 * may catch first.  A device that served it anyway would overwrite
 * sector 0, which the survival check sees. */
static int vq_loop(struct hctx *h)
{
	h_hdr(h, VIRTIO_BLK_T_OUT, 0);
	h_desc(h, 0, (uint64_t)h->hdr, HDR, R | N, 1);
	h_desc(h, 1, (uint64_t)h->data, 512, R | N, 0);	/* back to 0 */
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_selfloop(struct hctx *h)
{
	h_hdr(h, VIRTIO_BLK_T_OUT, 0);
	h_desc(h, 0, (uint64_t)h->hdr, HDR, R | N, 0);
	h_post(h, 0);
	return h_expect_reset(h);
}

/* Every descriptor once, then back to the start: only a walk bounded by
 * the queue size (not a short-cycle check) ends this. */
static int vq_long_chain(struct hctx *h)
{
	unsigned num = h->b.q.num;

	h_hdr(h, VIRTIO_BLK_T_OUT, 0);
	h_desc(h, 0, (uint64_t)h->hdr, HDR, R | N, 1);
	for (unsigned i = 1; i < num; i++)
		h_desc(h, i, (uint64_t)h->data, 512, R | N, (uint16_t)((i + 1) % num));
	h_post(h, 0);
	return h_expect_reset(h);
}

static int head_oob(struct hctx *h, unsigned k)
{
	read_chain(h, 0, (uint64_t)h->data, 512);
	h_post(h, k ? 0xffff : (uint16_t)h->b.q.num);
	return h_expect_reset(h);
}

static int vq_head_oob(struct hctx *h)
{
	return h_steps(h, head_oob, 2);
}

static int next_oob(struct hctx *h, unsigned k)
{
	read_chain(h, 0, (uint64_t)h->data, 512);
	h->b.q.desc[1].next = k ? 0xffff : (uint16_t)h->b.q.num;
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_next_oob(struct hctx *h)
{
	return h_steps(h, next_oob, 2);
}

/* Notifies for queues that do not exist: ignored, and the device goes
 * on working without a reset. */
static int vq_notify_oob(struct hctx *h)
{
	static const uint32_t q[] = { 0x7fff, 0xffff, 0xffffffffu, 1, 99 };

	for (unsigned i = 0; i < ARRAY_SIZE(q); i++)
		vdev_w32(&h->b.dev, VIRTIO_MMIO_QUEUE_NOTIFY, q[i]);
	delay_ticks(VIRTIO_WAIT_SHORT);
	if (vdev_status(&h->b.dev) & VIRTIO_S_NEEDS_RESET) {
		hwhy(h, "NEEDS_RESET after notifies of absent queues");
		return H_FAIL;
	}
	if (h_read_ok(h))
		return H_FAIL;
	hwhy(h, "ignored, reads still work without a reset");
	return H_PASS;
}

/* addr + len past 2^64; the second ends exactly at 2^64 (wraps to 0). */
static int wrap(struct hctx *h, unsigned k)
{
	if (k == 0)
		read_chain(h, 0, 0xfffffffffffff000ULL, 0x2000);
	else
		read_chain(h, 0, 0xfffffffffffffe00ULL, 0x200);
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_wrap(struct hctx *h)
{
	return h_steps(h, wrap, 2);
}

/* Straddling the end of RAM, then wholly past it. */
static int past_ram(struct hctx *h, unsigned k)
{
	read_chain(h, 0, k ? h->ram_top + 0x100000 : h->ram_top - 256, 512);
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_past_ram(struct hctx *h)
{
	return h_steps(h, past_ram, 2);
}

/* A zero-length data buffer, then a zero-length header: the contract
 * names no verdict, so any answer passes; hanging does not. */
static int len0(struct hctx *h, unsigned k)
{
	read_chain(h, 0, (uint64_t)h->data, 512);
	h->b.q.desc[k].len = 0;
	h_post(h, 0);
	return h_expect_answer(h);
}

static int vq_len0(struct hctx *h)
{
	return h_steps(h, len0, 2);
}

static int vq_len_max(struct hctx *h)
{
	if ((uint64_t)h->data + 0xffffffffULL <= h->ram_top) {
		hwhy(h, "RAM reaches past data + 4 GiB; needs memory < 4G");
		return H_SKIP;
	}
	read_chain(h, 0, (uint64_t)h->data, 0xffffffffu);
	h_post(h, 0);
	return h_expect_reset(h);
}

/* 171 writable buffers of 24 MiB (the same RAM each time): 4 GiB + 8 MiB
 * in all, which is 8 MiB if summed in 32 bits.  The contract names no
 * verdict for the size itself: IOERR (past the disk's end) and
 * NEEDS_RESET (chain over 4 GiB) both pass; serving it (a device that
 * wrapped the sum reads 8 MiB) or hanging fails. */
static int vq_total_4g(struct hctx *h)
{
	const uint32_t len = 24u << 20;
	const unsigned n = 171;
	uint64_t at = (rt_heap_end() - len) & ~4095ULL;

	if (at < rt_heap_next() || at < (uint64_t)h->big + (4u << 20)) {
		hwhy(h, "needs 24 MiB of free RAM (memory >= 64M)");
		return H_SKIP;
	}
	if (h->b.capacity * BLK_SECTOR >= (4ULL << 30) + (8u << 20) ||
	    h->b.capacity < (8u << 20) / BLK_SECTOR) {
		hwhy(h, "needs a disk of 8 MiB to 4 GiB");
		return H_SKIP;
	}
	h_hdr(h, VIRTIO_BLK_T_IN, 0);
	h_desc(h, 0, (uint64_t)h->hdr, HDR, R | N, 1);
	for (unsigned i = 1; i <= n; i++)
		h_desc(h, i, at, len, W | N, (uint16_t)(i + 1));
	h_desc(h, n + 1, (uint64_t)h->status, 1, W, 0);
	h_post(h, 0);
	if (h_expect_answer(h) == H_FAIL)
		return H_FAIL;
	return vq_has_used(&h->b.q) && h_st(h) != VIRTIO_BLK_S_IOERR ? H_FAIL
								     : H_PASS;
}

/* DMA into and out of the device's own registers. */
static int mmio_dma(struct hctx *h, unsigned k)
{
	read_chain(h, 0, h->b.dev.base, 512);
	if (k) {		/* a write whose data comes from the window */
		h->hdr->type = VIRTIO_BLK_T_OUT;
		h->b.q.desc[1].flags = R | N;
	}
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_mmio_dma(struct hctx *h)
{
	return h_steps(h, mmio_dma, 2);
}

static int vq_indirect_nofeature(struct hctx *h)
{
	if (h_init(h, BLK_FEATURES_ALL & ~FBIT(VIRTIO_F_INDIRECT_DESC), 0))
		return H_FAIL;
	read_table(h);
	h_desc(h, 0, (uint64_t)h->tab, 48, I, 0);
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_indirect_nested(struct hctx *h)
{
	if (need_indirect(h))
		return H_SKIP;
	read_table(h);
	/* Entry 1 points at another table (a copy of the first). */
	h->tab[16] = h->tab[0];
	h->tab[17] = h->tab[1];
	h->tab[18] = h->tab[2];
	h->tab[1] = (struct vring_desc){ (uint64_t)&h->tab[16], 48, I, 0 };
	h_desc(h, 0, (uint64_t)h->tab, 48, I, 0);
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_indirect_next(struct hctx *h)
{
	if (need_indirect(h))
		return H_SKIP;
	read_table(h);
	h_desc(h, 0, (uint64_t)h->tab, 32, I | N, 1);	/* hdr, data */
	h_desc(h, 1, (uint64_t)h->status, 1, W, 0);
	h->tab[1].flags = W;
	h_post(h, 0);
	return h_expect_reset(h);
}

static int indirect_len(struct hctx *h, uint32_t len)
{
	if (need_indirect(h))
		return H_SKIP;
	read_table(h);
	h_desc(h, 0, (uint64_t)h->tab, len, I, 0);
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_indirect_len0(struct hctx *h)
{
	return indirect_len(h, 0);
}

static int vq_indirect_len13(struct hctx *h)
{
	return indirect_len(h, 13);
}

/* The table past RAM, then straddling its end. */
static int indirect_outside(struct hctx *h, unsigned k)
{
	if (need_indirect(h))
		return H_SKIP;
	h_desc(h, 0, k ? h->ram_top - 16 : h->ram_top + 0x1000, 48, I, 0);
	h_post(h, 0);
	return h_expect_reset(h);
}

static int vq_indirect_outside(struct hctx *h)
{
	return h_steps(h, indirect_outside, 2);
}

/* An indirect chain of queue size + 1 descriptors (queue of 16). */
static int vq_indirect_long(struct hctx *h)
{
	const unsigned num = 16;

	if (need_indirect(h))
		return H_SKIP;
	if (h_init(h, BLK_FEATURES_ALL, num))
		return H_FAIL;
	h_hdr(h, VIRTIO_BLK_T_IN, 0);
	h->tab[0] = (struct vring_desc){ (uint64_t)h->hdr, HDR, R | N, 1 };
	for (unsigned i = 1; i < num; i++)
		h->tab[i] = (struct vring_desc){ (uint64_t)h->data, 512, W | N,
						 (uint16_t)(i + 1) };
	h->tab[num] = (struct vring_desc){ (uint64_t)h->status, 1, W, 0 };
	h_desc(h, 0, (uint64_t)h->tab, (num + 1) * 16, I, 0);
	h_post(h, 0);
	return h_expect_reset(h);
}

/* avail.idx num + 1 ahead, every ring slot naming a good chain. */
static int vq_avail_jump(struct hctx *h)
{
	read_chain(h, 0, (uint64_t)h->data, 512);
	for (unsigned i = 0; i < h->b.q.num; i++)
		h->b.q.avail->ring[i] = 0;
	vq_raw_publish(&h->b.q, (uint16_t)(h->b.q.num + 1));
	return h_expect_reset(h);
}

/* One good request, then avail.idx one back (0xffff ahead). */
static int vq_avail_back(struct hctx *h)
{
	if (h_read_ok(h))
		return H_FAIL;
	vq_raw_publish(&h->b.q, (uint16_t)(h->b.q.avail_idx - 1));
	return h_expect_reset(h);
}

/* The same head twice in one publish.  NEEDS_RESET is the verdict while
 * the first is in flight; a device that finished it before looking at
 * the second may serve both. */
static int vq_head_twice(struct hctx *h)
{
	uint64_t t0 = rdtsc();

	read_chain(h, 0, (uint64_t)h->data, 65536);
	vq_raw_post(&h->b.q, 0);
	h_post(h, 0);
	while (rdtsc() - t0 < VIRTIO_WAIT_LONG) {
		if (vdev_status(&h->b.dev) & VIRTIO_S_NEEDS_RESET) {
			hwhy(h, "NEEDS_RESET after %u used entries",
			     vq_used_idx(&h->b.q));
			return H_PASS;
		}
		if (vq_used_idx(&h->b.q) == 2) {
			hwhy(h, "served both in turn (first done before the "
			     "second was seen), status %s", blk_status_name(h_st(h)));
			return h_st(h) == VIRTIO_BLK_S_OK ? H_PASS : H_FAIL;
		}
		cpu_pause();
	}
	hwhy(h, "no NEEDS_RESET, %u used entries", vq_used_idx(&h->b.q));
	return H_FAIL;
}

const struct hcase hcases_vq[] = {
	{ "vq-loop", vq_loop },
	{ "vq-selfloop", vq_selfloop },
	{ "vq-long-chain", vq_long_chain },
	{ "vq-head-oob", vq_head_oob },
	{ "vq-next-oob", vq_next_oob },
	{ "vq-notify-oob", vq_notify_oob },
	{ "vq-wrap", vq_wrap },
	{ "vq-past-ram", vq_past_ram },
	{ "vq-len0", vq_len0 },
	{ "vq-len-max", vq_len_max },
	{ "vq-total-4g", vq_total_4g },
	{ "vq-mmio-dma", vq_mmio_dma },
	{ "vq-indirect-nofeature", vq_indirect_nofeature },
	{ "vq-indirect-nested", vq_indirect_nested },
	{ "vq-indirect-next", vq_indirect_next },
	{ "vq-indirect-len0", vq_indirect_len0 },
	{ "vq-indirect-len13", vq_indirect_len13 },
	{ "vq-indirect-outside", vq_indirect_outside },
	{ "vq-indirect-long", vq_indirect_long },
	{ "vq-avail-jump", vq_avail_jump },
	{ "vq-avail-back", vq_avail_back },
	{ "vq-head-twice", vq_head_twice },
};
const unsigned hcases_vq_count = ARRAY_SIZE(hcases_vq);
