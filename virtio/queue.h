/*
 * Split virtqueues, device side.
 *
 * This is code a hostile guest talks to.  The rules (style.md, habits 1-3):
 *  - every ring index is a 16-bit atomic load, read once into a local;
 *  - every descriptor is copied into a local before it is looked at;
 *  - every guest address goes through gmem_ptr() with its length;
 *  - every walk is bounded (a chain visits at most queue-size descriptors,
 *    an indirect table at most VQ_MAX_SEGS).
 * A violation never crashes or hangs picovm: vq_pop() reports it and the
 * transport marks the device DEVICE_NEEDS_RESET.
 */
#ifndef PICOVM_VIRTIO_QUEUE_H
#define PICOVM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../vm/memory.h"

#define VQ_MAX_SIZE 256
#define VQ_MAX_SEGS 256
/* A chain may describe at most this many bytes (used.len is 32 bits). */
#define VQ_MAX_CHAIN_BYTES 0xffffffffULL

struct vq {
	const struct guest_mem *mem;
	/* Set by the driver through the transport while not ready. */
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;
	/* Valid while ready: host views of the rings (checked at enable). */
	uint8_t *desc, *avail, *used;
	bool event_idx, indirect;	/* negotiated */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* what we last published */
	uint16_t notified_used;		/* used_idx at the last interrupt */
	uint64_t inflight[VQ_MAX_SIZE / 64];	/* heads taken, not yet used */
	unsigned ninflight;
};

/* One chain, gathered: readable segments first, then writable ones. */
struct vq_chain {
	uint16_t head;
	unsigned nout, nin;		/* readable, writable segment counts */
	uint64_t out_len, in_len;	/* their byte totals */
	struct iovec iov[VQ_MAX_SEGS];	/* nout readable, then nin writable */
};

/* Checks the ring layout (power-of-two size <= max, alignment, all in RAM,
 * no overlap) and enables the queue.  Returns 0, or -1 with why set. */
int vq_enable(struct vq *q, const struct guest_mem *m, uint16_t max,
	      bool event_idx, bool indirect, const char **why);
void vq_reset(struct vq *q);

/* Takes the next available chain.  Returns 1 with *c filled, 0 when the
 * ring is empty, -1 when the guest broke the ring (why says how). */
int vq_pop(struct vq *q, struct vq_chain *c, const char **why);
/* Gives back the chain vq_pop() returned last, unused (only valid while
 * no chain popped after it is still outstanding... in pop order). */
void vq_unpop(struct vq *q, uint16_t head);
/* Returns a chain to the driver with len bytes written into it. */
void vq_push(struct vq *q, uint16_t head, uint32_t len);
/* After one or more vq_push(): does the driver want an interrupt now?
 * (EVENT_IDX's used_event, or the NO_INTERRUPT flag.) */
bool vq_should_notify(struct vq *q);
/* Before going idle: ask for a kick when the driver adds more buffers.
 * Returns true when buffers arrived meanwhile (pop again). */
bool vq_enable_kicks(struct vq *q);
/* With EVENT_IDX, after vq_enable_kicks() found nothing: ask for the kick
 * only once the driver has made n (>= 1) more buffers available instead.
 * Returns how many it has made available already (a guest's figure: it
 * may exceed the queue size; vq_pop() judges it). */
uint16_t vq_kick_after(struct vq *q, uint16_t n);
/* How far the driver's avail index is ahead of the device (a guest's
 * figure, as above). */
uint16_t vq_avail_ahead(const struct vq *q);
/* With EVENT_IDX (q->event_idx): ask for a kick only once the driver
 * has added n more buffers than it has now (avail_event n - 1 past its
 * avail index).  Returns true when it added them meanwhile (pop again).
 * Without EVENT_IDX it does nothing and returns false. */
bool vq_enable_kicks_after(struct vq *q, uint16_t n);

/* iovec helpers */
/* Copies up to len bytes starting skip bytes into iov[0..n) to dst. */
uint64_t iov_copy_from(const struct iovec *iov, unsigned n, uint64_t skip,
		       void *dst, uint64_t len);
uint64_t iov_copy_to(const struct iovec *iov, unsigned n, uint64_t skip,
		     const void *src, uint64_t len);
/* Writes into dst the sub-vector of iov[0..n) that starts skip bytes in
 * and is len bytes long; returns its segment count. */
unsigned iov_slice(const struct iovec *iov, unsigned n, uint64_t skip,
		   uint64_t len, struct iovec *dst);

#endif
