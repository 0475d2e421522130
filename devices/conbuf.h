/*
 * A guest console's buffers, shared by the 8250 UART (devices/serial.c)
 * and virtio-console (virtio/console.c): bounded output and input rings,
 * the count of output bytes dropped while full, and the host side's wake
 * eventfd.  conbuf_chardev() is the chardev (devices/chardev.h) the host
 * side (devices/console.c) drives; the device reacts through hooks.
 *
 * Locking: the owner's lock (given to conbuf_init) guards everything here;
 * the device holds it when it touches the rings, the chardev functions
 * take it, and hooks run with it held.
 */
#ifndef PICOVM_DEVICES_CONBUF_H
#define PICOVM_DEVICES_CONBUF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chardev.h"
#include "ring.h"

#define CONBUF_OUT_SIZE 65536
#define CONBUF_IN_SIZE 4096

struct conbuf_hooks {
	/* All optional, called with the lock held. */
	/* The host side took output; space_before: the room before. */
	void (*out_consumed)(void *owner, size_t space_before);
	/* Whether the device takes input now (no input space otherwise). */
	bool (*in_open)(const void *owner);
	/* The host side pushed n bytes of input (n may be 0). */
	void (*in_pushed)(void *owner, size_t n);
};

struct conbuf {
	pthread_mutex_t *lock;
	const struct conbuf_hooks *hooks;
	void *owner;
	struct ring out, in;
	uint64_t dropped;	/* output bytes the guest wrote while full */
	int wake_fd;		/* the host side's; -1: none */
	uint8_t out_buf[CONBUF_OUT_SIZE], in_buf[CONBUF_IN_SIZE];
};

void conbuf_init(struct conbuf *b, pthread_mutex_t *lock,
		 const struct conbuf_hooks *hooks, void *owner);
/* Wakes the host side (lock held): output appeared or input room freed. */
void conbuf_wake(struct conbuf *b);
struct chardev conbuf_chardev(struct conbuf *b);

#endif
