/*
 * virtio-blk on io_uring.  blk_open() does everything that can fail
 * because of the user's input (open, size, lock, overlay) before any VM
 * exists; blk_attach() makes it a device of a VM.
 */
#ifndef PICOVM_VIRTIO_BLK_H
#define PICOVM_VIRTIO_BLK_H

#include "../config/config.h"

struct machine;
struct blk;

/* Returns NULL after printing "picovm: FILE: disk.N.path: why". */
struct blk *blk_open(const struct config *c, unsigned n);
int blk_attach(struct blk *b, struct machine *m, unsigned index);
void blk_arm(struct blk *b);
unsigned blk_inflight(struct blk *b);
/* Flushes (writeback disks) and closes. */
void blk_close(struct blk *b);

#endif
