/*
 * Parsing a virtio-blk request: pure, no I/O, so it can be fuzzed on its
 * own (tests/fuzz/).  Decides what a chain asks for and whether it is
 * allowed; blk.c then does it.
 */
#ifndef PICOVM_VIRTIO_BLKREQ_H
#define PICOVM_VIRTIO_BLKREQ_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "queue.h"

#define BLK_SECTOR 512ULL
#define BLK_ID_BYTES VIRTIO_BLK_ID_BYTES
/* The request header (struct virtio_blk_outhdr) and one discard or
 * write-zeroes segment. */
#define BLK_HDR sizeof(struct virtio_blk_outhdr)
#define BLK_SEG sizeof(struct virtio_blk_discard_write_zeroes)
/* Discard / write-zeroes: one segment per request, up to 1 GiB. */
#define BLK_MAX_DISCARD_SECTORS (1U << 21)

enum blk_op {
	BLK_OP_DONE,		/* answer `status` now, no I/O */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_GET_ID,
	BLK_OP_DISCARD,		/* punch a hole */
	BLK_OP_ZEROES,		/* zero the range, keep it allocated */
};

struct blk_cmd {
	enum blk_op op;
	uint8_t status;		/* BLK_OP_DONE */
	uint8_t *status_byte;	/* where the status goes (last writable byte) */
	uint64_t off, len;	/* bytes, checked against the capacity */
	unsigned niov;		/* READ/WRITE/GET_ID: the data buffers */
	struct iovec *iov;	/* caller's array of VQ_MAX_SEGS */
};

/* Returns 0 with *cmd filled, or -1 when the chain has no writable byte
 * for the status (the ring is then unusable: the device fails). */
int blk_parse(const struct vq_chain *c, uint64_t capacity, bool readonly,
	      struct blk_cmd *cmd);

#endif
