/*
 * virtio-blk (Virtio 1.2 section 5.2) on top of virtio.h: one request
 * queue, requests as header + data + status chains, polled completion.
 *
 * Command line words read by blk_open (all optional):
 *   picotest.no-indirect    do not ack RING_INDIRECT_DESC
 *   picotest.no-event-idx   do not ack RING_EVENT_IDX
 *   picotest.qsize=N        queue size (power of two, default QueueNumMax
 *                           capped at 256)
 */
#ifndef PICOTEST_VIRTIO_BLK_H
#define PICOTEST_VIRTIO_BLK_H

#include <stdint.h>

#include "virtio/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2
/* Not device statuses: what blk_wait saw instead of a status byte. */
#define BLK_NEEDS_RESET		0x100	/* Status has DEVICE_NEEDS_RESET */
#define BLK_TIMEOUT		0x101	/* no answer in the time allowed */
#define BLK_BAD_USED		0x102	/* a used entry we never posted */
#define BLK_FULL		0x103	/* no room on the ring */

#define BLK_SECTOR		512
#define BLK_ID_BYTES		20

/* Config space offsets. */
#define BLK_CFG_CAPACITY	0x00
#define BLK_CFG_SEG_MAX		0x0c
#define BLK_CFG_BLK_SIZE	0x14
#define BLK_CFG_MAX_DISCARD_SECTORS 0x24
#define BLK_CFG_MAX_DISCARD_SEG	0x28
#define BLK_CFG_MAX_WZ_SECTORS	0x30
#define BLK_CFG_MAX_WZ_SEG	0x34

/* Everything this driver knows how to use. */
#define BLK_FEATURES_ALL                                                     \
	(FBIT(VIRTIO_F_VERSION_1) | FBIT(VIRTIO_F_EVENT_IDX) |               \
	 FBIT(VIRTIO_F_INDIRECT_DESC) | FBIT(VIRTIO_BLK_F_SEG_MAX) |         \
	 FBIT(VIRTIO_BLK_F_RO) | FBIT(VIRTIO_BLK_F_BLK_SIZE) |               \
	 FBIT(VIRTIO_BLK_F_FLUSH) | FBIT(VIRTIO_BLK_F_DISCARD) |             \
	 FBIT(VIRTIO_BLK_F_WRITE_ZEROES))

struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* The data of a DISCARD or WRITE_ZEROES request: one segment. */
struct virtio_blk_dwz {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* Per in-flight request: what the chain's header and status point at. */
struct blk_slot {
	struct virtio_blk_outhdr hdr;
	uint64_t tag;		/* the caller's, handed back on completion */
	uint32_t used_len;
	uint8_t status;
	uint8_t busy;
} __attribute__((aligned(64)));

struct blk {
	struct vdev dev;
	struct vq q;
	uint64_t want;		/* features to ack (if offered) */
	unsigned qsize;		/* 0: QueueNumMax capped at VQ_MAX_NUM */
	struct blk_slot *slots;	/* VQ_MAX_NUM */
	unsigned next_slot, inflight;
	uint64_t capacity;	/* 512-byte sectors */
	uint32_t blk_size, seg_max;
	uint32_t max_discard_sectors, max_wz_sectors;
	int ro;			/* BLK_F_RO offered */
};

/* Finds the index-th virtio-blk device, allocates its queue and slots,
 * and runs blk_init with every feature this driver knows.  0, or -1
 * with *why set. */
int blk_open(struct blk *b, const struct bootinfo *bi, unsigned index,
	     const char **why);
/* (Re-)initialises the device: reset, features (b->want), config, queue,
 * DRIVER_OK.  Forgets every request in flight.  0, or -1 with *why. */
int blk_init(struct blk *b, const char **why);
/* Queues one request (not yet kicked).  IN and GET_ID data is
 * device-writable, everything else device-readable; len 0: no data
 * descriptor.  Returns the slot, or -1 if the ring is full. */
int blk_submit(struct blk *b, uint32_t type, uint64_t sector, void *buf,
	       uint32_t len, uint64_t tag);
/* Like blk_submit, but the data is nseg descriptors that all point at
 * the same len bytes of buf: a request of nseg * len bytes from a small
 * buffer (the device sees overlapping segments; for reads buf ends up
 * holding the last segment's data).  nseg <= BLK_REP_MAX. */
#define BLK_REP_MAX 64
int blk_submit_rep(struct blk *b, uint32_t type, uint64_t sector, void *buf,
		   uint32_t len, unsigned nseg, uint64_t tag);
/* Takes one completion if there is one: 1 (with *tag, *status), else 0;
 * -1 for a bogus used entry. */
int blk_poll(struct blk *b, uint64_t *tag, int *status);
/* Waits up to timeout ticks for one completion: its status (0-255), or
 * BLK_NEEDS_RESET / BLK_TIMEOUT / BLK_BAD_USED. */
int blk_wait(struct blk *b, uint64_t timeout, uint64_t *tag);
/* One request, synchronously: its status or a BLK_* value. */
int blk_io(struct blk *b, uint32_t type, uint64_t sector, void *buf,
	   uint32_t len);
/* DISCARD / WRITE_ZEROES of count sectors at sector, split into requests
 * of the device's limits; the first status that is not OK, or OK. */
int blk_dwz(struct blk *b, uint32_t type, uint64_t sector, uint64_t count);
/* "ok", "ioerr", "unsupp", "needs-reset", "timeout", "bad-used",
 * "status=N". */
const char *blk_status_name(int status);

#endif
