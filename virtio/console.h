/* virtio-console: the console device when `console = virtio` (hvc0 in
 * Linux).  Its host side is devices/console.c, like the UART's: the
 * device offers it through vdev_ops.chardev. */
#ifndef PICOVM_VIRTIO_CONSOLE_H
#define PICOVM_VIRTIO_CONSOLE_H

#include "vdev.h"

extern const struct vdev_ops vcon_vdev;

#endif
