/*
 * virtio-net's passt data path (net/passt.h): the guest's frames on a
 * stream socket, each as a 32-bit big-endian length and the Ethernet
 * frame, with no virtio-net header.  Same device, same io_uring as taps;
 * only IORING_OP_READ and IORING_OP_WRITEV, which the ring allows anyway
 * (vm/iothread.c), so the I/O thread needs no new system call.
 *
 * TX: the chains the guest queued are gathered into one writev (up to
 * STREAM_TX_BATCH frames, each its 4 length bytes and its frame straight
 * from guest memory after the 12-byte header, which is checked like on a
 * tap and not sent).  One writev is in flight at a time, so that frames
 * never interleave; a short write is resumed where it stopped.  The
 * chains go back to the guest once all of their bytes are written.
 *
 * RX: the stream is read into a host buffer of STREAM_RXBUF bytes and cut
 * into frames there (a frame may arrive over several reads); each frame
 * is copied into the guest's RX chains after a zeroed header (several
 * chains with MRG_RXBUF).  While the guest has no buffer for a complete
 * frame, nothing more is read: passt then finds its socket full, and
 * picovm's memory stays the one buffer.  A length of 0, or above what the
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

#define STREAM_TX_BATCH 64
#define STREAM_TX_IOV 1024		/* IOV_MAX */
#define STREAM_LEN 4			/* the length before each frame */
#define STREAM_RXBUF (256u << 10)
_Static_assert(STREAM_RXBUF > STREAM_LEN + NET_MAX_FRAME,
	       "a whole frame fits the RX buffer");

struct net_stream {
	struct io_op rx_op, tx_op;
	struct vnet *v;
	uint32_t max_frame;		/* the largest frame the device takes */
	/* TX: one writev in flight (tx_busy), of tx_n chains. */
	bool tx_busy;
	unsigned tx_n, tx_niov, tx_first;
	uint64_t tx_left;		/* bytes of the writev not yet written */
	uint64_t tx_short;		/* short writes resumed (PICOVM_STATS) */
	uint16_t tx_head[STREAM_TX_BATCH];
	uint8_t tx_len[STREAM_TX_BATCH][STREAM_LEN];
	struct iovec tx_iov[STREAM_TX_IOV];
	/* RX: rx_len bytes of the stream, from a frame's start. */
	bool rx_busy;
	size_t rx_len;
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

static void stream_tx_submit(struct net_stream *st)
{
	struct io_uring_sqe *sqe = io_sqe();

	io_uring_prep_writev(sqe, st->v->passt.fd, st->tx_iov + st->tx_first,
			     st->tx_niov - st->tx_first, 0);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &st->tx_op);
}

/* Drops what res bytes of the writev covered; true when all is written. */
static bool stream_tx_advance(struct net_stream *st, uint64_t res)
{
	st->tx_left -= res;
	while (res && st->tx_first < st->tx_niov) {
		struct iovec *io = &st->tx_iov[st->tx_first];
		uint64_t k = res < io->iov_len ? res : io->iov_len;
		io->iov_base = (uint8_t *)io->iov_base + k;
		io->iov_len -= k;
		res -= k;
		if (!io->iov_len)
			st->tx_first++;
	}
	while (st->tx_first < st->tx_niov && !st->tx_iov[st->tx_first].iov_len)
		st->tx_first++;
	return st->tx_left == 0;
}

