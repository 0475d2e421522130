/*
 * A small virtio-mmio driver for the test guest, run at CPL3 (MMIO from
 * CPL3 works; plain RAM is native speed, so rings are polled).
 *
 * Transport (mmio.c): virtio 1.x over MMIO, register layout version 2
 * (Virtio 1.2 section 4.2.2).  Devices are found the way Linux's
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES finds them, from kernel command line
 * words `virtio_mmio.device=SIZE@BASE:IRQ[:ID]` (picovm and QEMU microvm
 * both append them).
 *
 * Queues (vq.c): split virtqueues in guest RAM (rt/mem.h), with
 * RING_EVENT_IDX and RING_INDIRECT_DESC when negotiated.  Besides the
 * normal add/kick/pop path, everything is public on purpose: the hostile
 * tests write descriptors, avail entries, ring indices and registers
 * directly (vdev_w32, vq->desc[i], vq_raw_*).
 */
#ifndef PICOTEST_VIRTIO_H
#define PICOTEST_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "rt/bootinfo.h"
#include "rt/io.h"

/* Registers (offsets into the device's window). */
#define VIRTIO_MMIO_MAGIC		0x000	/* "virt" = 0x74726976 */
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC_VALUE		0x74726976u

/* InterruptStatus bits. */
#define VIRTIO_INT_USED		1u
#define VIRTIO_INT_CONFIG	2u

/* Status bits. */
#define VIRTIO_S_ACKNOWLEDGE	0x01u
#define VIRTIO_S_DRIVER		0x02u
#define VIRTIO_S_DRIVER_OK	0x04u
#define VIRTIO_S_FEATURES_OK	0x08u
#define VIRTIO_S_NEEDS_RESET	0x40u
#define VIRTIO_S_FAILED		0x80u

/* Transport feature bits. */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define FBIT(n)			(1ULL << (n))

#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3

/* Split ring layout (section 2.7). */
#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY	1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* num entries, then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* num entries, then avail_event */
};

/* One device as the command line announced it. */
struct vdev {
	uint64_t base, size;
	unsigned irq;
	uint32_t device_id;
	uint64_t offered;	/* DeviceFeatures, read by vdev_negotiate */
	uint64_t acked;		/* what vdev_negotiate wrote */
};

#define VDEV_MAX 16

/* Polling budgets in TSC ticks (the TSC rate is not known; these are
 * ~2.5 s and ~0.1 s at 2 GHz): how long an answer may take, and how long
 * a test waits to see that nothing happens.  The TSC runs on while the
 * host pauses the VM (picovm ctl pause), so a guest whose VM is paused
 * may find an answer "late": `picotest.patient` on the command line makes
 * the long budget unbounded (the VM's timeout is then the watchdog). */
extern uint64_t virtio_wait_long;
#define VIRTIO_WAIT_LONG	virtio_wait_long
#define VIRTIO_WAIT_LONG_DEFAULT 5000000000ULL
#define VIRTIO_WAIT_UNBOUNDED	(UINT64_MAX / 64)	/* times 20 fits */
#define VIRTIO_WAIT_SHORT	200000000ULL

/* --- transport (mmio.c) --- */

/* The next command line word at or after byte *pos that is exactly key,
 * or (key ending in '=') starts with key: returns what follows key, sets
 * *vlen to its length and *pos past the word; NULL if there is none. */
const char *cmdline_find(const struct bootinfo *bi, const char *key,
			 size_t *pos, size_t *vlen);

/* Every `virtio_mmio.device=` entry, in command line order.  Returns how
 * many (at most max) were parsed; malformed entries are skipped. */
int vdev_parse_cmdline(const struct bootinfo *bi, struct vdev *out, int max);
/* The index-th device (0-based) with this DeviceID whose window shows the
 * magic and version 2.  0, or -1 with *why set. */
int vdev_find(struct vdev *d, const struct bootinfo *bi, uint32_t device_id,
	      unsigned index, const char **why);

static inline uint32_t vdev_r32(const struct vdev *d, unsigned off)
{
	return mmio_read32(d->base + off);
}

static inline void vdev_w32(const struct vdev *d, unsigned off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}

static inline uint32_t vdev_status(const struct vdev *d)
{
	return vdev_r32(d, VIRTIO_MMIO_STATUS);
}

