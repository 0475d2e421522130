/*
 * The VM's virtio devices as one list, built once from the configuration
 * (vm/vdevs.c holds the table of kinds).  The position in the list is the
 * guest-visible index: MMIO window VIRTIO_MMIO_BASE + 4 KiB * index, IRQ
 * VIRTIO_MMIO_IRQ + index, and the order of the virtio_mmio.device=
 * entries on the command line.  Every step below is one loop over it.
 */
#ifndef PICOVM_VM_VDEVS_H
#define PICOVM_VM_VDEVS_H

#include <stdbool.h>
#include <stddef.h>

#include "../config/config.h"
#include "../devices/chardev.h"
#include "../virtio/mmio.h"
#include "../virtio/vdev.h"

struct machine;

struct vdev {
	const struct vdev_ops *ops;
	unsigned n;		/* disk.N, net.N, ... */
	void *dev;		/* after vdevs_open(); NULL: not open */
	unsigned inflight;	/* its io_uring requests in flight at most */
};

struct vdevs {
	struct vdev d[VIRTIO_MMIO_MAX_DEVICES];
	unsigned n;
};

/* Lists the configured devices (none opened).  -1 after printing when
 * there are more than the machine has windows and IRQs for. */
int vdevs_plan(const struct config *c, struct vdevs *l);
/* Appends one virtio_mmio.device= entry per device to buf (of size n),
 * unless mode (`virtio.cmdline`) is off. */
int vdevs_cmdline(const struct vdevs *l, enum virtio_cmdline mode, char *buf,
		  size_t n);
/* Opens them all (only the `checked` kinds when check); -1 after every
 * device printed its own error. */
int vdevs_open(struct vdevs *l, const struct config *c, bool check);
/* The most io_uring requests the devices keep in flight at once, all
 * together: what the I/O thread's ring is sized for (iothread_init()). */
unsigned vdevs_inflight(const struct vdevs *l);
int vdevs_attach(struct vdevs *l, struct machine *m);
/* Nonzero while a device has I/O in flight (iothread_stop()'s drain). */
int vdevs_busy(void *l);
/* The guest console a device offers, if one does. */
bool vdevs_chardev(const struct vdevs *l, struct chardev *cd);
void vdevs_close(struct vdevs *l);
/* Up to max of the devices' linger descriptors (vdev.h) into fds: how
 * many. */
unsigned vdevs_linger_fds(const struct vdevs *l, int *fds, unsigned max);

#endif