static void stream_tx_done(struct io_op *op, int res)
{
	struct net_stream *st = (struct net_stream *)((uint8_t *)op -
		offsetof(struct net_stream, tx_op));
	struct vnet *v = st->v;
	struct virtio_dev *d = v->dev;

	pthread_mutex_lock(&d->lock);
	if ((res == -EAGAIN || res == -EINTR) && !io_stopping()) {
		stream_tx_submit(st);	/* try again: nothing was written */
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (res > 0 && (uint64_t)res <= st->tx_left &&
	    !stream_tx_advance(st, (uint64_t)res) && !io_stopping() && !v->link_lost) {
		st->tx_short++;
		stream_tx_submit(st);	/* a short write: the rest */
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (res <= 0) {
		/* Part of a frame may be out: the stream is unusable. */
		for (unsigned i = 0; i < st->tx_n; i++)
			COUNT(v->tx_dropped);
		if (res != -ECANCELED)
			net_link_down(v, "writing to %s failed (%s)", v->passt.what,
				      res ? strerror(-res) : "nothing written");
	}
	for (unsigned i = 0; i < st->tx_n; i++)
		vq_push(&d->vq[NET_TX], st->tx_head[i], 0);
	st->tx_n = st->tx_niov = st->tx_first = 0;
	st->tx_left = 0;
	st->tx_busy = false;
	virtio_request_done(d);
	virtio_notify(d, &d->vq[NET_TX]);
	if (virtio_live(d))
		stream_tx_process(v);
	pthread_mutex_unlock(&d->lock);
}

void stream_tx_process(struct vnet *v)
{
	struct net_stream *st = v->stream;
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_TX];
	uint8_t hdr[NET_HDR];

	if (st->tx_busy)
		return;		/* its completion comes back here */
	while (virtio_live(d) && q->ready && !io_stopping() &&
	       st->tx_n < STREAM_TX_BATCH &&
	       st->tx_niov + 1 + VQ_MAX_SEGS <= STREAM_TX_IOV) {
		if (virtio_pop(d, q, &v->chain) <= 0)
			break;
		struct vq_chain *c = &v->chain;
		uint64_t frame = c->out_len - (c->out_len >= NET_HDR ? NET_HDR : c->out_len);
		if (c->nin) {
			virtio_fail(d, "transmit buffer is device-writable");
			break;
		}
		if (c->out_len < NET_HDR + ETH_HLEN || frame > st->max_frame ||
		    v->link_lost) {
			COUNT(v->tx_dropped);	/* runt, giant, or no passt */
			vq_push(q, c->head, 0);
			continue;
		}
		iov_copy_from(c->iov, c->nout, 0, hdr, NET_HDR);
		if (!net_tx_header_ok(d, hdr, frame)) {
			COUNT(v->tx_dropped);
			vq_push(q, c->head, 0);
			continue;
		}
		unsigned k = st->tx_n++;
		st->tx_head[k] = c->head;
		put_be32(st->tx_len[k], (uint32_t)frame);
		st->tx_iov[st->tx_niov++] = (struct iovec){ st->tx_len[k], STREAM_LEN };
		st->tx_niov += iov_slice(c->iov, c->nout, NET_HDR, frame,
					 st->tx_iov + st->tx_niov);
		st->tx_left += STREAM_LEN + frame;
	}
	if (st->tx_n) {
		st->tx_busy = true;
		virtio_request_begin(d);
		stream_tx_submit(st);
	}
	virtio_notify(d, q);
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
	io_uring_prep_read(sqe, st->v->passt.fd, st->rx_buf + st->rx_len,
			   (unsigned)(STREAM_RXBUF - st->rx_len), 0);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &st->rx_op);
}

void stream_rx_pump(struct vnet *v)
{
	struct net_stream *st = v->stream;
	struct virtio_dev *d = v->dev;
	size_t off = 0;
	bool held = false, pushed = false;

	if (v->link_lost)
		return;
	while (st->rx_len - off >= STREAM_LEN) {
		uint32_t len = get_be32(st->rx_buf + off);
		if (len == 0 || len > st->max_frame) {
			net_link_down(v, "%s sent a frame length of %u; expected "
				      "1..%u (net.%u.mtu + 18), so the stream "
				      "cannot be trusted", v->passt.what, len,
				      st->max_frame, v->n);
			return;
		}
		if (st->rx_len - off < STREAM_LEN + (size_t)len)
			break;		/* the rest of it comes with a later read */
		int r = stream_deliver(v, st->rx_buf + off + STREAM_LEN, len);
		if (r <= 0) {
			held = true;	/* no room in the guest (or a dead device) */
			break;
		}
		pushed = true;
		off += STREAM_LEN + len;
	}
	if (off) {
		memmove(st->rx_buf, st->rx_buf + off, st->rx_len - off);
		st->rx_len -= off;
	}
	if (pushed)
		virtio_notify(d, &d->vq[NET_RX]);
	/* Read on only while no frame waits for the guest: backpressure. */
	if (!held && !st->rx_busy && !io_stopping())
		stream_rx_submit(st);
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
	else if (res == 0 && st->rx_len)
		net_link_down(v, "%s closed the connection in the middle of a "
			      "frame (%zu bytes of the stream unused)",
			      v->passt.what, st->rx_len);
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
	st->tx_op.done = stream_tx_done;
	v->stream = st;
	return 0;
}

uint64_t stream_short_writes(const struct vnet *v)
{
	return v->stream ? v->stream->tx_short : 0;
}

void stream_free(struct vnet *v)
{
	free(v->stream);
	v->stream = NULL;
}
