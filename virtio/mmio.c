/* virtio-mmio transport: the register block and status machine; see
 * mmio.h.  Register semantics follow virtio 1.2 section 4.2.2; where a
 * guest misbehaves, the write is ignored or the device fails (NEEDS_RESET)
 * rather than picovm. */
#include "mmio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio.h"
#include "../vm/log.h"
#include "../vm/machine.h"

#define PICOVM_MMIO_MAGIC 0x74726976	/* "virt" */
#define PICOVM_MMIO_VENDOR 0x4f434950	/* "PICO" */
/* Log this many guest errors per device, then stay quiet: a hostile
 * guest must not be able to fill the host's disk with our log. */
#define VIRTIO_MAX_ERRORS_LOGGED 8

bool virtio_has(const struct virtio_dev *d, unsigned feature)
{
	return d->driver_features & BIT64(feature);
}

bool virtio_live(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET) && !d->reset_pending;
}

void virtio_interrupt(struct virtio_dev *d, uint32_t bits)
{
	uint64_t one = 1;

	LOG_LIMIT(virtio_irqfd);
	d->isr |= bits;
	if (write(d->irq_fd, &one, sizeof(one)) < 0)
		log_limited(&virtio_irqfd, "%s: irqfd: %s", d->ops->name,
			    strerror(errno));
}

void virtio_notify(struct virtio_dev *d, struct vq *q)
{
	if (!io_on_thread()) {
		if (vq_should_notify(q))
			virtio_interrupt(d, VIRTIO_MMIO_INT_VRING);
		return;
	}
	d->notify_mask |= 1u << (q - d->vq);
	io_flush_later(&d->flush);
}

/* After a batch of completions (I/O thread): one interrupt at most for
 * all the queues marked. */
static void virtio_flush(void *arg)
{
	struct virtio_dev *d = arg;
	bool irq = false;

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->ops->nqueues; i++)
		if ((d->notify_mask & (1u << i)) && d->vq[i].ready &&
		    vq_should_notify(&d->vq[i]))
			irq = true;
	d->notify_mask = 0;
	if (irq)
		virtio_interrupt(d, VIRTIO_MMIO_INT_VRING);
	pthread_mutex_unlock(&d->lock);
}

void virtio_fail(struct virtio_dev *d, const char *why)
{
	if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	if (d->errors_logged < VIRTIO_MAX_ERRORS_LOGGED) {
		d->errors_logged++;
		log_info("%s%u: guest error: %s; device needs reset",
			 d->ops->name, d->index, why);
	}
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	__atomic_store_n(&d->failures, d->failures + 1, __ATOMIC_RELAXED);
	virtio_interrupt(d, VIRTIO_MMIO_INT_CONFIG);
}

int virtio_pop(struct virtio_dev *d, struct vq *q, struct vq_chain *c)
{
	const char *why = NULL;

	for (;;) {
		int r = vq_pop(q, c, &why);
		if (r < 0)
			virtio_fail(d, why);
		if (r > 0) {
			__atomic_store_n(&d->chains, d->chains + 1, __ATOMIC_RELAXED);
			__atomic_store_n(&d->chain_bytes, d->chain_bytes +
					 c->out_len + c->in_len, __ATOMIC_RELAXED);
		}
		if (r != 0 || !vq_enable_kicks(q))
			return r;
	}
}

static void virtio_do_reset(struct virtio_dev *d)
{
	d->ops->reset(d);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&d->vq[i]);
	d->driver_features = 0;
	d->device_features_sel = d->driver_features_sel = d->queue_sel = 0;
	d->status = d->isr = 0;
	d->notify_mask = 0;
	d->reset_pending = false;
}

void virtio_request_begin(struct virtio_dev *d)
{
	d->inflight++;
}

unsigned virtio_inflight(const struct virtio_dev *d)
{
	return d->inflight;
}

void virtio_request_done(struct virtio_dev *d)
{
	if (d->inflight)
		d->inflight--;
	if (d->reset_pending && d->inflight == 0)
		virtio_do_reset(d);
}

/* Copies the registers both can set between device and state: to the
 * state (save) or from it.  The queue indices are the caller's. */
