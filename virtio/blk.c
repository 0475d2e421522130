/*
 * virtio-blk (virtio 1.2 section 5.2) with all I/O on the I/O thread's
 * io_uring, straight between the image and guest memory.
 *
 * Request framing is not trusted: the header is the first 16 readable
 * bytes wherever the descriptors split them, the status is the last
 * writable byte, the data is what lies between.  Sector arithmetic is
 * overflow-checked against the capacity.  Read-only is enforced here,
 * whatever the guest negotiated.
 *
 * Durability: FLUSH is offered unless cache = unsafe and becomes an
 * fdatasync; a driver that does not ack FLUSH gets writethrough (every
 * write with RWF_DSYNC).  Writeback disks the guest changed are also
 * fdatasync'ed when the VM stops (one it never wrote to is not: the flush
 * of an unchanged image costs a device cache flush, hundreds of
 * microseconds, for nothing).
 */
#include "blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkreq.h"
#include "mmio.h"
#include "overlay.h"
#include "../config/config.h"
#include "virtio.h"
#include "../vm/log.h"
#include "../vm/machine.h"

/* A request is moved in chunks of at most BLK_CHUNK bytes, each one SQE,
 * with at most BLK_SLOTS chunks of a disk in flight.  Why: a buffered read
 * that finds its data in the page cache (or a hole) is copied inline by
 * io_uring_enter on the I/O thread, so one 2 GiB read used to hold every
 * other device for as long as the copy took; now a disk's backlog costs
 * the other devices at most BLK_SLOTS chunks per loop turn.  It also
 * bounds what a stopping VM waits for (BLK_SLOTS chunks, not gigabytes),
 * and a short transfer (one readv moves at most 0x7ffff000 bytes) is just
 * the rest of a chunk, submitted again. */
#define BLK_CHUNK (1ULL << 20)

#define SECTOR BLK_SECTOR
#define BLK_QUEUE_MAX 256
/* The configuration space through write_zeroes_may_unmap and its padding
 * (struct virtio_blk_config; later fields are not offered). */
#define BLK_CONFIG_SIZE (offsetof(struct virtio_blk_config, unused1) + \
			 sizeof(((struct virtio_blk_config *)0)->unused1))

struct blk_req {
	struct blk *b;
	struct blk_req *next_free;
	struct blk_req *next_queued;	/* waiting for chunk slots */
	bool queued;
	uint16_t head;
	uint8_t *status;
	enum blk_op op;
	uint64_t off;			/* READ/WRITE/DISCARD/ZEROES: bytes */
	uint64_t total, issued, moved;	/* bytes to move, handed out, moved */
	uint32_t used_len;		/* bytes written to the driver */
	unsigned pending;		/* chunks in flight */
	bool error;
	unsigned niov;
	struct iovec iov[VQ_MAX_SEGS];
};

/* One SQE's worth of a request: a slice of its buffers, or its one
 * FLUSH / fallocate. */
struct blk_chunk {
	struct io_op op;
	struct blk_req *r;
	struct blk_chunk *next_free;
	int fd;
	uint64_t at, len;		/* request offset and bytes still to move */
	unsigned niov;
	struct iovec iov[VQ_MAX_SEGS];
};

struct blk {
	const struct disk_config *cfg;
	unsigned n;			/* disk.N */
	struct virtio_dev *dev;
	int fd, fd_direct;		/* fd_direct: O_DIRECT, or -1 */
	int lock_fd;			/* holds the flock, never in the ring */
	uint64_t capacity;		/* sectors */
	bool ro, writethrough;
	bool changed;			/* a write, discard or write-zeroes was
					   submitted on fd (I/O thread; read at
					   the close, after the I/O stopped) */
	struct overlay *ovl;		/* ephemeral disks */
	int snap_data_fd, snap_bits_fd;	/* its files in snapshot.path, or -1 */
	struct virtio_blk_config config;
	char id[BLK_ID_BYTES];
	/* reqs[fresh..] were never handed out: their pages (about 4 KiB
	 * each, the iovec array) stay untouched zero pages until a guest
	 * keeps that many requests in flight; the free list (LIFO) hands
	 * out the ones already used first. */
	struct blk_req *reqs, *free;
	unsigned fresh;
	struct blk_req *queue, *queue_tail;	/* requests waiting for slots */
	/* chunks[chunk_fresh..] were never handed out: like the requests,
	 * each (about 4 KiB) stays an untouched zero page until a guest keeps
	 * that many chunks in flight. */
	struct blk_chunk chunks[BLK_SLOTS], *chunk_free;
	unsigned chunk_fresh;
	unsigned chunks_busy;
	bool starved;			/* ran out of requests mid-queue */
	struct vq_chain chain;		/* scratch for vq_pop */
};

