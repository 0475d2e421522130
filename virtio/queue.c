/* Split virtqueue, device side; see queue.h for the rules it keeps. */
#include "queue.h"

#include <stddef.h>
#include <string.h>

#include "virtio.h"

/* Ring layout (virtio 1.2, 2.7; <linux/virtio_ring.h>): avail = flags,
 * idx, ring[num], used_event; used = flags, idx, ring[num] of
 * struct vring_used_elem, avail_event.  Guest memory is read through
 * these offsets, never through a guest-aligned struct pointer. */
#define DESC_SIZE sizeof(struct vring_desc)
#define AVAIL_FLAGS offsetof(struct vring_avail, flags)
#define AVAIL_IDX offsetof(struct vring_avail, idx)
#define AVAIL_RING offsetof(struct vring_avail, ring)
#define USED_IDX offsetof(struct vring_used, idx)
#define USED_RING offsetof(struct vring_used, ring)
#define USED_ELEM sizeof(struct vring_used_elem)
/* used_event follows avail's ring, avail_event used's. */
static uint64_t avail_size(uint16_t num) { return AVAIL_RING + 2ULL * num + 2; }
static uint64_t used_size(uint16_t num) { return USED_RING + USED_ELEM * num + 2; }

static uint16_t load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELEASE);
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vq_enable(struct vq *q, const struct guest_mem *m, uint16_t max,
	      bool event_idx, bool indirect, const char **why)
{
	uint16_t n = q->num;
	uint64_t dlen = (uint64_t)DESC_SIZE * n;

	if (n == 0 || n > max || (n & (n - 1))) {
		*why = "queue size is 0, not a power of two, or above QueueNumMax";
		return -1;
	}
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3)) {
		*why = "misaligned ring";
		return -1;
	}
	q->desc = gmem_ptr(m, q->desc_gpa, dlen);
	q->avail = gmem_ptr(m, q->avail_gpa, avail_size(n));
	q->used = gmem_ptr(m, q->used_gpa, used_size(n));
	if (!q->desc || !q->avail || !q->used) {
		*why = "ring outside guest RAM";
		return -1;
	}
	if (overlap(q->desc_gpa, dlen, q->avail_gpa, avail_size(n)) ||
	    overlap(q->desc_gpa, dlen, q->used_gpa, used_size(n)) ||
	    overlap(q->avail_gpa, avail_size(n), q->used_gpa, used_size(n))) {
		*why = "rings overlap";
		return -1;
	}
	q->mem = m;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->last_avail = q->used_idx = q->notified_used = 0;
	memset(q->inflight, 0, sizeof(q->inflight));
	q->ninflight = 0;
	q->ready = true;
	return 0;
}

