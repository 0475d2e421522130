/*
 * virtio-net's passt data path (net/passt.h): the guest's frames on a
 * stream socket, each as a 32-bit big-endian length and the Ethernet
 * frame, with no virtio-net header.  Same device, same io_uring as taps;
 * only IORING_OP_READ and IORING_OP_WRITEV, which the ring allows anyway
 * (vm/iothread.c), so the I/O thread needs no new system call.
 *
 * TX: the chains the guest queued are copied into a batch buffer, each
 * frame (after the 12-byte header, which is checked like on a tap and not
 * sent) behind its 4 length bytes, and go back to the guest at once; a
 * batch is one writev of one segment.  Why copy: the kernel's per-segment
 * cost of a writev of guest buffers (two segments a frame) was most of the
 * I/O thread's time for small frames (perf, 60 B frames: _copy_from_iter),
 * and the guest gets its buffers back before the write.  One write is in
 * flight at a time, so that frames never interleave, while the other of
 * two batches fills; a short write is resumed where it stopped.  Memory
 * is the two batches: when both are full, chains stay on the ring.
 *
 * RX: the stream is read into a host buffer of STREAM_RXBUF bytes and cut
 * into frames there (a frame may arrive over several reads); each frame
 * is copied into the guest's RX chains after a zeroed header (several
 * chains with MRG_RXBUF).  While the guest has no buffer for a complete
 * frame, nothing more is read: passt then finds its socket full, and
 * picovm's memory stays the one buffer.
 *
 * Waiting for room: asking for a kick at the guest's very next buffer
 * (avail_event = its avail index) made a guest that gives each buffer
 * back as it takes a frame kick for every one of them, once picovm was
 * ahead of it: picovm filled the one or two buffers each kick brought
 * and asked again (PICOVM_STATS on a 60-byte flood: one hold per 2
 * frames, 1-2 buffers new at each kick; each kick an exit of the vCPU
 * and a wake-up of this thread).  So with EVENT_IDX the kick is asked
 * for after as many new buffers as the guest was just handed (up to
 * STREAM_KICK_BATCH, a quarter of the ring; at least half the last
 * batch): a guest that gives buffers back as it takes frames gets there.
 * One that does not (it keeps some, or posts without kicking) is not
 * waited for: while a frame waits, the ring is looked at again after
 * STREAM_POLL_MIN_US, twice as long each time nothing came (up to
 * STREAM_POLL_MAX_US), back to the shortest once some did.  A guest
 * that posts one buffer at a time ends up asked for a kick per buffer
 * again, after a few such looks.  A length of 0, or above what the
 * device accepts (net.N.mtu + 14 + a VLAN tag), means the stream cannot
 * be trusted any more: the link goes down with one log line.  So does the
 * end of the stream (passt ended) or an error on it.  The socket is
 * closed when the VM stops.
 *
 * No offloads: the guest is offered no checksum or TSO features on this
 * backend (passt takes plain frames), so a header asking for any is
 * refused like a bad one on a tap.
 */
#include "netdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mmio.h"
#include "../vm/log.h"

#define STREAM_LEN 4			/* the length before each frame */
/* A batch: lengths and frames as they go on the stream.  Room for two
 * frames of the largest size, so that one always fits after another. */
#define STREAM_TX_BUF (160u << 10)
_Static_assert(STREAM_TX_BUF >= 2 * (STREAM_LEN + NET_MAX_FRAME),
	       "two frames of the largest size fit a TX batch");
/* Waiting for room in the guest (above).  A shorter first look (200 us
 * was tried) mostly found a guest whose vCPU had been descheduled, woke
 * this thread for nothing and shrank the batch: fewer frames a kick and
 * a lower host->guest rate (interleaved runs, 1514 B: 23.6k against
 * 35.5k frames/s median). */
#define STREAM_KICK_BATCH 32
#define STREAM_POLL_MIN_US 1000
#define STREAM_POLL_MAX_US 50000
#define STREAM_RXBUF (256u << 10)
_Static_assert(STREAM_RXBUF > STREAM_LEN + NET_MAX_FRAME,
	       "a whole frame fits the RX buffer");