static void blk_config_rw(struct virtio_dev *d, uint32_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct blk *b = d->priv;

	if (!is_write)
		memcpy(data, (const uint8_t *)&b->config + off, len);
	/* Nothing in the config is writable without CONFIG_WCE. */
}

static void blk_process(struct blk *b);
static void blk_issue(struct blk *b);

static void blk_finish(struct blk_req *r)
{
	struct blk *b = r->b;
	struct virtio_dev *d = b->dev;

	if (r->moved != r->total)
		r->error = true;	/* a transfer that could not complete */
	*r->status = r->error ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	if (r->error)
		r->used_len = 1;
	vq_push(&d->vq[0], r->head, r->used_len);
	virtio_notify(d, &d->vq[0]);
	r->next_free = b->free;
	b->free = r;
	virtio_request_done(d);
	if (b->starved && virtio_live(d)) {
		b->starved = false;
		blk_process(b);
	}
}

/* Finishes a request that needs no host I/O. */
static void blk_done_now(struct blk_req *r, uint8_t status)
{
	struct blk *b = r->b;
	struct virtio_dev *d = b->dev;

	*r->status = status;
	vq_push(&d->vq[0], r->head, status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	r->next_free = b->free;
	b->free = r;
	virtio_request_done(d);
}

static bool aligned_for_direct(const struct iovec *iov, unsigned n, uint64_t off)
{
	if (off % SECTOR)
		return false;
	for (unsigned i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % SECTOR || iov[i].iov_len % SECTOR)
			return false;
	return true;
}

/* Submits what is left of a READ/WRITE chunk: k->len bytes at k->at. */
static void chunk_submit_rw(struct blk_chunk *k)
{
	struct blk_req *r = k->r;
	struct blk *b = r->b;
	uint64_t off = r->off + k->at;
	int fd = k->fd;
	struct io_uring_sqe *sqe = io_sqe();

	k->niov = iov_slice(r->iov, r->niov, k->at, k->len, k->iov);
	if (b->fd_direct >= 0 && fd == b->fd && aligned_for_direct(k->iov, k->niov, off))
		fd = b->fd_direct;
	if (r->op == BLK_OP_WRITE) {
		__atomic_store_n(&b->changed, true, __ATOMIC_RELEASE);
		io_uring_prep_writev2(sqe, fd, k->iov, k->niov, off,
				      b->writethrough ? RWF_DSYNC : 0);
	} else
		io_uring_prep_readv(sqe, fd, k->iov, k->niov, off);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &k->op);
}

/* The one SQE of a FLUSH, DISCARD or WRITE_ZEROES. */
static void chunk_submit_other(struct blk_chunk *k)
{
	struct blk_req *r = k->r;
	struct blk *b = r->b;
	struct io_uring_sqe *sqe = io_sqe();

	if (r->op == BLK_OP_FLUSH) {
		/* Every write the driver has seen complete is in the page
		 * cache; fdatasync now covers them all. */
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	} else {
		int fd = b->fd, mode = FALLOC_FL_KEEP_SIZE |
			(r->op == BLK_OP_DISCARD ? FALLOC_FL_PUNCH_HOLE :
						   FALLOC_FL_ZERO_RANGE);
		if (b->ovl) {
			/* The range now reads as zeros, from the overlay. */
			overlay_mark(b->ovl, r->off, r->total);
			fd = overlay_fd(b->ovl);
			mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
		} else {
			__atomic_store_n(&b->changed, true, __ATOMIC_RELEASE);
		}
		io_uring_prep_fallocate(sqe, fd, mode, (off_t)r->off,
					(off_t)r->total);
		r->total = 0;	/* no bytes to count */
	}
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &k->op);
}

static void chunk_release(struct blk *b, struct blk_chunk *k)
{
	k->next_free = b->chunk_free;
	b->chunk_free = k;
	b->chunks_busy--;
}

