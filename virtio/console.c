/*
 * virtio-console (virtio 1.2 section 5.3) without multiport: queue 0
 * receives host input, queue 1 carries guest output.
 *
 * Bounded both ways, and no byte is ever dropped: guest output is copied
 * out of the transmit queue only as far as the output buffer has room (a
 * chain that does not fit waits, half-copied, until the host side drains
 * the buffer); host input waits in its buffer until the guest posts
 * receive buffers, and picovm stops reading stdin while it is full.
 *
 * Snapshots (vcon_save): the state is the transport's and, when a
 * transmit chain was only partly copied out, the count of its bytes
 * already taken: the chain is given back to the ring (vq_unpop) and the
 * next pop of it, in this VM or in a restore, starts after those bytes.
 * The host-side buffers are not saved: output already copied out is
 * written by this VM's console (the stop flushes it, as at any stop),
 * never again by a restore; input read from the host and not yet taken
 * by the guest stays with this VM.  So no guest byte is lost or written
 * twice across snapshot and restore.
 *
 * Locks: dev->lock (I/O thread, vCPUs), then buf_lock (also the console
 * thread, which never takes dev->lock).
 */
#include "console.h"

#include <errno.h>
#include <linux/virtio_console.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mmio.h"
#include "../devices/conbuf.h"
#include "virtio.h"
#include "../vm/log.h"
#include "../vm/machine.h"

#define VCON_RX 0
#define VCON_TX 1
#define VCON_QUEUE_MAX 64

struct vcon {
	struct virtio_dev *dev;
	pthread_mutex_t buf_lock;
	struct conbuf cb;		/* guarded by buf_lock */
	int host_fd;			/* host side -> I/O thread */
	struct io_event host_ev;
	/* A transmit chain only partly copied out (the buffer was full). */
	bool tx_pending;
	struct vq_chain tx;
	uint64_t tx_done;
	uint64_t tx_skip;		/* of the next chain: already out */
	struct vq_chain scratch;
};

static void wake_io(struct vcon *v)
{
	uint64_t one = 1;

	if (write(v->host_fd, &one, sizeof(one)) < 0)
		return;	/* counter saturated: the reader is awake anyway */
}

/* Copies what fits of the pending transmit chain; true when all did. */
static bool tx_copy(struct vcon *v)
{
	pthread_mutex_lock(&v->buf_lock);
	bool was_empty = v->cb.out.len == 0;
	while (v->tx_done < v->tx.out_len && ring_space(&v->cb.out)) {
		size_t room;
		uint8_t *t = ring_tail(&v->cb.out, &room);
		uint64_t k = iov_copy_from(v->tx.iov, v->tx.nout, v->tx_done, t, room);
		ring_commit(&v->cb.out, (size_t)k);
		v->tx_done += k;
	}
	bool all = v->tx_done == v->tx.out_len;
	if (was_empty && v->cb.out.len)
		conbuf_wake(&v->cb);
	pthread_mutex_unlock(&v->buf_lock);
	return all;
}

static void vcon_tx(struct vcon *v)
{
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[VCON_TX];

	if (!q->ready)
		return;
	while (virtio_live(d)) {
		if (!v->tx_pending) {
			if (virtio_pop(d, q, &v->tx) <= 0)
				break;
			v->tx_pending = true;
			v->tx_done = v->tx_skip < v->tx.out_len ?
				     v->tx_skip : v->tx.out_len;
			v->tx_skip = 0;
		}
		if (!tx_copy(v))
			break;	/* resumes when the host side drains */
		v->tx_pending = false;
		vq_push(q, v->tx.head, 0);
	}
	virtio_notify(d, q);
}

static void vcon_rx(struct vcon *v)
{
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[VCON_RX];

	if (!q->ready)
		return;
	while (virtio_live(d)) {
		pthread_mutex_lock(&v->buf_lock);
		size_t have = v->cb.in.len;
		pthread_mutex_unlock(&v->buf_lock);
		if (!have)
			break;
		if (virtio_pop(d, q, &v->scratch) <= 0)
			break;
		if (v->scratch.nout) {
			virtio_fail(d, "receive buffer is not device-writable");
			break;
		}
		uint64_t done = 0;
		pthread_mutex_lock(&v->buf_lock);
		bool was_full = ring_space(&v->cb.in) == 0;
		while (v->cb.in.len && done < v->scratch.in_len) {
			size_t k;
			const uint8_t *f = ring_front(&v->cb.in, &k);
			k = (size_t)iov_copy_to(v->scratch.iov, v->scratch.nin, done, f, k);
			ring_pop(&v->cb.in, NULL, k);
			done += k;
		}
		if (was_full && ring_space(&v->cb.in))
			conbuf_wake(&v->cb);
		pthread_mutex_unlock(&v->buf_lock);
		vq_push(q, v->scratch.head, (uint32_t)done);
	}
	virtio_notify(d, q);
}

static void vcon_kick(struct virtio_dev *d, unsigned q)
{
	struct vcon *v = d->priv;

	if (q == VCON_TX)
		vcon_tx(v);
	else
		vcon_rx(v);
}

/* The host side drained output or brought input (I/O thread). */
static void vcon_host(void *arg)
{
	struct vcon *v = arg;
	struct virtio_dev *d = v->dev;

	pthread_mutex_lock(&d->lock);
	if (virtio_live(d)) {
		vcon_tx(v);
		vcon_rx(v);
	}
	pthread_mutex_unlock(&d->lock);
}

