/* The table of virtio device kinds and the device list; see vdevs.h. */
#include "vdevs.h"

#include "log.h"
#include "../config/config.h"
#include "../virtio/blk.h"
#include "../virtio/console.h"
#include "../virtio/net.h"
#include "../virtio/netdev.h"

static bool disk_present(const struct config *c, unsigned n)
{
	return c->disk[n].present;
}

static bool net_present(const struct config *c, unsigned n)
{
	return c->net[n].present;
}

static bool console_present(const struct config *c, unsigned n)
{
	return n == 0 && c->console == CONSOLE_VIRTIO;
}

/* The order is a contract with the guest (the numbering of its devices):
 * disks by N, nets by N, then the console.  New kinds go at the end.
 * inflight: the most io_uring requests one device keeps in flight at
 * once (vdevs_inflight()): a kick read per queue (virtio/mmio.c), then
 * a disk's chunk slots; a net's transmits, its receive reads and as many
 * cancels of them (a reset), its cancel event (its RX batch timer is the
 * I/O thread's, not a request); the console's host event. */
static const struct {
	const struct vdev_ops *ops;
	bool (*present)(const struct config *c, unsigned n);
	unsigned inflight;
} kinds[] = {
	{ &blk_vdev, disk_present, 1 + BLK_SLOTS },
	{ &net_vdev, net_present,
	  2 + NET_TX_INFLIGHT + 2 * NET_RX_INFLIGHT + 1 },
	{ &vcon_vdev, console_present, 2 + 1 },
};

int vdevs_plan(const struct config *c, struct vdevs *l)
{
	unsigned total = 0;

	l->n = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (unsigned n = 0; n < CONFIG_MAX_DEVICES; n++) {
			if (!kinds[k].present(c, n))
				continue;
			if (total++ < VIRTIO_MMIO_MAX_DEVICES)
				l->d[l->n++] = (struct vdev){ kinds[k].ops, n, NULL,
							      kinds[k].inflight };
		}
	if (total > VIRTIO_MMIO_MAX_DEVICES) {
		log_err("%s: %u virtio devices (disks, nets, console); picovm "
			"offers at most %u", c->file, total, VIRTIO_MMIO_MAX_DEVICES);
		return -1;
	}
	return 0;
}

int vdevs_cmdline(const struct vdevs *l, enum virtio_cmdline mode, char *buf,
		  size_t n)
{
	/* auto is on: a kernel that also finds the devices in the DSDT
	 * takes each through the first window it reads (virtio/mmio.h). */
	if (mode == VIRTIO_CMDLINE_OFF)
		return 0;
	for (unsigned i = 0; i < l->n; i++)
		if (virtio_mmio_cmdline(i, buf, n) < 0)
			return -1;
	return 0;
}

int vdevs_open(struct vdevs *l, const struct config *c, bool check)
{
	int ret = 0;

	for (unsigned i = 0; i < l->n; i++) {
		struct vdev *d = &l->d[i];
		if (check && !d->ops->checked)
			continue;
		if (!d->dev && !(d->dev = d->ops->open(c, d->n)))
			ret = -1;
	}
	return ret;
}

unsigned vdevs_inflight(const struct vdevs *l)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++)
		n += l->d[i].inflight;
	return n;
}

int vdevs_attach(struct vdevs *l, struct machine *m)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->d[i].ops->attach(l->d[i].dev, m, i) < 0)
			return -1;
	return 0;
}

int vdevs_busy(void *arg)
{
	struct vdevs *l = arg;

	for (unsigned i = 0; i < l->n; i++)
		if (l->d[i].dev && l->d[i].ops->busy &&
		    l->d[i].ops->busy(l->d[i].dev))
			return 1;
	return 0;
}

bool vdevs_chardev(const struct vdevs *l, struct chardev *cd)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->d[i].dev && l->d[i].ops->chardev) {
			*cd = l->d[i].ops->chardev(l->d[i].dev);
			return true;
		}
	return false;
}

unsigned vdevs_linger_fds(const struct vdevs *l, int *fds, unsigned max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < l->n && k < max; i++) {
		int fd = l->d[i].dev && l->d[i].ops->linger_fd ?
			 l->d[i].ops->linger_fd(l->d[i].dev) : -1;
		if (fd >= 0)
			fds[k++] = fd;
	}
	return k;
}

void vdevs_close(struct vdevs *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		l->d[i].ops->close(l->d[i].dev);
		l->d[i].dev = NULL;
	}
}