static void chunk_done(struct io_op *op, int res)
{
	struct blk_chunk *k = (struct blk_chunk *)op;
	struct blk_req *r = k->r;
	struct blk *b = r->b;
	struct virtio_dev *d = b->dev;

	pthread_mutex_lock(&d->lock);
	if (res < 0) {
		r->error = true;
	} else if (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) {
		uint64_t got = (uint64_t)res < k->len ? (uint64_t)res : k->len;
		r->moved += got;
		k->at += got;
		k->len -= got;
		/* A short transfer: continue with the rest.  0 bytes means the
		 * image ended before the capacity (truncated under the VM):
		 * that is an error, never a retry. */
		if (k->len && got && !io_stopping()) {
			chunk_submit_rw(k);
			pthread_mutex_unlock(&d->lock);
			return;
		}
		if (k->len)
			r->error = true;
	}
	chunk_release(b, k);
	if (--r->pending == 0 && !r->queued)
		blk_finish(r);
	blk_issue(b);
	pthread_mutex_unlock(&d->lock);
}

static void blk_dequeue(struct blk *b)
{
	struct blk_req *r = b->queue;

	b->queue = r->next_queued;
	if (!b->queue)
		b->queue_tail = NULL;
	r->queued = false;
	if (r->pending == 0)
		blk_finish(r);
}

/* Hands chunk slots to the queued requests, oldest first.  A stopping VM
 * starts nothing new: what is not yet submitted is never acknowledged to
 * the guest, and the stop waits only for chunks in flight. */
static void blk_issue(struct blk *b)
{
	while (b->queue && !io_stopping()) {
		struct blk_req *r = b->queue;
		if (r->error || (r->total && r->issued == r->total)) {
			blk_dequeue(b);	/* nothing more to hand out */
			continue;
		}
		struct blk_chunk *k = b->chunk_free;
		if (k) {
			b->chunk_free = k->next_free;
		} else if (b->chunk_fresh < BLK_SLOTS) {
			k = &b->chunks[b->chunk_fresh++];
			k->op.done = chunk_done;
		} else {
			return;
		}
		b->chunks_busy++;
		k->r = r;
		r->pending++;
		if (r->op != BLK_OP_READ && r->op != BLK_OP_WRITE) {
			chunk_submit_other(k);
			r->issued = r->total;
			blk_dequeue(b);
			continue;
		}
		uint64_t left = r->total - r->issued;
		k->at = r->issued;
		k->len = left < BLK_CHUNK ? left : BLK_CHUNK;
		k->fd = b->fd;
		if (b->ovl && r->op == BLK_OP_WRITE) {
			k->fd = overlay_fd(b->ovl);
		} else if (b->ovl) {
			/* An ephemeral disk's read: each run of sectors from the
			 * overlay or the image, whichever holds its newest data. */
			enum overlay_layer w;
			k->len = overlay_run(b->ovl, r->off + k->at, k->len, &w);
			k->fd = w == OVERLAY_TOP ? overlay_fd(b->ovl) :
				w == OVERLAY_BASE ? overlay_base_fd(b->ovl) : b->fd;
		}
		r->issued += k->len;
		chunk_submit_rw(k);
	}
}

static void blk_request(struct blk *b, struct blk_req *r, const struct blk_cmd *cmd)
{
	r->pending = 0;
	r->total = r->issued = r->moved = 0;
	r->error = false;
	r->used_len = 1;
	r->status = cmd->status_byte;
	r->niov = cmd->niov;
	r->op = cmd->op;
	r->off = cmd->off;
	virtio_request_begin(b->dev);
	switch (cmd->op) {
	case BLK_OP_DONE:
		blk_done_now(r, cmd->status);
		return;
	case BLK_OP_GET_ID:
		iov_copy_to(r->iov, r->niov, 0, b->id, BLK_ID_BYTES);
		r->used_len = BLK_ID_BYTES + 1;
		blk_done_now(r, VIRTIO_BLK_S_OK);
		return;
	case BLK_OP_FLUSH:
		if (b->cfg->cache == DISK_CACHE_UNSAFE || b->ro || b->ovl) {
			blk_done_now(r, VIRTIO_BLK_S_OK);	/* nothing to make durable */
			return;
		}
		break;
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		r->used_len = cmd->op == BLK_OP_READ ? (uint32_t)(cmd->len + 1) : 1;
		r->total = cmd->len;
		if (b->ovl && cmd->op == BLK_OP_WRITE)
			overlay_mark(b->ovl, cmd->off, cmd->len);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_ZEROES:
		r->total = cmd->len;
		break;
	}
	r->queued = true;
	r->next_queued = NULL;
	if (b->queue_tail)
		b->queue_tail->next_queued = r;
	else
		b->queue = r;
	b->queue_tail = r;
	blk_issue(b);
}