/* Writes 0 to Status and waits (VIRTIO_WAIT_LONG) for it to read 0.
 * 0, or -1 if it never did. */
int vdev_reset(struct vdev *d);
/* 64-bit feature words through the *_SEL registers. */
uint64_t vdev_device_features(const struct vdev *d);
void vdev_write_features(const struct vdev *d, uint64_t f);
/* Reset, ACKNOWLEDGE, DRIVER, read the offer, write offered & want, set
 * FEATURES_OK and check that it stuck.  0, or -1 with *why set. */
int vdev_negotiate(struct vdev *d, uint64_t want, const char **why);
/* Sets DRIVER_OK (on top of what Status holds). */
void vdev_driver_ok(const struct vdev *d);
/* Config space, 1/2/4 bytes per access; the 64-bit read retries while
 * ConfigGeneration changes. */
uint8_t vdev_cfg8(const struct vdev *d, unsigned off);
uint16_t vdev_cfg16(const struct vdev *d, unsigned off);
uint32_t vdev_cfg32(const struct vdev *d, unsigned off);
uint64_t vdev_cfg64(const struct vdev *d, unsigned off);

/* --- split virtqueues (vq.c) --- */

#define VQ_MAX_NUM	256
#define VQ_ITAB_MAX	16	/* descriptors per indirect table */

struct vq {
	struct vdev *dev;
	unsigned index;		/* queue number on the device */
	unsigned num;		/* entries; a power of two <= VQ_MAX_NUM */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vring_desc *itab;	/* num tables of VQ_ITAB_MAX entries */
	uint16_t *chain_len;	/* per head: ring descriptors it holds */
	void **cookie;		/* per head */
	uint16_t avail_idx;	/* next avail index we publish */
	uint16_t kicked_idx;	/* avail index at the last vq_kick */
	uint16_t last_used;	/* next used index we consume */
	uint16_t free_head, nfree;
	int event_idx;		/* RING_EVENT_IDX negotiated */
	int indirect;		/* use indirect tables for chains > 1 */
	int irq_mode;		/* ask for interrupts (else suppress them) */
	uint64_t kicks;		/* QueueNotify writes */
};

/* One buffer of a request: device-readable (write = 0) or -writable. */
struct vbuf {
	uint64_t addr;
	uint32_t len;
	int write;
};

/* Allocates rings for up to VQ_MAX_NUM entries (once per queue). */
int vq_alloc(struct vq *q, struct vdev *d, unsigned index);
/* Clears the rings and our indices for num entries, then programs
 * QueueSel, QueueNum, the three addresses and QueueReady = 1 (between
 * FEATURES_OK and DRIVER_OK).  Event-idx and indirect use follow the
 * device's acked features.  0, or -1 with *why set. */
int vq_setup(struct vq *q, unsigned num, const char **why);
/* Puts one chain (readable buffers first) on the ring without publishing
 * it.  Returns the head, or -1 if there is no room. */
int vq_add(struct vq *q, const struct vbuf *b, unsigned n, void *cookie);
/* Publishes what vq_add put and notifies the device unless it asked not
 * to be (avail_event / NO_NOTIFY). */
void vq_kick(struct vq *q);
/* Takes one used entry: returns its head (chain freed), or -1 if none;
 * *len = used.len, *cookie = what vq_add got. */
int vq_pop(struct vq *q, uint32_t *len, void **cookie);
/* Non-zero when the device has used entries we have not taken. */
int vq_has_used(const struct vq *q);
/* Interrupt requests on (used_event = next, or flags = 0) or off. */
void vq_set_irq(struct vq *q, int on);

/* Raw access for hostile tests: put a head into the next avail slot
 * (not published), and publish an arbitrary avail index + notify. */
void vq_raw_post(struct vq *q, uint16_t head);
void vq_raw_publish(struct vq *q, uint16_t idx);
/* Publishes what vq_add() queued without notifying, ever: a driver
 * that never kicks for these (the next vq_kick() looks only past them). */
void vq_publish_silently(struct vq *q);

static inline uint16_t vq_used_idx(const struct vq *q)
{
	return *(volatile const uint16_t *)&q->used->idx;
}

static inline uint16_t *vq_used_event(struct vq *q)
{
	return &q->avail->ring[q->num];
}

static inline volatile uint16_t *vq_avail_event(struct vq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->num];
}

#endif