struct tx_batch {
	size_t len;			/* bytes staged */
	size_t done;			/* of which written */
	unsigned frames;
	uint8_t buf[STREAM_TX_BUF];
};

struct net_stream {
	struct io_op rx_op, tx_op;
	struct vnet *v;
	uint32_t max_frame;		/* the largest frame the device takes */
	/* TX: tx[tx_fill] fills; while tx_busy, tx[tx_fill ^ 1] is being
	 * written (one write in flight at a time: frames stay in order). */
	bool tx_busy;
	unsigned tx_fill;
	struct iovec tx_iov;
	struct tx_batch tx[2];
	/* PICOVM_STATS */
	uint64_t tx_writes, tx_frames, tx_short, rx_reads, rx_frames;
	/* RX: the stream's bytes rx_off..rx_len, from a frame's start; the
	 * frames cut are not moved out until the next read (so a wait for
	 * room moves no bytes). */
	bool rx_busy;
	struct io_timer rx_timer;	/* a frame waits: look again */
	uint64_t rx_wait_us;		/* its next delay */
	unsigned rx_batch;		/* the kick was asked after this many */
	uint64_t rx_holds, rx_polls;	/* PICOVM_STATS: waits for room, looks */
	size_t rx_off, rx_len;
	uint8_t rx_buf[STREAM_RXBUF];
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- TX ---------------------------------------------------------------- */

/* Starts the write of batch b (or of the rest of it, after a short one). */
static void stream_tx_submit(struct net_stream *st, struct tx_batch *b)
{
	struct io_uring_sqe *sqe = io_sqe();

	st->tx_iov.iov_base = b->buf + b->done;
	st->tx_iov.iov_len = b->len - b->done;
	io_uring_prep_writev(sqe, st->v->passt.fd, &st->tx_iov, 1, 0);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &st->tx_op);
}

/* Counts the frames of b as dropped and empties it. */
static void stream_tx_drop(struct vnet *v, struct tx_batch *b)
{
	for (unsigned i = 0; i < b->frames; i++)
		COUNT(v->tx_dropped);
	b->len = b->done = 0;
	b->frames = 0;
}

/* Copies the guest's queued frames into the batch being filled, each
 * after its length, and returns their chains at once (nothing in flight
 * points into guest memory).  Stops when the ring is empty or the batch
 * has no room left for a frame of the largest size. */
static void stream_tx_stage(struct net_stream *st)
{
	struct vnet *v = st->v;
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_TX];
	struct tx_batch *b = &st->tx[st->tx_fill];
	uint8_t hdr[NET_HDR];
	uint16_t head[NET_QUEUE_MAX];
	unsigned n;

	do {
		n = 0;
		while (n < NET_QUEUE_MAX && virtio_live(d) && q->ready &&
		       !io_stopping() &&
		       b->len + STREAM_LEN + st->max_frame <= STREAM_TX_BUF) {
			if (virtio_pop(d, q, &v->chain) <= 0)
				break;
			struct vq_chain *c = &v->chain;
			uint64_t frame = c->out_len - (c->out_len >= NET_HDR ? NET_HDR : c->out_len);
			if (c->nin) {
				virtio_fail(d, "transmit buffer is device-writable");
				break;
			}
			head[n++] = c->head;
			if (c->out_len < NET_HDR + ETH_HLEN || frame > st->max_frame ||
			    v->link_lost) {
				COUNT(v->tx_dropped);	/* runt, giant, or no passt */
				continue;
			}
			iov_copy_from(c->iov, c->nout, 0, hdr, NET_HDR);
			if (!net_tx_header_ok(d, hdr, frame) ||
			    iov_copy_from(c->iov, c->nout, NET_HDR,
					  b->buf + b->len + STREAM_LEN, frame) != frame) {
				COUNT(v->tx_dropped);
				continue;
			}
			put_be32(b->buf + b->len, (uint32_t)frame);
			b->len += STREAM_LEN + (size_t)frame;
			b->frames++;
			st->tx_frames++;
		}
		/* Together, after the copies: the guest, polling its used
		 * ring, does not take each one while the next is read. */
		for (unsigned i = 0; i < n; i++)
			vq_push(q, head[i], 0);
		/* A full hand of chains: the ring may hold more (and kicks
		 * come back on only once a pop finds it empty). */
	} while (n == NET_QUEUE_MAX);
}