static void blk_process(struct blk *b)
{
	struct virtio_dev *d = b->dev;
	struct vq *q = &d->vq[0];

	while (virtio_live(d)) {
		if (!b->free && b->fresh < BLK_QUEUE_MAX) {
			struct blk_req *r = &b->reqs[b->fresh++];
			r->b = b;
			b->free = r;
		}
		if (!b->free) {
			b->starved = true;	/* resumes in blk_finish */
			break;
		}
		if (virtio_pop(d, q, &b->chain) <= 0)
			break;
		struct blk_req *req = b->free;
		struct blk_cmd cmd = { .iov = req->iov };
		if (blk_parse(&b->chain, b->capacity, b->ro, &cmd) < 0) {
			virtio_fail(d, "request without a writable status byte");
			break;
		}
		b->free = req->next_free;
		req->head = b->chain.head;
		blk_request(b, req, &cmd);
	}
	virtio_notify(d, q);
}

static void blk_kick(struct virtio_dev *d, unsigned q)
{
	(void)q;
	blk_process(d->priv);
}

static void blk_activate(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	b->writethrough = b->cfg->cache != DISK_CACHE_UNSAFE &&
			  !virtio_has(d, VIRTIO_BLK_F_FLUSH);
}

static void blk_reset(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	b->starved = false;
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.queue_max = BLK_QUEUE_MAX,
	.config_size = BLK_CONFIG_SIZE,
	.config_rw = blk_config_rw,
	.queue_kick = blk_kick,
	.activate = blk_activate,
	.reset = blk_reset,
};

static int blk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size);
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Opens a disk image or block device: O_NONBLOCK for the open only (a
 * FIFO must not hang it), then the type is checked and O_NONBLOCK cleared
 * (io_uring would answer EAGAIN instead of waiting on a non-blocking
 * file).  Returns the descriptor, or -1 with errno set (EINVAL: wrong
 * type). */
static int open_disk(const char *path, int flags)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int fl;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	return fd;
fail:
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}

static void blk_close(void *opaque);