static void xfer_regs(struct virtio_dev *d, struct virtio_mmio_state *s,
		      bool save)
{
#define XFER(dev, st) do { if (save) (st) = (dev); else (dev) = (st); } while (0)
	XFER(d->driver_features, s->driver_features);
	XFER(d->device_features_sel, s->device_features_sel);
	XFER(d->driver_features_sel, s->driver_features_sel);
	XFER(d->queue_sel, s->queue_sel);
	XFER(d->status, s->status);
	XFER(d->isr, s->isr);
	XFER(d->config_generation, s->config_generation);
	XFER(d->window, s->window);
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		XFER(d->vq[i].desc_gpa, s->q[i].desc);
		XFER(d->vq[i].avail_gpa, s->q[i].avail);
		XFER(d->vq[i].used_gpa, s->q[i].used);
		XFER(d->vq[i].num, s->q[i].num);
	}
#undef XFER
}

int virtio_mmio_save(struct virtio_dev *d, struct virtio_mmio_state *s,
		     const char **why)
{
	int ret = 0;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&d->lock);
	if (d->inflight || d->reset_pending) {
		*why = "requests in flight";
		ret = -2;
	}
	s->device_features = d->device_features;
	xfer_regs(d, s, true);
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		const struct vq *q = &d->vq[i];
		if (q->ninflight) {
			*why = "requests taken from a queue and not returned";
			ret = -2;
		}
		s->q[i].ready = q->ready;
		s->q[i].last_avail = q->last_avail;
		s->q[i].used_idx = q->used_idx;
		s->q[i].notified_used = q->notified_used;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static int restore_check(const struct virtio_dev *d,
			 const struct virtio_mmio_state *s, const char **why)
{
	const uint32_t known = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK |
			       VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED;

	if (s->device_features != d->device_features)
		*why = "device features differ from this device's";
	else if (s->driver_features & ~s->device_features)
		*why = "driver features the device does not offer";
	else if (s->status & ~known)
		*why = "unknown status bits";
	else if ((s->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		 !(s->status & VIRTIO_CONFIG_S_FEATURES_OK))
		*why = "DRIVER_OK without FEATURES_OK";
	else if (s->isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
		*why = "unknown interrupt status bits";
	else if (s->window > VIRTIO_WINDOW_ACPI || s->pad)
		*why = "an unknown window";
	for (unsigned i = 0; !*why && i < VIRTIO_MAX_QUEUES; i++)
		if (s->q[i].ready > 1 || s->q[i].num > VQ_MAX_SIZE ||
		    (s->q[i].ready && (i >= d->ops->nqueues ||
				       !(s->status & VIRTIO_CONFIG_S_FEATURES_OK))))
			*why = "a queue in a state no driver can reach";
	return *why ? -1 : 0;
}

int virtio_mmio_restore(struct virtio_dev *d, struct virtio_mmio_state *s,
			const char **why)
{
	uint64_t one = 1;

	*why = NULL;
	pthread_mutex_lock(&d->lock);
	if (restore_check(d, s, why) < 0)
		goto out;
	xfer_regs(d, s, false);
	for (unsigned i = 0; i < d->ops->nqueues && !*why; i++) {
		struct vq *q = &d->vq[i];
		if (!s->q[i].ready)
			continue;
		if (vq_enable(q, &d->m->mem, d->ops->queue_max,
			      virtio_has(d, VIRTIO_RING_F_EVENT_IDX),
			      virtio_has(d, VIRTIO_RING_F_INDIRECT_DESC), why) < 0)
			break;
		q->last_avail = s->q[i].last_avail;
		q->used_idx = s->q[i].used_idx;
		q->notified_used = s->q[i].notified_used;
	}
	if (!*why && virtio_live(d))
		d->ops->activate(d);
	for (unsigned i = 0; i < d->ops->nqueues && !*why; i++)
		if (d->vq[i].ready && write(d->kick_fd[i], &one, sizeof(one)) < 0)
			*why = "cannot kick a queue";
out:
	pthread_mutex_unlock(&d->lock);
	return *why ? -1 : 0;
}

/* The queue registers may change only between FEATURES_OK and DRIVER_OK,
 * for an existing queue that is not live. */
static struct vq *setup_queue(struct virtio_dev *d)
{
	if (!(d->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (d->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    d->queue_sel >= d->ops->nqueues || d->vq[d->queue_sel].ready)
		return NULL;
	return &d->vq[d->queue_sel];
}

static void set_addr_half(uint64_t *a, bool high, uint32_t v)
{
	if (high)
		*a = (*a & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		*a = (*a & ~0xffffffffULL) | v;
}

static void write_status(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		if (d->inflight == 0) {
			virtio_do_reset(d);
		} else {
			d->reset_pending = true;	/* finishes in request_done */
			if (d->ops->quiesce)
				d->ops->quiesce(d);
		}
		return;
	}
	v &= 0xff;
	/* Only the device sets NEEDS_RESET; the driver may not clear bits. */
	v |= d->status & VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((d->status & ~v) || d->reset_pending)
		return;
	uint32_t added = v & ~d->status;
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		bool ok = !(d->driver_features & ~d->device_features) &&
			  (d->driver_features & BIT64(VIRTIO_F_VERSION_1));
		if (!ok)
			v &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(v & VIRTIO_CONFIG_S_FEATURES_OK))
		v &= ~(uint32_t)VIRTIO_CONFIG_S_DRIVER_OK;
	d->status = v;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && (v & VIRTIO_CONFIG_S_DRIVER_OK))
		d->ops->activate(d);
}

static void queue_ready(struct virtio_dev *d, uint32_t v)
{
	struct vq *q = setup_queue(d);
	const char *why = NULL;

	if (!q || v != 1)
		return;
	if (vq_enable(q, &d->m->mem, d->ops->queue_max,
		      virtio_has(d, VIRTIO_RING_F_EVENT_IDX),
		      virtio_has(d, VIRTIO_RING_F_INDIRECT_DESC), &why) < 0 &&
	    d->errors_logged < VIRTIO_MAX_ERRORS_LOGGED) {
		d->errors_logged++;
		log_info("%s%u: queue %u not enabled: %s", d->ops->name, d->index,
			 d->queue_sel, why);
	}
}

static void reg_write(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	struct vq *q;
	uint64_t one = 1;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(d->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    d->driver_features_sel < 2)
			set_addr_half(&d->driver_features,
				      d->driver_features_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if ((q = setup_queue(d)))
			q->num = v <= VQ_MAX_SIZE ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		queue_ready(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Normally KVM's ioeventfd catches these; this path is the
		 * same kick for a write that exited to user space.  Unknown
		 * queue numbers are ignored. */
		if (v < d->ops->nqueues &&
		    write(d->kick_fd[v], &one, sizeof(one)) < 0) {
			LOG_LIMIT(virtio_kick);
			log_limited(&virtio_kick, "%s: kick: %s", d->ops->name,
				    strerror(errno));
		}
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if ((q = setup_queue(d)))
			set_addr_half(&q->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if ((q = setup_queue(d)))
			set_addr_half(&q->avail_gpa, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if ((q = setup_queue(d)))
			set_addr_half(&q->used_gpa, off == VIRTIO_MMIO_QUEUE_USED_HIGH, v);
		break;
	default:
		break;	/* read-only or unknown: ignored */
	}
}

static uint32_t reg_read(struct virtio_dev *d, uint32_t off)
{
	bool qok = d->queue_sel < d->ops->nqueues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return PICOVM_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return PICOVM_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->device_features_sel >= 2)
			return 0;
		return (uint32_t)(d->device_features >> (32 * d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return qok ? d->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return qok && d->vq[d->queue_sel].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return d->isr;
	case VIRTIO_MMIO_STATUS: return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION: return d->config_generation;
	default: return 0;
	}
}

/* Whether window (VIRTIO_WINDOW_*) answers as the device: claims it on
 * the driver's first access past MagicValue and Version.  The other
 * window is then an empty slot: MagicValue, Version, zeros elsewhere. */
static bool window_live(struct virtio_dev *d, uint32_t window, uint64_t off,
			bool is_write)
{
	if (d->window == VIRTIO_WINDOW_NONE) {
		if (!is_write && (off == VIRTIO_MMIO_MAGIC_VALUE ||
				  off == VIRTIO_MMIO_VERSION))
			return true;
		d->window = window;
	}
	return d->window == window;
}

static void virtio_mmio_access(struct virtio_dev *d, uint32_t window,
			       uint64_t off, uint8_t *data, uint32_t len,
			       bool is_write)
{
	pthread_mutex_lock(&d->lock);
	if (!window_live(d, window, off, is_write)) {
		uint32_t v = off == VIRTIO_MMIO_MAGIC_VALUE ? PICOVM_MMIO_MAGIC :
			     off == VIRTIO_MMIO_VERSION ? 2 : 0;
		if (!is_write && len == 4 && !(off & 3))
			memcpy(data, &v, 4);
		else if (!is_write)
			memset(data, 0, len);
	} else if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t coff = off - VIRTIO_MMIO_CONFIG;
		if (coff + len <= d->ops->config_size && d->ops->config_rw)
			d->ops->config_rw(d, (uint32_t)coff, data, len, is_write);
		else if (!is_write)
			memset(data, 0, len);
	} else if (len == 4 && !(off & 3)) {
		uint32_t v;
		if (is_write) {
			memcpy(&v, data, 4);
			reg_write(d, (uint32_t)off, v);
		} else {
			v = reg_read(d, (uint32_t)off);
			memcpy(data, &v, 4);
		}
	} else if (!is_write) {
		memset(data, 0, len);	/* wrong width: ignored */
	}
	pthread_mutex_unlock(&d->lock);
}

static void access_cmdline(void *opaque, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	virtio_mmio_access(opaque, VIRTIO_WINDOW_CMDLINE, off, data, len, is_write);
}

static void access_acpi(void *opaque, uint64_t off, uint8_t *data,
			uint32_t len, bool is_write)
{
	virtio_mmio_access(opaque, VIRTIO_WINDOW_ACPI, off, data, len, is_write);
}

static void virtio_kick(void *arg)
{
	struct virtio_kick *k = arg;
	struct virtio_dev *d = k->d;

	pthread_mutex_lock(&d->lock);
	if (virtio_live(d) && d->vq[k->q].ready)
		d->ops->queue_kick(d, k->q);
	pthread_mutex_unlock(&d->lock);
}

struct virtio_dev *virtio_mmio_create(struct machine *m, unsigned index,
				      const struct virtio_ops *ops, void *priv,
				      uint64_t features)
{
	struct virtio_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	d->m = m;
	d->ops = ops;
	d->priv = priv;
	d->index = index;
	if (index < MACHINE_MAX_VIRTIO)
		m->virtio[index] = d;
	d->base = virtio_mmio_window(index, false);
	d->irq = virtio_mmio_irq(index);
	d->flush = (struct io_flush){ .fn = virtio_flush, .arg = d };
	d->device_features = features | BIT64(VIRTIO_F_VERSION_1);
	d->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->kick_fd[q] = -1;
	if (d->irq_fd < 0)
		goto fail;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)d->irq_fd, .gsi = d->irq };
	if (ioctl(m->kvm.vm_fd, KVM_IRQFD, &irqfd) < 0)
		goto fail;
	for (unsigned q = 0; q < ops->nqueues; q++) {
		d->kick[q] = (struct virtio_kick){ d, q };
		d->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick_fd[q] < 0)
			goto fail;
		/* A QueueNotify write of q signals the eventfd inside KVM:
		 * no exit to user space on the kick path.  In both windows
		 * (the empty one's kicks are the same as the device's: a
		 * driver that does not use it has no queue it could kick). */
		for (int acpi = 0; acpi < 2; acpi++) {
			struct kvm_ioeventfd io = {
				.datamatch = q,
				.addr = virtio_mmio_window(index, acpi) +
					VIRTIO_MMIO_QUEUE_NOTIFY,
				.len = 4,
				.fd = d->kick_fd[q],
				.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
			};
			if (ioctl(m->kvm.vm_fd, KVM_IOEVENTFD, &io) < 0)
				goto fail;
		}
	}
	if (bus_add(&m->mmio, d->base, VIRTIO_MMIO_SIZE, access_cmdline, d) < 0 ||
	    bus_add(&m->mmio, virtio_mmio_window(index, true), VIRTIO_MMIO_SIZE,
		    access_acpi, d) < 0)
		goto fail;
	return d;
fail:
	log_err("%s: cannot set up the device: %s", ops->name, strerror(errno));
	virtio_mmio_destroy(d);
	return NULL;
}

void virtio_mmio_arm(struct virtio_dev *d)
{
	for (unsigned q = 0; q < d->ops->nqueues; q++)
		io_event_arm(&d->kick_ev[q], d->kick_fd[q], virtio_kick, &d->kick[q]);
}

void virtio_mmio_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	if (d->index < MACHINE_MAX_VIRTIO && d->m->virtio[d->index] == d)
		d->m->virtio[d->index] = NULL;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (d->kick_fd[q] >= 0)
			close(d->kick_fd[q]);
	if (d->irq_fd >= 0)
		close(d->irq_fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int virtio_mmio_cmdline(unsigned index, char *buf, size_t n)
{
	size_t len = strlen(buf);
	int w = snprintf(buf + len, n - len, "%svirtio_mmio.device=4K@0x%llx:%u",
			 len ? " " : "",
			 (unsigned long long)virtio_mmio_window(index, false),
			 virtio_mmio_irq(index));
	return w < 0 || (size_t)w >= n - len ? -1 : 0;
}