static void stream_tx_done(struct io_op *op, int res)
{
	struct net_stream *st = (struct net_stream *)((uint8_t *)op -
		offsetof(struct net_stream, tx_op));
	struct vnet *v = st->v;
	struct virtio_dev *d = v->dev;
	struct tx_batch *b = &st->tx[st->tx_fill ^ 1];	/* the one in flight */

	pthread_mutex_lock(&d->lock);
	if ((res == -EAGAIN || res == -EINTR) && !io_stopping()) {
		stream_tx_submit(st, b);	/* try again: nothing was written */
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (res > 0 && (size_t)res <= b->len - b->done) {
		b->done += (size_t)res;
		if (b->done < b->len && !io_stopping() && !v->link_lost) {
			st->tx_short++;
			stream_tx_submit(st, b);	/* a short write: the rest */
			pthread_mutex_unlock(&d->lock);
			return;
		}
	}
	if (b->done < b->len) {
		/* Part of a frame may be out: the stream is unusable. */
		if (res <= 0 && res != -ECANCELED)
			net_link_down(v, "writing to %s failed (%s)", v->passt.what,
				      res ? strerror(-res) : "nothing written");
		stream_tx_drop(v, b);
	} else {
		b->len = b->done = 0;
		b->frames = 0;
	}
	st->tx_busy = false;
	virtio_request_done(d);
	if (io_stopping() || v->link_lost)
		stream_tx_drop(v, &st->tx[st->tx_fill]);	/* staged, never sent */
	if (!io_stopping())
		stream_tx_process(v);	/* with the link down: drops what waits */
	pthread_mutex_unlock(&d->lock);
}

void stream_tx_process(struct vnet *v)
{
	struct net_stream *st = v->stream;
	struct virtio_dev *d = v->dev;

	for (;;) {
		stream_tx_stage(st);
		struct tx_batch *b = &st->tx[st->tx_fill];
		if (st->tx_busy || !b->len || io_stopping())
			break;
		/* One write in flight at a time keeps the frames in order;
		 * the other batch fills meanwhile. */
		st->tx_busy = true;
		st->tx_fill ^= 1;
		st->tx_writes++;
		virtio_request_begin(d);
		stream_tx_submit(st, b);
	}
	virtio_notify(d, &d->vq[NET_TX]);
}

/* ---- RX ---------------------------------------------------------------- */

/* Copies len bytes of src to offset off of the chain's writable part. */
static void chain_put(const struct vq_chain *c, uint64_t off, const void *src,
		      uint64_t len)
{
	iov_copy_to(c->iov + c->nout, c->nin, off, src, len);
}

/* Gives one frame to the guest: 1 when delivered or dropped (no chain can
 * ever hold it), 0 when the guest has no room for it yet, -1 when the
 * device failed. */
static int stream_deliver(struct vnet *v, const uint8_t *f, uint32_t len)
{
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_RX];
	struct vq_chain *c = &v->chain;
	bool merge = virtio_has(d, VIRTIO_NET_F_MRG_RXBUF);
	uint64_t need = NET_HDR + (uint64_t)len, done = 0;
	uint16_t head[VQ_MAX_SEGS];
	uint32_t used[VQ_MAX_SEGS];
	uint8_t *nbuf[2] = { NULL, NULL };	/* num_buffers, in the guest */
	unsigned n = 0;

	if (!virtio_live(d) || !q->ready || d->reset_pending)
		return 0;
	while (done < need && n < VQ_MAX_SEGS) {
		int r = virtio_pop(d, q, c);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (c->nout || c->in_len < NET_HDR) {
			virtio_fail(d, "receive buffer not writable or smaller "
				       "than the header");
			return -1;
		}
		if (!merge && c->in_len < need) {
			vq_unpop(q, c->head);	/* too small: the frame is dropped */
			COUNT(v->rx_dropped);
			return 1;
		}
		uint64_t take = c->in_len < need - done ? c->in_len : need - done;
		if (n == 0) {
			struct virtio_net_hdr_mrg_rxbuf h;
			memset(&h, 0, sizeof(h));
			h.num_buffers = 1;
			chain_put(c, 0, &h, NET_HDR);
			chain_put(c, NET_HDR, f, take - NET_HDR);
			/* Where num_buffers is, for more than one chain. */
			struct iovec one[2];
			for (unsigned b = 0; b < 2; b++)
				if (iov_slice(c->iov + c->nout, c->nin,
					      offsetof(struct virtio_net_hdr_mrg_rxbuf,
						       num_buffers) + b, 1, one) == 1)
					nbuf[b] = one[0].iov_base;
		} else {
			chain_put(c, 0, f + done - NET_HDR, take);
		}
		head[n] = c->head;
		used[n++] = (uint32_t)take;
		done += take;
	}
	if (done < need) {
		/* Not room enough yet: the chains go back untouched (in the
		 * order taken, last first) for when the guest adds more. */
		for (unsigned i = n; i > 0; i--)
			vq_unpop(q, head[i - 1]);
		if (n < VQ_MAX_SEGS)
			return 0;
		COUNT(v->rx_dropped);	/* more chains than a frame may take */
		return 1;
	}
	if (n > 1 && nbuf[0] && nbuf[1]) {
		*nbuf[0] = (uint8_t)n;
		*nbuf[1] = (uint8_t)(n >> 8);
	}
	for (unsigned i = 0; i < n; i++)
		vq_push(q, head[i], used[i]);
	return 1;
}

