/*
 * The virtio console driver of the vcon tests (t_vcon.c), for other tests
 * whose output goes through the transmitq (t_snapio.c).
 */
#ifndef PICOTEST_T_VCON_H
#define PICOTEST_T_VCON_H

#include <stddef.h>

#include "rt/rt.h"

/* Finds virtio-console 0, sets both queues up, posts the receive
 * buffers.  0, or -1 after printing "TEST: no usable virtio-console
 * device: WHY" on COM1. */
int vcon_open(const struct bootinfo *bi, const char *test);
/* Queues n bytes on the transmitq (waiting for free buffers) and kicks. */
void vcon_write(const void *p, size_t n);
void vcon_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Takes back finished transmit buffers; with all, waits for every one. */
void tx_reap(int all);

#endif
