/*
 * Split virtqueues (Virtio 1.2 section 2.7) for the driver in virtio.h.
 *
 * Ordering: x86 keeps stores in order and loads in order, so between
 * "fill descriptors and avail entries" and "publish avail.idx" a compiler
 * barrier is enough, and so is one between "see used.idx" and "read the
 * used entry".  The one reordering x86 does, a later load passing an
 * earlier store, matters when we publish avail.idx and then read
 * avail_event / used.flags to decide whether to notify: that needs mfence
 * (the same reasoning as Linux's virtio_mb() in virtqueue_kick_prepare).
 * Ring indices are read and written as single 16-bit volatile accesses.
 */
#include <stdint.h>

#include "rt/mem.h"
#include "rt/rt.h"
#include "virtio/virtio.h"

#define PAGE 4096

static void st16(void *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}

static uint16_t ld16(const void *p)
{
	return *(const volatile uint16_t *)p;
}

int vq_alloc(struct vq *q, struct vdev *d, unsigned index)
{
	*q = (struct vq){ .dev = d, .index = index };
	/* Each ring on its own page: aligned beyond any rule, and a
	 * hostile test can point a ring register at a neighbour without
	 * touching the others. */
	q->desc = rt_alloc(PAGE, PAGE);
	q->avail = rt_alloc(PAGE, PAGE);
	q->used = rt_alloc(PAGE, PAGE);
	q->itab = rt_alloc(VQ_MAX_NUM * VQ_ITAB_MAX * sizeof(struct vring_desc),
			   PAGE);
	q->chain_len = rt_alloc(VQ_MAX_NUM * sizeof(uint16_t), 64);
	q->cookie = rt_alloc(VQ_MAX_NUM * sizeof(void *), 64);
	return q->desc && q->avail && q->used && q->itab && q->chain_len &&
		       q->cookie
		       ? 0
		       : -1;
}

/* Ring memory and indices as for a fresh queue of num entries. */
static void vq_clear(struct vq *q, unsigned num)
{
	uint64_t f = q->dev->acked;

	q->num = num;
	memset(q->desc, 0, PAGE);
	memset(q->avail, 0, PAGE);
	memset(q->used, 0, PAGE);
	memset(q->chain_len, 0, VQ_MAX_NUM * sizeof(uint16_t));
	for (unsigned i = 0; i < num; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->avail_idx = q->kicked_idx = q->last_used = 0;
	q->free_head = 0;
	q->nfree = (uint16_t)num;
	q->event_idx = !!(f & FBIT(VIRTIO_F_EVENT_IDX));
	q->indirect = !!(f & FBIT(VIRTIO_F_INDIRECT_DESC));
	q->kicks = 0;
	vq_set_irq(q, 0);
}

static void w64(const struct vdev *d, unsigned lo, uint64_t v)
{
	vdev_w32(d, lo, (uint32_t)v);
	vdev_w32(d, lo + 4, (uint32_t)(v >> 32));
}

int vq_setup(struct vq *q, unsigned num, const char **why)
{
	const struct vdev *d = q->dev;
	uint32_t max;

	if (num == 0 || num > VQ_MAX_NUM || (num & (num - 1))) {
		*why = "queue size not a power of two up to 256";
		return -1;
	}
	vq_clear(q, num);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_SEL, q->index);
	max = vdev_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max == 0) {
		*why = "QueueNumMax is 0: no such queue";
		return -1;
	}
	if (num > max) {
		*why = "queue size above QueueNumMax";
		return -1;
	}
	if (vdev_r32(d, VIRTIO_MMIO_QUEUE_READY)) {
		*why = "QueueReady already 1 before set-up";
		return -1;
	}
	vdev_w32(d, VIRTIO_MMIO_QUEUE_NUM, num);
	w64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint64_t)q->desc);
	w64(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint64_t)q->avail);
	w64(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint64_t)q->used);
	vdev_w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (vdev_r32(d, VIRTIO_MMIO_QUEUE_READY) != 1) {
		*why = "QueueReady = 1 was refused";
		return -1;
	}
	return 0;
}