void vq_reset(struct vq *q)
{
	memset(q, 0, sizeof(*q));
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Copies descriptor i of a table into a local: read once, then checked. */
static struct desc desc_read(const uint8_t *table, uint32_t i)
{
	struct desc d;

	struct vring_desc v;

	memcpy(&v, table + (uint64_t)i * DESC_SIZE, sizeof(v));
	d.addr = v.addr;
	d.len = v.len;
	d.flags = v.flags;
	d.next = v.next;
	return d;
}

/* Adds one buffer to the chain; -1 when it is not entirely guest RAM,
 * readable follows writable, or the chain grows too long or too big. */
static int chain_add(const struct vq *q, struct vq_chain *c,
		     const struct desc *d, const char **why)
{
	bool w = d->flags & VRING_DESC_F_WRITE;
	void *p = gmem_ptr(q->mem, d->addr, d->len);

	if (!p) {
		*why = "buffer not entirely in guest RAM";
		return -1;
	}
	if (!w && c->nin) {
		*why = "device-readable buffer after a writable one";
		return -1;
	}
	if (d->len == 0)
		return 0;	/* nothing to transfer; harmless */
	if (c->nout + c->nin == VQ_MAX_SEGS) {
		*why = "descriptor chain too long";
		return -1;
	}
	uint64_t *total = w ? &c->in_len : &c->out_len;
	*total += d->len;
	if (c->in_len + c->out_len > VQ_MAX_CHAIN_BYTES) {
		*why = "descriptor chain larger than 4 GiB";
		return -1;
	}
	c->iov[c->nout + c->nin] = (struct iovec){ p, d->len };
	if (w)
		c->nin++;
	else
		c->nout++;
	return 0;
}

/* The last descriptor of a chain carries the device's answer (a status
 * byte, a frame's end): an empty one means the driver lost track. */
static int chain_end(const struct desc *d, const char **why)
{
	if (d->len == 0) {
		*why = "zero-length final descriptor";
		return -1;
	}
	return 0;
}

/* An INDIRECT descriptor: checks it and returns its table's entry count,
 * or 0 with why set (virtio 1.2, 2.7.5.3.1). */
static uint32_t indirect_table(const struct vq *q, const struct desc *d,
			       bool nested, const uint8_t **table,
			       const char **why)
{
	if (!q->indirect) {
		*why = "indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC";
		return 0;
	}
	if (nested) {
		*why = "nested indirect descriptor";
		return 0;
	}
	if (d->flags & VRING_DESC_F_NEXT) {
		*why = "descriptor has both INDIRECT and NEXT";
		return 0;
	}
	/* A chain, indirect tables included, is never longer than the
	 * queue. */
	if (d->len == 0 || d->len % DESC_SIZE ||
	    d->len / DESC_SIZE > q->num || d->len / DESC_SIZE > VQ_MAX_SEGS) {
		*why = "indirect table length 0, not a multiple of 16, or longer "
		       "than the queue";
		return 0;
	}
	*table = gmem_ptr(q->mem, d->addr, d->len);
	if (!*table) {
		*why = "indirect table outside guest RAM";
		return 0;
	}
	return d->len / DESC_SIZE;
}

/* Gathers the chain that starts at descriptor head.  One walk for the
 * ring's table and an indirect one: an INDIRECT descriptor swaps the
 * table and its bound, and the walk goes on from the new table's entry 0.
 * Each table is visited at most its size times, so loops end. */
static int chain_walk(const struct vq *q, struct vq_chain *c, uint16_t head,
		      const char **why)
{
	const uint8_t *table = q->desc;
	uint32_t n = q->num, i = head, seen = 0;
	bool indirect = false;

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		if (seen++ == n) {
			*why = indirect ? "loop in an indirect table" :
				"descriptor chain loops or exceeds the queue size";
			return -1;
		}
		struct desc d = desc_read(table, i);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			n = indirect_table(q, &d, indirect, &table, why);
			if (n == 0)
				return -1;
			indirect = true;
			i = seen = 0;
			continue;
		}
		if (chain_add(q, c, &d, why) < 0)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return chain_end(&d, why);
		if (d.next >= n) {
			*why = indirect ? "indirect next index out of range" :
				"next index out of range";
			return -1;
		}
		i = d.next;
	}
}

int vq_pop(struct vq *q, struct vq_chain *c, const char **why)
{
	uint16_t avail_idx = load16(q->avail + AVAIL_IDX);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);

	if (pending == 0)
		return 0;
	if (pending > q->num) {
		*why = "avail index moved more than the queue size";
		return -1;
	}
	uint16_t head = load16(q->avail + AVAIL_RING + 2 * (q->last_avail % q->num));
	if (head >= q->num) {
		*why = "head index out of range";
		return -1;
	}
	if (q->inflight[head / 64] & (1ULL << (head % 64))) {
		*why = "head posted twice";
		return -1;
	}
	if (chain_walk(q, c, head, why) < 0)
		return -1;
	q->last_avail++;
	q->inflight[head / 64] |= 1ULL << (head % 64);
	q->ninflight++;
	return 1;
}

void vq_unpop(struct vq *q, uint16_t head)
{
	q->last_avail--;
	if (q->inflight[head / 64] & (1ULL << (head % 64))) {
		q->inflight[head / 64] &= ~(1ULL << (head % 64));
		q->ninflight--;
	}
}