static void stream_rx_submit(struct net_stream *st)
{
	struct io_uring_sqe *sqe = io_sqe();

	st->rx_busy = true;
	st->rx_reads++;
	if (st->rx_off) {	/* less than a frame left: to the start */
		memmove(st->rx_buf, st->rx_buf + st->rx_off, st->rx_len - st->rx_off);
		st->rx_len -= st->rx_off;
		st->rx_off = 0;
	}
	io_uring_prep_read(sqe, st->v->passt.fd, st->rx_buf + st->rx_len,
			   (unsigned)(STREAM_RXBUF - st->rx_len), 0);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &st->rx_op);
}

/* Cuts the buffered stream into frames and delivers them: 1 when a
 * frame waits for room in the guest, 0 when all went (or the rest of one
 * is still to be read), -1 when the link went down or the device failed. */
static int stream_rx_cut(struct net_stream *st, bool *pushed)
{
	struct vnet *v = st->v;
	size_t off = st->rx_off;
	int ret = 0;

	while (st->rx_len - off >= STREAM_LEN) {
		uint32_t len = get_be32(st->rx_buf + off);
		if (len == 0 || len > st->max_frame) {
			net_link_down(v, "%s sent a frame length of %u; expected "
				      "1..%u (net.%u.mtu + 18), so the stream "
				      "cannot be trusted", v->passt.what, len,
				      st->max_frame, v->n);
			return -1;
		}
		if (st->rx_len - off < STREAM_LEN + (size_t)len)
			break;		/* the rest of it comes with a later read */
		int r = stream_deliver(v, st->rx_buf + off + STREAM_LEN, len);
		if (r <= 0) {
			ret = r < 0 ? -1 : 1;	/* no room (or a dead device) */
			break;
		}
		*pushed = true;
		st->rx_frames++;
		off += STREAM_LEN + len;
	}
	st->rx_off = off;
	return ret;
}

/* A frame waits for room and the guest was just handed took chains:
 * where to ask for its kick, and when to look again anyway (above).
 * Returns true when the guest has added the buffers meanwhile. */
static bool stream_rx_wait(struct net_stream *st, uint16_t took)
{
	struct virtio_dev *d = st->v->dev;
	struct vq *q = &d->vq[NET_RX];
	unsigned batch = q->num / 4 < STREAM_KICK_BATCH ? q->num / 4 : STREAM_KICK_BATCH;

	if (!q->ready || !virtio_live(d) || d->reset_pending || io_stopping() ||
	    !io_on_thread()) {
		io_timer_cancel(&st->rx_timer);
		return false;	/* a kick (or the reset's end) brings it back */
	}
	st->rx_holds++;
	if (took)
		st->rx_wait_us = STREAM_POLL_MIN_US;
	/* At most halved per wait: one look that found the guest between
	 * batches (or away) does not bring back a kick per buffer. */
	unsigned k = took > st->rx_batch / 2 ? took : st->rx_batch / 2;
	if (k > batch)
		k = batch;	/* the ring may be smaller since (a reset) */
	st->rx_batch = k;
	/* Below 2 the kick stays at the next buffer (virtio_pop). */
	if (k >= 2 && vq_enable_kicks_after(q, (uint16_t)k))
		return true;
	io_timer_arm(&st->rx_timer, st->rx_wait_us);
	return false;
}