static void vcon_activate(struct virtio_dev *d)
{
	struct vcon *v = d->priv;

	wake_io(v);	/* input may already be waiting */
}

static void vcon_reset(struct virtio_dev *d)
{
	struct vcon *v = d->priv;

	v->tx_pending = false;
	v->tx_skip = 0;
}

static void vcon_config_rw(struct virtio_dev *d, uint32_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	(void)d, (void)off;
	if (!is_write)
		memset(data, 0, len);	/* cols, rows, max_nr_ports: unused */
}

static const struct virtio_ops vcon_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nqueues = 2,
	.queue_max = VCON_QUEUE_MAX,
	.config_size = sizeof(struct virtio_console_config),
	.config_rw = vcon_config_rw,
	.queue_kick = vcon_kick,
	.activate = vcon_activate,
	.reset = vcon_reset,
};

/* conbuf hooks (buf_lock held): the host side drained output or brought
 * input; the I/O thread moves the queues on. */
static void vcon_out_consumed(void *owner, size_t space_before)
{
	/* A half-copied transmit chain waits only while the buffer is full. */
	if (space_before == 0)
		wake_io(owner);
}

static void vcon_in_pushed(void *owner, size_t n)
{
	if (n)
		wake_io(owner);
}

static const struct conbuf_hooks vcon_hooks = {
	.out_consumed = vcon_out_consumed,
	.in_pushed = vcon_in_pushed,
};

static struct chardev vcon_chardev(void *opaque)
{
	struct vcon *v = opaque;

	return conbuf_chardev(&v->cb);
}

static void vcon_close(void *opaque)
{
	struct vcon *v = opaque;

	if (!v)
		return;
	virtio_mmio_destroy(v->dev);
	if (v->host_fd >= 0)
		close(v->host_fd);
	pthread_mutex_destroy(&v->buf_lock);
	free(v);
}

static void *vcon_open(const struct config *c, unsigned n)
{
	struct vcon *v = calloc(1, sizeof(*v));

	(void)c;
	(void)n;
	if (!v) {
		log_err("console: out of memory");
		return NULL;
	}
	pthread_mutex_init(&v->buf_lock, NULL);
	conbuf_init(&v->cb, &v->buf_lock, &vcon_hooks, v);
	v->host_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->host_fd < 0) {
		log_err("console: eventfd: %s", strerror(errno));
		vcon_close(v);
		return NULL;
	}
	return v;
}

static int vcon_attach(void *opaque, struct machine *m, unsigned index)
{
	struct vcon *v = opaque;

	v->dev = virtio_mmio_create(m, index, &vcon_ops, v,
				    BIT64(VIRTIO_RING_F_EVENT_IDX) |
				    BIT64(VIRTIO_RING_F_INDIRECT_DESC));
	if (!v->dev)
		return -1;
	virtio_mmio_arm(v->dev);
	io_event_arm(&v->host_ev, v->host_fd, vcon_host, v);
	return 0;
}

struct vcon_state {
	struct virtio_mmio_state t;
	uint64_t tx_skip;
};
_Static_assert(sizeof(struct vcon_state) <= VDEV_STATE_MAX, "vcon_state");

/* Main thread, every vCPU and the I/O thread parked (vdev.h). */
static int vcon_save(void *opaque, uint8_t *buf, const char **why)
{
	struct vcon *v = opaque;
	struct virtio_dev *d = v->dev;
	struct vcon_state s;

	pthread_mutex_lock(&d->lock);
	if (v->tx_pending) {
		/* The last chain taken: give it back, noting how far it got. */
		vq_unpop(&d->vq[VCON_TX], v->tx.head);
		v->tx_pending = false;
		v->tx_skip = v->tx_done;
	}
	uint64_t skip = v->tx_skip;
	pthread_mutex_unlock(&d->lock);
	int ret = virtio_mmio_save(d, &s.t, why);
	if (ret < 0)
		return ret;
	s.tx_skip = skip;
	memcpy(buf, &s, sizeof(s));
	return (int)sizeof(s);
}

static void vcon_resume(void *opaque)
{
	wake_io(opaque);	/* a chain given back is taken again */
}

static int vcon_restore(void *opaque, const uint8_t *buf, size_t len)
{
	struct vcon *v = opaque;
	struct vcon_state s;
	const char *why = NULL;

	if (len != sizeof(s)) {
		log_err("restore: console: %zu bytes of state, expected %zu",
			len, sizeof(s));
		return -1;
	}
	memcpy(&s, buf, sizeof(s));
	if (s.tx_skip > VQ_MAX_CHAIN_BYTES ||
	    (s.tx_skip && !s.t.q[VCON_TX].ready)) {
		log_err("restore: console: %llu bytes of a transmit chain "
			"already out, on a queue that cannot have one",
			(unsigned long long)s.tx_skip);
		return -1;
	}
	pthread_mutex_lock(&v->dev->lock);
	v->tx_skip = s.tx_skip;
	pthread_mutex_unlock(&v->dev->lock);
	if (virtio_mmio_restore(v->dev, &s.t, &why) < 0) {
		log_err("restore: console: %s", why);
		return -1;
	}
	return 0;
}

const struct vdev_ops vcon_vdev = {
	.name = "console",
	.save = vcon_save,
	.resume = vcon_resume,
	.restore = vcon_restore,
	.open = vcon_open,
	.attach = vcon_attach,
	.close = vcon_close,
	.chardev = vcon_chardev,
};