static void *blk_open(const struct config *c, unsigned n)
{
	const struct disk_config *dc = &c->disk[n];
	struct blk *b = calloc(1, sizeof(*b));
	bool writes = !dc->readonly && !dc->ephemeral;
	uint64_t size;

	if (!b)
		return NULL;
	b->cfg = dc;
	b->n = n;
	b->ro = dc->readonly;
	b->fd_direct = -1;
	b->snap_data_fd = b->snap_bits_fd = -1;
	b->lock_fd = -1;
	b->fd = open_disk(dc->path, writes ? O_RDWR : O_RDONLY);
	if (b->fd < 0) {
		log_err("%s: disk.%u.path: cannot open %s: %s", c->file, n,
			dc->path, errno == EINVAL ? "not a regular file or "
			"block device" : strerror(errno));
		goto fail;
	}
	/* One writer per image: a second picovm (or any flock user) writing
	 * the same file would corrupt it.  The lock lives on a descriptor of
	 * its own: the I/O descriptors are also held by the io_uring ring,
	 * which the kernel releases only some time after picovm is gone
	 * (even after kill -9); this one goes with the process. */
	b->lock_fd = open_disk(dc->path, O_RDONLY);
	if (b->lock_fd < 0 ||
	    flock(b->lock_fd, (writes ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		log_err("%s: disk.%u.path: %s is in use by another process (it "
			"holds a lock on it)", c->file, n, dc->path);
		goto fail;
	}
	if (blk_size(b->fd, &size) < 0) {
		log_err("%s: disk.%u.path: %s: not a regular file or block "
			"device", c->file, n, dc->path);
		goto fail;
	}
	if (size == 0 || size % SECTOR) {
		log_err("%s: disk.%u.path: %s is %llu bytes; a disk image must be "
			"a non-zero multiple of 512 bytes", c->file, n, dc->path,
			(unsigned long long)size);
		goto fail;
	}
	b->capacity = size / SECTOR;
	if (dc->direct) {
		b->fd_direct = open_disk(dc->path, (writes ? O_RDWR : O_RDONLY) |
						   O_DIRECT);
		if (b->fd_direct < 0) {
			log_err("%s: disk.%u.direct: %s does not support O_DIRECT: "
				"%s", c->file, n, dc->path, strerror(errno));
			goto fail;
		}
	}
	if (dc->ephemeral) {
		b->ovl = overlay_create(size);
		if (!b->ovl) {
			log_err("%s: disk.%u.ephemeral: cannot create the overlay: "
				"%s", c->file, n, strerror(errno));
			goto fail;
		}
	}
	memset(b->id, 0, sizeof(b->id));
	if (dc->serial)
		memcpy(b->id, dc->serial, strnlen(dc->serial, BLK_ID_BYTES));
	b->reqs = calloc(BLK_QUEUE_MAX, sizeof(*b->reqs));
	if (!b->reqs)
		goto fail;
	return b;
fail:
	blk_close(b);
	return NULL;
}

static void blk_arm(struct blk *b)
{
	io_file(b->fd);
	if (b->fd_direct >= 0)
		io_file(b->fd_direct);
	if (b->ovl)
		io_file(overlay_fd(b->ovl));
	if (b->ovl && overlay_base_fd(b->ovl) >= 0)
		io_file(overlay_base_fd(b->ovl));
	virtio_mmio_arm(b->dev);
}

static int blk_attach(void *opaque, struct machine *m, unsigned index)
{
	struct blk *b = opaque;
	uint64_t f = BIT64(VIRTIO_RING_F_EVENT_IDX) |
		     BIT64(VIRTIO_RING_F_INDIRECT_DESC) |
		     BIT64(VIRTIO_BLK_F_SEG_MAX) | BIT64(VIRTIO_BLK_F_BLK_SIZE) |
		     BIT64(VIRTIO_BLK_F_DISCARD) | BIT64(VIRTIO_BLK_F_WRITE_ZEROES);

	if (b->cfg->cache != DISK_CACHE_UNSAFE)
		f |= BIT64(VIRTIO_BLK_F_FLUSH);
	if (b->ro)
		f |= BIT64(VIRTIO_BLK_F_RO);
	/* Little-endian fields on a little-endian host. */
	b->config = (struct virtio_blk_config){
		.capacity = b->capacity,
		.seg_max = VQ_MAX_SEGS - 2,	/* header and status */
		.blk_size = (uint32_t)SECTOR,
		.max_discard_sectors = BLK_MAX_DISCARD_SECTORS,
		.max_discard_seg = 1,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = BLK_MAX_DISCARD_SECTORS,
		.max_write_zeroes_seg = 1,
		.write_zeroes_may_unmap = 1,
	};
	b->dev = virtio_mmio_create(m, index, &blk_ops, b, f);
	if (!b->dev)
		return -1;
	blk_arm(b);
	return 0;
}

static unsigned blk_busy(void *opaque)
{
	struct blk *b = opaque;

	pthread_mutex_lock(&b->dev->lock);
	unsigned n = b->chunks_busy;
	pthread_mutex_unlock(&b->dev->lock);
	return n;
}

static void blk_close(void *opaque)
{
	struct blk *b = opaque;

	if (!b)
		return;
	if (b->dev && b->fd >= 0 && !b->ro && !b->ovl &&
	    b->cfg->cache != DISK_CACHE_UNSAFE &&
	    __atomic_load_n(&b->changed, __ATOMIC_ACQUIRE) && fdatasync(b->fd) < 0)
		log_err("disk.%u: fdatasync at exit failed: %s", b->n, strerror(errno));
	if (b->fd >= 0)
		close(b->fd);
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	if (b->fd_direct >= 0)
		close(b->fd_direct);
	if (b->snap_data_fd >= 0)
		close(b->snap_data_fd);
	if (b->snap_bits_fd >= 0)
		close(b->snap_bits_fd);
	overlay_destroy(b->ovl);
	virtio_mmio_destroy(b->dev);
	free(b->reqs);
	free(b);
}

/* A disk's snapshot state: the transport's, the disk's size, which the
 * guest has seen (a restore with a disk of another size is refused), and
 * whether it is ephemeral: its overlay is then saved beside the state,
 * in disk.N.overlay (the sectors, sparse) and disk.N.bitmap. */
struct blk_state {
	struct virtio_mmio_state t;
	uint64_t capacity;
	uint32_t ephemeral, pad;
};
_Static_assert(sizeof(struct blk_state) <= VDEV_STATE_MAX, "blk_state");

static int blk_save(void *opaque, uint8_t *buf, const char **why)
{
	struct blk *b = opaque;
	struct blk_state s;

	int ret = virtio_mmio_save(b->dev, &s.t, why);
	if (ret < 0)
		return ret;
	s.capacity = b->capacity;
	s.ephemeral = b->ovl != NULL;
	s.pad = 0;
	memcpy(buf, &s, sizeof(s));
	return (int)sizeof(s);
}

/* The overlay's two files in a snapshot folder: "disk.N.overlay",
 * "disk.N.bitmap"; -1 after printing. */
static int ovl_files(const struct blk *b, int dir_fd, int flags, int fds[2],
		     const char *what)
{
	static const char *const kind[2] = { "overlay", "bitmap" };
	char name[32];

	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "disk.%u.%s", b->n, kind[i]);
		fds[i] = openat(dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fds[i] < 0) {
			log_err("%s: disk.%u: cannot open %s: %s", what, b->n, name,
				strerror(errno));
			if (i)
				close(fds[0]);
			return -1;
		}
	}
	return 0;
}

