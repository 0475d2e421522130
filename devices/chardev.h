/*
 * What the host side of a console (devices/console.c) needs from a guest
 * character device: the 8250 UART and virtio-console both provide it.
 * All functions are thread-safe; they are called from the console thread.
 */
#ifndef PICOVM_DEVICES_CHARDEV_H
#define PICOVM_DEVICES_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct chardev {
	void *opaque;
	/* Copies up to max pending output bytes without consuming them. */
	size_t (*peek_output)(void *opaque, uint8_t *buf, size_t max);
	void (*consume_output)(void *opaque, size_t n);
	size_t (*input_space)(void *opaque);
	size_t (*push_input)(void *opaque, const uint8_t *buf, size_t n);
	/* Output bytes the guest wrote while the buffer was full. */
	uint64_t (*dropped)(void *opaque);
	/* The device signals this eventfd when output appears or input
	 * space frees up (-1: stop signalling). */
	void (*set_wake_fd)(void *opaque, int fd);
};

#endif
