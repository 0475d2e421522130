/*
 * virtio-mmio transport (virtio 1.2 section 4.2, register layout version
 * 2): one 4 KiB window and one interrupt line per device.  The transport
 * knows nothing of device types; a device is a small ops table (below) and
 * a private pointer.
 *
 * Threads and locking: register accesses come from vCPU threads, queue
 * work runs on the I/O thread; both hold dev->lock.  ops callbacks are
 * always called with it held.
 *
 * Announcement: each device is added to the kernel command line as
 * virtio_mmio.device=4K@BASE:IRQ (Linux CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES;
 * the test guests parse the same; `virtio.cmdline`) and to the ACPI DSDT
 * (an LNRO0005 device, boot/acpi.c).  Windows start at VIRTIO_MMIO_BASE,
 * interrupts at VIRTIO_MMIO_IRQ; the MP table routes them.
 *
 * The two announcements name two windows of one device, the command
 * line's at VIRTIO_MMIO_BASE and the DSDT's at VIRTIO_MMIO_ACPI_BASE
 * (each + 4 KiB * index), sharing its interrupt.  Two distinct windows
 * keep a kernel that finds the device both ways from a resource clash
 * (Linux: "failed to claim resource"); the first window the driver reads
 * anything but MagicValue and Version from is the device's for the rest
 * of the VM's life, and the other one then reads as an empty virtio-mmio
 * slot (DeviceID 0, which Linux skips without a word), so the guest binds
 * the device once.
 */
#ifndef PICOVM_VIRTIO_MMIO_H
#define PICOVM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"
#include "../vm/iothread.h"

#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_MMIO_SIZE 0x1000ULL
#define VIRTIO_MMIO_IRQ 5
#define VIRTIO_MMIO_ACPI_BASE 0xd0010000ULL	/* the DSDT's windows */
#define VIRTIO_MMIO_MAX_DEVICES 16	/* IRQs 5..20 */
#define VIRTIO_MAX_QUEUES 2

/* Window of device index as announced on the command line (acpi false)
 * or in the DSDT (acpi true), and its interrupt. */
static inline uint64_t virtio_mmio_window(unsigned index, bool acpi)
{
	return (acpi ? VIRTIO_MMIO_ACPI_BASE : VIRTIO_MMIO_BASE) +
	       VIRTIO_MMIO_SIZE * index;
}
static inline unsigned virtio_mmio_irq(unsigned index)
{
	return VIRTIO_MMIO_IRQ + index;
}
/* Which window the driver took (struct virtio_dev's window). */
enum { VIRTIO_WINDOW_NONE, VIRTIO_WINDOW_CMDLINE, VIRTIO_WINDOW_ACPI };

struct machine;
struct virtio_dev;

struct virtio_ops {
	const char *name;		/* "virtio-blk" */
	uint32_t device_id;
	unsigned nqueues;
	uint16_t queue_max;
	/* Device configuration space access, off from 0x100; only called
	 * for accesses inside config_size. */
	uint32_t config_size;
	void (*config_rw)(struct virtio_dev *d, uint32_t off, uint8_t *data,
			  uint32_t len, bool is_write);
	/* The driver kicked queue q (I/O thread). */
	void (*queue_kick)(struct virtio_dev *d, unsigned q);
	/* DRIVER_OK was set (vCPU thread): start work. */
	void (*activate)(struct virtio_dev *d);
	/* Forget all state; called only with no I/O in flight. */
	void (*reset)(struct virtio_dev *d);
	/* Optional (vCPU thread): a reset waits for in-flight I/O; cancel
	 * what may never finish on its own (a tap read on an idle link). */
	void (*quiesce)(struct virtio_dev *d);
};

struct virtio_kick {
	struct virtio_dev *d;
	unsigned q;
};