void stream_rx_pump(struct vnet *v)
{
	struct net_stream *st = v->stream;
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_RX];
	bool pushed = false;
	uint16_t used0;
	int held;

	if (v->link_lost)
		return;
	do {
		used0 = q->used_idx;
		held = stream_rx_cut(st, &pushed);
		if (held < 0)
			return;
	} while (held && stream_rx_wait(st, (uint16_t)(q->used_idx - used0)));
	if (pushed)
		virtio_notify(d, &d->vq[NET_RX]);
	if (!held) {
		io_timer_cancel(&st->rx_timer);
		st->rx_wait_us = STREAM_POLL_MIN_US;
	}
	/* Read on only while no frame waits for the guest: backpressure. */
	if (!held && !st->rx_busy && !io_stopping())
		stream_rx_submit(st);
}

/* A frame has waited for room: look at the ring again. */
static void stream_rx_timer(void *arg)
{
	struct vnet *v = arg;
	struct net_stream *st = v->stream;

	pthread_mutex_lock(&v->dev->lock);
	st->rx_polls++;
	if (st->rx_wait_us < STREAM_POLL_MAX_US)
		st->rx_wait_us *= 2;	/* back to the shortest on progress */
	if (!io_stopping())
		stream_rx_pump(v);
	pthread_mutex_unlock(&v->dev->lock);
}

static void stream_rx_done(struct io_op *op, int res)
{
	struct net_stream *st = (struct net_stream *)((uint8_t *)op -
		offsetof(struct net_stream, rx_op));
	struct vnet *v = st->v;
	struct virtio_dev *d = v->dev;

	pthread_mutex_lock(&d->lock);
	st->rx_busy = false;
	if (res == -ECANCELED) {
		pthread_mutex_unlock(&d->lock);
		return;		/* stopping */
	}
	if (res > 0 && (size_t)res <= STREAM_RXBUF - st->rx_len)
		st->rx_len += (size_t)res;
	else if (res == 0 && st->rx_len > st->rx_off)
		net_link_down(v, "%s closed the connection in the middle of a "
			      "frame (%zu bytes of the stream unused)",
			      v->passt.what, st->rx_len - st->rx_off);
	else if (res == 0)
		net_link_down(v, "%s closed the connection (it ended?)",
			      v->passt.what);
	else if (res != -EAGAIN && res != -EINTR)
		net_link_down(v, "reading from %s failed (%s)", v->passt.what,
			      strerror(res < 0 ? -res : EIO));
	stream_rx_pump(v);
	pthread_mutex_unlock(&d->lock);
}

int stream_open(struct vnet *v)
{
	struct net_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	st->v = v;
	st->max_frame = v->cfg->mtu + ETH_HLEN + 4;
	st->rx_op.done = stream_rx_done;
	st->rx_timer.fn = stream_rx_timer;
	st->rx_timer.arg = v;
	st->rx_wait_us = STREAM_POLL_MIN_US;
	st->tx_op.done = stream_tx_done;
	v->stream = st;
	return 0;
}

void stream_stats(const struct vnet *v)
{
	const struct net_stream *st = v->stream;

	log_info("stats: net.%u: tx-frames=%llu tx-writes=%llu short-writes=%llu "
		 "rx-reads=%llu rx-frames=%llu rx-holds=%llu rx-polls=%llu link=%s", v->n,
		 (unsigned long long)st->tx_frames, (unsigned long long)st->tx_writes,
		 (unsigned long long)st->tx_short, (unsigned long long)st->rx_reads,
		 (unsigned long long)st->rx_frames, (unsigned long long)st->rx_holds,
		 (unsigned long long)st->rx_polls, v->link_lost ? "lost" : "up");
}

void stream_free(struct vnet *v)
{
	free(v->stream);
	v->stream = NULL;
}
