/*
 * virtio-blk on io_uring.  Its open does everything that can fail because
 * of the user's input (open, size, lock, overlay) before any VM exists,
 * printing "picovm: FILE: disk.N.path: why"; attach makes it a device of
 * a VM (virtio/vdev.h).  Close flushes (writeback disks).
 */
#ifndef PICOVM_VIRTIO_BLK_H
#define PICOVM_VIRTIO_BLK_H

#include "vdev.h"

extern const struct vdev_ops blk_vdev;

#endif