struct virtio_dev {
	pthread_mutex_t lock;
	struct machine *m;
	const struct virtio_ops *ops;
	void *priv;
	unsigned index;			/* window and IRQ number */
	uint64_t base;			/* the command line's window */
	uint32_t window;		/* VIRTIO_WINDOW_*: the one in use */
	unsigned irq;
	int irq_fd;			/* irqfd bound to irq */
	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status, isr, config_generation;
	bool reset_pending;
	unsigned inflight;		/* requests handed to the host */
	unsigned notify_mask;		/* queues with new used entries */
	struct io_flush flush;		/* decides their interrupt */
	unsigned errors_logged;
	/* Counters for `picovm ctl NAME stats`: chains taken from the
	 * driver, the bytes their buffers describe, times the device was
	 * failed (NEEDS_RESET).  Written under lock; read relaxed. */
	uint64_t chains, chain_bytes, failures;
	struct vq vq[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];	/* ioeventfd per queue */
	struct io_event kick_ev[VIRTIO_MAX_QUEUES];
	struct virtio_kick kick[VIRTIO_MAX_QUEUES];
};

/* Creates device number index and registers its window, ioeventfds and
 * irqfd.  Returns NULL after printing why. */
struct virtio_dev *virtio_mmio_create(struct machine *m, unsigned index,
				      const struct virtio_ops *ops, void *priv,
				      uint64_t features);
/* Arms the kick eventfds on the I/O thread's ring (before it starts). */
void virtio_mmio_arm(struct virtio_dev *d);
void virtio_mmio_destroy(struct virtio_dev *d);
/* Appends " virtio_mmio.device=4K@0x...:N" to buf (of size n). */
int virtio_mmio_cmdline(unsigned index, char *buf, size_t n);

/* For devices (lock held): */
bool virtio_has(const struct virtio_dev *d, unsigned feature);
/* The guest broke the device: NEEDS_RESET + config interrupt; logs why
 * (the first few times). */
void virtio_fail(struct virtio_dev *d, const char *why);
bool virtio_live(const struct virtio_dev *d);	/* DRIVER_OK, not broken */
void virtio_interrupt(struct virtio_dev *d, uint32_t bits);
/* After pushes on q: interrupt if the driver wants one.  On the I/O
 * thread this only marks q; the decision (one fence, at most one
 * interrupt) is taken once per device after the batch of completions. */
void virtio_notify(struct virtio_dev *d, struct vq *q);
/* Takes the next chain of q for a device: 1 with *c filled; 0 when the
 * queue is empty (kicks are re-enabled first, and a chain that slipped in
 * meanwhile is taken); -1 when the guest broke the ring (the device is then
 * failed: NEEDS_RESET and a config interrupt). */
int virtio_pop(struct virtio_dev *d, struct vq *q, struct vq_chain *c);
/* Request accounting, owned by the transport: begin when a request is
 * handed to the host (an io_uring submission), done when it finished,
 * after its vq_push (handles a pending reset).  A reset waits for them. */
void virtio_request_begin(struct virtio_dev *d);
void virtio_request_done(struct virtio_dev *d);
/* Requests begun and not done. */
unsigned virtio_inflight(const struct virtio_dev *d);

/* Snapshots: the transport's guest-visible state (registers, features,
 * status, ISR, each queue's addresses and indices).  Fixed layout. */
struct virtio_mmio_state {
	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status, isr, config_generation;
	uint32_t window, pad;		/* VIRTIO_WINDOW_* */
	struct {
		uint64_t desc, avail, used;
		uint16_t num, last_avail, used_idx, notified_used;
		uint8_t ready, pad[7];
	} q[VIRTIO_MAX_QUEUES];
};
/* Fills *s; -2 (with why) when the device is not quiescent (a request
 * taken from a queue and not returned, or a reset pending: try again once
 * the I/O thread has finished them).  Lock taken. */
int virtio_mmio_save(struct virtio_dev *d, struct virtio_mmio_state *s,
		     const char **why);
/* Loads *s (from a file: untrusted) into a freshly attached device: the
 * features must be the device's own, the status a reachable one, each
 * ready queue a layout vq_enable() accepts.  Then kicks every ready queue
 * once, for chains the driver queued after the device last looked.
 * -1 with why. */
int virtio_mmio_restore(struct virtio_dev *d, struct virtio_mmio_state *s,
			const char **why);

#endif
