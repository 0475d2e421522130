/*
 * virtio-blk on io_uring.  Its open does everything that can fail because
 * of the user's input (open, size, lock, overlay) before any VM exists,
 * printing "picovm: FILE: disk.N.path: why"; attach makes it a device of
 * a VM (virtio/vdev.h).  Close flushes (writeback disks).
 */
#ifndef PICOVM_VIRTIO_BLK_H
#define PICOVM_VIRTIO_BLK_H

#include "vdev.h"

/* A disk's chunks in flight at most (blk.c: each one SQE of the I/O
 * thread's ring, which is sized by them, vm/vdevs.h). */
#define BLK_SLOTS 8

extern const struct vdev_ops blk_vdev;

#endif
