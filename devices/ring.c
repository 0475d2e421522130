/* Bounded byte FIFO; see ring.h. */
#include "ring.h"

#include <string.h>

size_t ring_push(struct ring *r, const uint8_t *src, size_t n)
{
	size_t done = 0;

	while (done < n && r->len < r->size) {
		size_t room;
		uint8_t *t = ring_tail(r, &room);
		size_t k = n - done < room ? n - done : room;
		memcpy(t, src + done, k);
		ring_commit(r, k);
		done += k;
	}
	return done;
}

size_t ring_peek(const struct ring *r, uint8_t *dst, size_t max)
{
	size_t n = r->len < max ? r->len : max;
	size_t first = r->size - r->head;

	if (first > n)
		first = n;
	memcpy(dst, r->buf + r->head, first);
	memcpy(dst + first, r->buf, n - first);
	return n;
}

size_t ring_pop(struct ring *r, uint8_t *dst, size_t n)
{
	if (n > r->len)
		n = r->len;
	if (dst)
		ring_peek(r, dst, n);
	r->head = (r->head + n) % r->size;
	r->len -= n;
	return n;
}

uint8_t *ring_tail(const struct ring *r, size_t *room)
{
	size_t tail = (r->head + r->len) % r->size;

	*room = r->size - r->len;
	if (*room > r->size - tail)
		*room = r->size - tail;
	return r->buf + tail;
}

void ring_commit(struct ring *r, size_t k)
{
	r->len += k;
}

const uint8_t *ring_front(const struct ring *r, size_t *len)
{
	*len = r->len;
	if (*len > r->size - r->head)
		*len = r->size - r->head;
	return r->buf + r->head;
}
