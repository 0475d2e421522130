/* virtio-blk request parsing; see blkreq.h.  Framing is not trusted: the
 * header is the first BLK_HDR (16) readable bytes however the descriptors split
 * them, the status the last writable byte, the data what lies between. */
#include "blkreq.h"

#include <string.h>

/* [sector, sector + len/512) inside the disk, overflow-safe. */
static bool in_range(uint64_t capacity, uint64_t sector, uint64_t len)
{
	uint64_t end;

	return !__builtin_add_overflow(sector, len / BLK_SECTOR, &end) &&
	       end <= capacity;
}

static void fail(struct blk_cmd *cmd, uint8_t status)
{
	cmd->op = BLK_OP_DONE;
	cmd->status = status;
}

static void parse_rw(const struct vq_chain *c, uint64_t capacity, bool ro,
		     bool write, uint64_t sector, struct blk_cmd *cmd)
{
	uint64_t len = write ? c->out_len - BLK_HDR : c->in_len - 1;

	if (len == 0 || len % BLK_SECTOR || !in_range(capacity, sector, len) ||
	    (write && ro)) {
		fail(cmd, VIRTIO_BLK_S_IOERR);
		return;
	}
	cmd->op = write ? BLK_OP_WRITE : BLK_OP_READ;
	cmd->off = sector * BLK_SECTOR;
	cmd->len = len;
	if (write)
		cmd->niov = iov_slice(c->iov, c->nout, BLK_HDR, len, cmd->iov);
	else
		cmd->niov = iov_slice(c->iov + c->nout, c->nin, 0, len, cmd->iov);
}

static void parse_discard(const struct vq_chain *c, uint64_t capacity, bool ro,
			  bool zeroes, struct blk_cmd *cmd)
{
	struct virtio_blk_discard_write_zeroes seg;

	if (ro || c->out_len - BLK_HDR != BLK_SEG) {
		fail(cmd, VIRTIO_BLK_S_IOERR);
		return;
	}
	iov_copy_from(c->iov, c->nout, BLK_HDR, &seg, BLK_SEG);
	uint64_t sector = seg.sector;
	uint32_t num = seg.num_sectors, flags = seg.flags;
	uint64_t len = (uint64_t)num * BLK_SECTOR;
	if (num == 0 || num > BLK_MAX_DISCARD_SECTORS ||
	    !in_range(capacity, sector, len) ||
	    (flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
	    (!zeroes && flags)) {
		fail(cmd, VIRTIO_BLK_S_IOERR);
		return;
	}
	cmd->op = zeroes && !(flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ? BLK_OP_ZEROES :
							   BLK_OP_DISCARD;
	cmd->off = sector * BLK_SECTOR;
	cmd->len = len;
}

int blk_parse(const struct vq_chain *c, uint64_t capacity, bool readonly,
	      struct blk_cmd *cmd)
{
	struct virtio_blk_outhdr hdr;

	cmd->niov = 0;
	cmd->off = cmd->len = 0;
	if (c->nin == 0 || c->in_len == 0)
		return -1;
	const struct iovec *last = &c->iov[c->nout + c->nin - 1];
	cmd->status_byte = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (c->out_len < BLK_HDR) {
		fail(cmd, VIRTIO_BLK_S_IOERR);	/* no readable header */
		return 0;
	}
	iov_copy_from(c->iov, c->nout, 0, &hdr, BLK_HDR);
	uint32_t type = hdr.type;
	uint64_t sector = hdr.sector;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		parse_rw(c, capacity, readonly, type == VIRTIO_BLK_T_OUT, sector, cmd);
		break;
	case VIRTIO_BLK_T_FLUSH:
		cmd->op = BLK_OP_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (c->in_len - 1 < BLK_ID_BYTES) {
			fail(cmd, VIRTIO_BLK_S_IOERR);
			break;
		}
		cmd->op = BLK_OP_GET_ID;
		cmd->len = BLK_ID_BYTES;
		cmd->niov = iov_slice(c->iov + c->nout, c->nin, 0, BLK_ID_BYTES,
				      cmd->iov);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		parse_discard(c, capacity, readonly,
			      type == VIRTIO_BLK_T_WRITE_ZEROES, cmd);
		break;
	default:
		fail(cmd, VIRTIO_BLK_S_UNSUPP);
		break;
	}
	return 0;
}