void vq_push(struct vq *q, uint16_t head, uint32_t len)
{
	uint8_t *e = q->used + USED_RING + USED_ELEM * (q->used_idx % q->num);
	struct vring_used_elem u = { .id = head, .len = len };

	memcpy(e, &u, sizeof(u));
	q->used_idx++;
	/* The element must be visible before the index that publishes it. */
	store16(q->used + USED_IDX, q->used_idx);
	if (q->inflight[head / 64] & (1ULL << (head % 64))) {
		q->inflight[head / 64] &= ~(1ULL << (head % 64));
		q->ninflight--;
	}
}

bool vq_should_notify(struct vq *q)
{
	uint16_t old = q->notified_used, now = q->used_idx;

	/* The used index store must be visible before we read the driver's
	 * suppression state, or an interrupt could be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (old == now)
		return false;
	q->notified_used = now;
	if (!q->event_idx)
		return !(load16(q->avail + AVAIL_FLAGS) & VRING_AVAIL_F_NO_INTERRUPT);
	uint16_t used_event = load16(q->avail + AVAIL_RING + 2 * (uint64_t)q->num);
	return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

/* EVENT_IDX: the driver kicks once its avail index passes idx (the
 * avail_event field after the used ring), then a full fence so that the
 * caller's next read of the avail index sees what came before the store. */
static void kick_at(struct vq *q, uint16_t idx)
{
	store16(q->used + USED_RING + USED_ELEM * q->num, idx);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool vq_enable_kicks(struct vq *q)
{
	if (q->event_idx)
		kick_at(q, q->last_avail);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(q->avail + AVAIL_IDX) != q->last_avail;
}

uint16_t vq_avail_ahead(const struct vq *q)
{
	return (uint16_t)(load16(q->avail + AVAIL_IDX) - q->last_avail);
}

uint16_t vq_kick_after(struct vq *q, uint16_t n)
{
	kick_at(q, (uint16_t)(q->last_avail + n - 1));
	return vq_avail_ahead(q);
}

bool vq_enable_kicks_after(struct vq *q, uint16_t n)
{
	if (!q->event_idx || n == 0)
		return false;
	uint16_t now = load16(q->avail + AVAIL_IDX);
	kick_at(q, (uint16_t)(now + n - 1));
	return (uint16_t)(load16(q->avail + AVAIL_IDX) - now) >= n;
}

/* Copies between buf and the bytes of iov[0..n) from skip on; to_iov
 * says which way.  Returns the bytes copied (at most len). */
static uint64_t iov_copy(const struct iovec *iov, unsigned n, uint64_t skip,
			 uint8_t *buf, uint64_t len, bool to_iov)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint64_t k = iov[i].iov_len - skip;
		if (k > len - done)
			k = len - done;
		uint8_t *seg = (uint8_t *)iov[i].iov_base + skip;
		if (to_iov)
			memcpy(seg, buf + done, k);
		else
			memcpy(buf + done, seg, k);
		done += k;
		skip = 0;
	}
	return done;
}

uint64_t iov_copy_from(const struct iovec *iov, unsigned n, uint64_t skip,
		       void *dst, uint64_t len)
{
	return iov_copy(iov, n, skip, dst, len, false);
}

uint64_t iov_copy_to(const struct iovec *iov, unsigned n, uint64_t skip,
		     const void *src, uint64_t len)
{
	/* buf is only read when to_iov is true. */
	return iov_copy(iov, n, skip, (uint8_t *)(uintptr_t)src, len, true);
}

unsigned iov_slice(const struct iovec *iov, unsigned n, uint64_t skip,
		   uint64_t len, struct iovec *dst)
{
	unsigned o = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint64_t k = iov[i].iov_len - skip;
		if (k > len)
			k = len;
		dst[o++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, k };
		len -= k;
		skip = 0;
	}
	return o;
}
