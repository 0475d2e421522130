/* virtio-net on a tap, with the data path on the I/O thread's io_uring.
 * Its open makes the tap (all user-fixable errors happen there, before a
 * VM exists); attach makes it a device of the VM (virtio/vdev.h). */
#ifndef PICOVM_VIRTIO_NET_H
#define PICOVM_VIRTIO_NET_H

#include "vdev.h"

extern const struct vdev_ops net_vdev;

#endif
