/* virtio-net on a tap, with the data path on the I/O thread's io_uring.
 * net_open() makes the tap (all user-fixable errors happen there, before
 * a VM exists); net_attach() makes it a device of the VM. */
#ifndef PICOVM_VIRTIO_NET_H
#define PICOVM_VIRTIO_NET_H

#include "../config/config.h"

struct machine;
struct vnet;

struct vnet *net_open(const struct config *c, unsigned n);
int net_attach(struct vnet *v, struct machine *m, unsigned index);
void net_arm(struct vnet *v);
unsigned net_inflight(struct vnet *v);
void net_close(struct vnet *v);

#endif
