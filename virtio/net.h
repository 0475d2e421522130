/* virtio-net on a tap or on passt, with the data path on the I/O thread's
 * io_uring (taps: net.c; passt's stream: netstream.c).  Its open makes the
 * tap or starts/connects passt (all user-fixable errors happen there,
 * before a VM exists); attach makes it a device of the VM (virtio/vdev.h). */
#ifndef PICOVM_VIRTIO_NET_H
#define PICOVM_VIRTIO_NET_H

#include "vdev.h"

extern const struct vdev_ops net_vdev;

#endif
