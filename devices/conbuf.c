/* A guest console's buffers and their chardev; see conbuf.h. */
#include "conbuf.h"

#include <unistd.h>

void conbuf_init(struct conbuf *b, pthread_mutex_t *lock,
		 const struct conbuf_hooks *hooks, void *owner)
{
	b->lock = lock;
	b->hooks = hooks;
	b->owner = owner;
	b->out = (struct ring){ .buf = b->out_buf, .size = CONBUF_OUT_SIZE };
	b->in = (struct ring){ .buf = b->in_buf, .size = CONBUF_IN_SIZE };
	b->dropped = 0;
	b->wake_fd = -1;
}

void conbuf_wake(struct conbuf *b)
{
	uint64_t one = 1;

	if (b->wake_fd >= 0 && write(b->wake_fd, &one, sizeof(one)) < 0)
		return;	/* counter saturated: the reader is awake anyway */
}

static size_t cb_peek_output(void *opaque, uint8_t *buf, size_t max)
{
	struct conbuf *b = opaque;

	pthread_mutex_lock(b->lock);
	size_t n = ring_peek(&b->out, buf, max);
	pthread_mutex_unlock(b->lock);
	return n;
}

static void cb_consume_output(void *opaque, size_t n)
{
	struct conbuf *b = opaque;

	pthread_mutex_lock(b->lock);
	size_t before = ring_space(&b->out);
	ring_pop(&b->out, NULL, n);
	if (b->hooks->out_consumed)
		b->hooks->out_consumed(b->owner, before);
	pthread_mutex_unlock(b->lock);
}

static size_t cb_input_space(void *opaque)
{
	struct conbuf *b = opaque;

	pthread_mutex_lock(b->lock);
	size_t n = !b->hooks->in_open || b->hooks->in_open(b->owner) ?
		   ring_space(&b->in) : 0;
	pthread_mutex_unlock(b->lock);
	return n;
}

static size_t cb_push_input(void *opaque, const uint8_t *buf, size_t n)
{
	struct conbuf *b = opaque;

	pthread_mutex_lock(b->lock);
	n = ring_push(&b->in, buf, n);
	if (b->hooks->in_pushed)
		b->hooks->in_pushed(b->owner, n);
	pthread_mutex_unlock(b->lock);
	return n;
}

static uint64_t cb_dropped(void *opaque)
{
	struct conbuf *b = opaque;

	pthread_mutex_lock(b->lock);
	uint64_t n = b->dropped;
	pthread_mutex_unlock(b->lock);
	return n;
}

static void cb_set_wake_fd(void *opaque, int fd)
{
	struct conbuf *b = opaque;

	pthread_mutex_lock(b->lock);
	b->wake_fd = fd;
	pthread_mutex_unlock(b->lock);
}

struct chardev conbuf_chardev(struct conbuf *b)
{
	return (struct chardev){
		.opaque = b,
		.peek_output = cb_peek_output,
		.consume_output = cb_consume_output,
		.input_space = cb_input_space,
		.push_input = cb_push_input,
		.dropped = cb_dropped,
		.set_wake_fd = cb_set_wake_fd,
	};
}