int vq_add(struct vq *q, const struct vbuf *b, unsigned n, void *cookie)
{
	unsigned head = q->free_head, i, prev = head;
	int ind = q->indirect && n > 1 && n <= VQ_ITAB_MAX;

	if (n == 0 || q->nfree < (ind ? 1 : n))
		return -1;
	if (ind) {
		struct vring_desc *t = q->itab + head * VQ_ITAB_MAX;

		for (i = 0; i < n; i++)
			t[i] = (struct vring_desc){
				.addr = b[i].addr,
				.len = b[i].len,
				.flags = (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
						    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
				.next = (uint16_t)(i + 1),
			};
		q->free_head = q->desc[head].next;
		q->desc[head].addr = (uint64_t)t;
		q->desc[head].len = n * (uint32_t)sizeof(*t);
		q->desc[head].flags = VRING_DESC_F_INDIRECT;
		q->chain_len[head] = 1;
	} else {
		/* Free descriptors are linked through .next, so the chain
		 * follows the free list and its last .next is the new free
		 * head. */
		i = head;
		for (unsigned k = 0; k < n; k++) {
			q->desc[i].addr = b[k].addr;
			q->desc[i].len = b[k].len;
			q->desc[i].flags = (uint16_t)(VRING_DESC_F_NEXT |
					   (b[k].write ? VRING_DESC_F_WRITE : 0));
			prev = i;
			i = q->desc[i].next;
		}
		q->desc[prev].flags &= (uint16_t)~VRING_DESC_F_NEXT;
		q->free_head = (uint16_t)i;
		q->chain_len[head] = (uint16_t)n;
	}
	q->nfree = (uint16_t)(q->nfree - q->chain_len[head]);
	q->cookie[head] = cookie;
	q->avail->ring[q->avail_idx & (q->num - 1)] = (uint16_t)head;
	q->avail_idx++;
	return (int)head;
}

void vq_kick(struct vq *q)
{
	uint16_t old = q->kicked_idx, new = q->avail_idx;
	int need;

	barrier();
	st16(&q->avail->idx, new);
	mb();
	q->kicked_idx = new;
	if (old == new)
		return;
	if (q->event_idx) {
		uint16_t ev = *vq_avail_event(q);

		/* vring_need_event(): did the device ask to hear about an
		 * index in (old, new]? */
		need = (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		need = !(ld16(&q->used->flags) & VRING_USED_F_NO_NOTIFY);
	}
	if (need) {
		vdev_w32(q->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
		q->kicks++;
	}
}

int vq_has_used(const struct vq *q)
{
	return vq_used_idx(q) != q->last_used;
}

int vq_pop(struct vq *q, uint32_t *len, void **cookie)
{
	volatile struct vring_used_elem *e;
	uint32_t id;
	unsigned tail, n;

	if (!vq_has_used(q))
		return -1;
	barrier();
	e = &q->used->ring[q->last_used & (q->num - 1)];
	id = e->id;
	*len = e->len;
	q->last_used++;
	/* A device that returns a head we did not post (or twice) would
	 * corrupt the free list: report it instead. */
	if (id >= q->num || q->chain_len[id] == 0)
		return -2;
	n = q->chain_len[id];
	for (tail = id; --n;)
		tail = q->desc[tail].next;
	q->desc[tail].next = q->free_head;
	q->free_head = (uint16_t)id;
	q->nfree = (uint16_t)(q->nfree + q->chain_len[id]);
	q->chain_len[id] = 0;
	*cookie = q->cookie[id];
	if (q->event_idx)
		vq_set_irq(q, q->irq_mode);
	return (int)id;
}

void vq_set_irq(struct vq *q, int on)
{
	q->irq_mode = on;
	if (q->event_idx)
		/* used_event one behind what we consumed is never crossed
		 * by the device's next update: no interrupt. */
		st16(vq_used_event(q), on ? q->last_used
					 : (uint16_t)(q->last_used - 1));
	else
		st16(&q->avail->flags, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
	mb();
}

void vq_raw_post(struct vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->num - 1)] = head;
	q->avail_idx++;
}

void vq_publish_silently(struct vq *q)
{
	barrier();
	st16(&q->avail->idx, q->avail_idx);
	mb();
	q->kicked_idx = q->avail_idx;
}

void vq_raw_publish(struct vq *q, uint16_t idx)
{
	barrier();
	st16(&q->avail->idx, idx);
	mb();
	q->avail_idx = q->kicked_idx = idx;
	vdev_w32(q->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
	q->kicks++;
}
