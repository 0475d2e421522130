/* virtio-console: the console device when `console = virtio` (hvc0 in
 * Linux).  Its host side is devices/console.c, like the UART's. */
#ifndef PICOVM_VIRTIO_CONSOLE_H
#define PICOVM_VIRTIO_CONSOLE_H

#include "../devices/chardev.h"

struct machine;
struct vcon;

struct vcon *vcon_create(struct machine *m, unsigned index);
void vcon_arm(struct vcon *v);
struct chardev vcon_chardev(struct vcon *v);
void vcon_destroy(struct vcon *v);

#endif