static int blk_snap_open(void *opaque, int dir_fd)
{
	struct blk *b = opaque;
	int fds[2];

	if (!b->ovl)
		return 0;
	if (ovl_files(b, dir_fd, O_RDWR | O_CREAT, fds, "snapshot.path") < 0)
		return -1;
	b->snap_data_fd = fds[0];
	b->snap_bits_fd = fds[1];
	/* The saved layer this VM reads (a restore) is never written. */
	struct stat a, o;
	int base = overlay_base_fd(b->ovl);
	if (base >= 0 && fstat(base, &a) == 0 && fstat(fds[0], &o) == 0 &&
	    a.st_dev == o.st_dev && a.st_ino == o.st_ino) {
		log_err("snapshot.path: disk.%u.overlay is the saved overlay this "
			"VM was restored from; expected another folder", b->n);
		return -1;
	}
	return 0;
}

static int blk_save_files(void *opaque)
{
	struct blk *b = opaque;

	if (b->ovl && overlay_save(b->ovl, b->snap_data_fd, b->snap_bits_fd) < 0) {
		log_err("snapshot: disk.%u: writing its overlay: %s", b->n,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int blk_restore_open(void *opaque, int dir_fd)
{
	struct blk *b = opaque;
	const char *why;
	int fds[2];

	if (!b->ovl)
		return 0;
	if (ovl_files(b, dir_fd, O_RDONLY, fds, "restore") < 0)
		return -1;
	if (overlay_set_base(b->ovl, fds[0], fds[1], &why) < 0) {
		log_err("restore: disk.%u: %s", b->n, why);
		return -1;
	}
	return 0;
}

static int blk_restore(void *opaque, const uint8_t *buf, size_t len)
{
	struct blk *b = opaque;
	struct blk_state s;
	const char *why = NULL;

	if (len != sizeof(s)) {
		log_err("restore: disk.%u: %zu bytes of state, expected %zu",
			b->n, len, sizeof(s));
		return -1;
	}
	memcpy(&s, buf, sizeof(s));
	if (s.capacity != b->capacity) {
		log_err("restore: disk.%u: %s is %llu bytes; the guest saw a "
			"disk of %llu bytes", b->n, b->cfg->path,
			(unsigned long long)(b->capacity * SECTOR),
			(unsigned long long)(s.capacity * SECTOR));
		return -1;
	}
	if (s.ephemeral != (b->ovl != NULL) || s.pad) {
		log_err("restore: disk.%u: the state says the disk is %s, the "
			"configuration that it is %s", b->n,
			s.ephemeral ? "ephemeral" : "not ephemeral",
			b->ovl ? "ephemeral" : "not");
		return -1;
	}
	if (virtio_mmio_restore(b->dev, &s.t, &why) < 0) {
		log_err("restore: disk.%u: %s", b->n, why);
		return -1;
	}
	return 0;
}

const struct vdev_ops blk_vdev = {
	.name = "disk",
	.checked = true,
	.open = blk_open,
	.attach = blk_attach,
	.busy = blk_busy,
	.close = blk_close,
	.save = blk_save,
	.save_files = blk_save_files,
	.snap_open = blk_snap_open,
	.restore_open = blk_restore_open,
	.restore = blk_restore,
};
