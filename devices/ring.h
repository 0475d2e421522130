/*
 * A bounded byte FIFO over a caller-owned array: the console buffers of
 * the UART and of virtio-console.  Not thread-safe: the owner locks.
 */
#ifndef PICOVM_DEVICES_RING_H
#define PICOVM_DEVICES_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
	uint8_t *buf;
	size_t size, head, len;
};

static inline size_t ring_space(const struct ring *r)
{
	return r->size - r->len;
}

/* Appends up to n bytes; returns how many fitted. */
size_t ring_push(struct ring *r, const uint8_t *src, size_t n);
/* Copies up to max bytes from the front without removing them. */
size_t ring_peek(const struct ring *r, uint8_t *dst, size_t max);
/* Removes up to n bytes from the front (copied to dst unless NULL). */
size_t ring_pop(struct ring *r, uint8_t *dst, size_t n);
/* The contiguous free space at the tail (for filling in place), and the
 * commit of k bytes written there. */
uint8_t *ring_tail(const struct ring *r, size_t *room);
void ring_commit(struct ring *r, size_t k);
/* The contiguous data at the front (for copying out in place); consume it
 * with ring_pop(r, NULL, k). */
const uint8_t *ring_front(const struct ring *r, size_t *len);

#endif
