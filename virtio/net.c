/*
 * virtio-net (virtio 1.2 section 5.1): one RX/TX queue pair on a tap,
 * or on passt (net/passt.h; its data path is netstream.c, the device and
 * its registers are the same).  Below, the tap's data path.
 *
 * TX: each chain is written to the tap with one writev straight from
 * guest memory; only the 12-byte virtio-net header is copied, so that what
 * was validated is what the host kernel sees.  Frames shorter than a
 * header plus an Ethernet header, longer than 64 KiB plus the header, or
 * with GSO/checksum fields the guest did not negotiate or that point
 * outside the frame, are dropped (and counted), never passed on.
 *
 * RX: reads go from the tap straight into the guest's posted buffers, and
 * only while there are buffers; with none, frames wait in the tap (which
 * drops them when its queue is full) and reading resumes on the next RX
 * kick.  With MRG_RXBUF one read spans several chains; the ones it did
 * not need are given back (the split ring allows that while no later
 * chain has been taken).  Each tap read returns one frame.  Without
 * MRG_RXBUF reads go in rounds, started once per batch of completions:
 * one read that may wait for the tap, then up to NET_RX_INFLIGHT - 1 with
 * RWF_NOWAIT, which end at once with -EAGAIN when the tap has no frame
 * left (their chains stay with their slots for the next round).  So one
 * io_uring_enter harvests up to a round of frames, and only one read ever
 * waits on the tap: reads that all waited would all be woken by each
 * frame, and all but one would find nothing.
 *
 * Kicks: each guest kick is a VM exit (about 20-40 us on this project's
 * nested test machines).  With the RX ring dry, virtio_pop() asks for a
 * kick at the guest's next buffer; a driver that gives buffers back one
 * per frame received then kicks once per frame while the device keeps up.
 * With EVENT_IDX the device asks for its kick only after rx_batch buffers
 * instead (at most a quarter of the ring).  A tap read in flight looks at
 * the ring again when it completes; with none, an I/O-thread timer
 * (NET_RX_WAIT_US) bounds the wait for a driver that posts fewer: it takes
 * what is there, and later batches are smaller.  The guest's interrupt
 * suppression (NO_INTERRUPT, used_event) decides interrupts as before,
 * once per batch of completions (virtio_flush).
 *
 * Link loss: a tap deleted under the VM answers every read and write
 * with EBADFD (a detached tun file; EIO/ENODEV/ENXIO are taken the same
 * way).  The device then logs it once, clears VIRTIO_NET_S_LINK_UP with a
 * config interrupt, stops reading and drops what the guest transmits.
 * The VM keeps running; a deleted tap never comes back on this
 * descriptor, so there is nothing to retry.
 *
 * Snapshots (net_save): the tap side is made quiet first.  The device
 * stops starting tap reads (held) and cancels those pending; a read that
 * completes instead delivers its frame to the guest as usual, so no frame
 * is ever read from the tap without being in guest memory and the used
 * ring.  Transmits in flight finish (the vCPUs are parked: no new ones).
 * Frames the tap holds, or that arrive while held, stay in the tap: this
 * VM reads them if it runs on (net_resume), they go with its tap when it
 * stops.  A restore reads its own tap (net.N.tap/fd/bridge may differ);
 * saved: the transport, the configuration space (MAC, MTU, link status).
 */
#include "net.h"
#include "netdev.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mmio.h"
#include "../config/config.h"
#include "virtio.h"
#include "../net/tap.h"
#include "../vm/log.h"
#include "../vm/machine.h"

static bool tap_gone(int res)
{
	return res == -EBADFD || res == -EIO || res == -ENODEV || res == -ENXIO;
}

void net_link_down(struct vnet *v, const char *fmt, ...)
{
	struct virtio_dev *d = v->dev;
	char why[200];
	va_list ap;

	if (v->link_lost)
		return;
	v->link_lost = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_err("net.%u: %s; link down, the guest's frames are dropped from now "
		"on", v->n, why);
	v->config.status = 0;
	d->config_generation++;
	virtio_interrupt(d, VIRTIO_MMIO_INT_CONFIG);
}

/* The tap went away (see the top of this file); with d->lock held. */
static void net_link_lost(struct vnet *v, int res)
{
	net_link_down(v, "the tap %s is gone (%s)", v->tap.name, strerror(-res));
}

bool net_tx_header_ok(struct virtio_dev *d, const uint8_t *h, uint64_t frame)
{
	struct virtio_net_hdr hdr;

	memcpy(&hdr, h, sizeof(hdr));
	uint8_t flags = hdr.flags, gso = hdr.gso_type;
	uint16_t hdr_len = hdr.hdr_len, gso_size = hdr.gso_size,
		 csum_start = hdr.csum_start, csum_offset = hdr.csum_offset;
	if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!virtio_has(d, VIRTIO_NET_F_CSUM) ||
		    (uint64_t)csum_start + csum_offset + 2 > frame)
			return false;
	}
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(gso & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!virtio_has(d, VIRTIO_NET_F_HOST_TSO4))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!virtio_has(d, VIRTIO_NET_F_HOST_TSO6))
			return false;
		break;
	default:
		return false;
	}
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !virtio_has(d, VIRTIO_NET_F_HOST_ECN))
		return false;
	/* A GSO frame must need a checksum and have a sane segment size. */
	return (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && gso_size > 0 && hdr_len <= frame;
}

static void net_tx_process(struct vnet *v);

static void net_tx_done(struct io_op *op, int res)
{
	struct net_tx *t = (struct net_tx *)op;
	struct vnet *v = t->v;
	struct virtio_dev *d = v->dev;

	pthread_mutex_lock(&d->lock);
	if (res < 0)
		COUNT(v->tx_dropped);	/* the tap refused it: dropped, as on a wire */
	if (tap_gone(res))
		net_link_lost(v, res);
	vq_push(&d->vq[NET_TX], t->head, 0);
	t->next_free = v->tx_free;
	v->tx_free = t;
	virtio_request_done(d);
	virtio_notify(d, &d->vq[NET_TX]);
	if (v->tx_starved && virtio_live(d)) {
		v->tx_starved = false;
		net_tx_process(v);
	}
	pthread_mutex_unlock(&d->lock);
}

static void net_tx_process(struct vnet *v)
{
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_TX];

	while (virtio_live(d) && q->ready && !io_stopping()) {
		if (!v->tx_free && v->tx_fresh < NET_TX_INFLIGHT) {
			struct net_tx *f = &v->tx[v->tx_fresh++];
			f->op.done = net_tx_done;
			f->v = v;
			v->tx_free = f;
		}
		if (!v->tx_free) {
			v->tx_starved = true;
			break;
		}
		if (virtio_pop(d, q, &v->chain) <= 0)
			break;
		struct vq_chain *c = &v->chain;
		uint64_t frame = c->out_len - (c->out_len >= NET_HDR ? NET_HDR : c->out_len);
		struct net_tx *t = v->tx_free;
		if (c->nin) {
			virtio_fail(d, "transmit buffer is device-writable");
			break;
		}
		if (c->out_len < NET_HDR + ETH_HLEN || frame > NET_MAX_FRAME ||
		    v->link_lost) {
			COUNT(v->tx_dropped);	/* runt, giant, or no tap */
			vq_push(q, c->head, 0);
			continue;
		}
		iov_copy_from(c->iov, c->nout, 0, t->hdr, NET_HDR);
		if (!net_tx_header_ok(d, t->hdr, frame)) {
			COUNT(v->tx_dropped);
			vq_push(q, c->head, 0);
			continue;
		}
		v->tx_free = t->next_free;
		t->head = c->head;
		t->iov[0] = (struct iovec){ t->hdr, NET_HDR };
		t->niov = 1 + iov_slice(c->iov, c->nout, NET_HDR, frame, t->iov + 1);
		struct io_uring_sqe *sqe = io_sqe();
		io_uring_prep_writev(sqe, v->tap.fd, t->iov, t->niov, 0);
		io_fix(sqe);
		io_uring_sqe_set_data(sqe, &t->op);
		virtio_request_begin(d);
	}
	virtio_notify(d, q);
}

static void net_rx_post(struct vnet *v);

static uint64_t net_rx_bit(const struct vnet *v, const struct net_rx *rx)
{
	return 1ULL << (rx - v->rx);
}

static void net_rx_done(struct io_op *op, int res)
{
	struct net_rx *rx = (struct net_rx *)op;
	struct vnet *v = rx->v;
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_RX];
	unsigned used = 0;

	pthread_mutex_lock(&d->lock);
	v->rx_busy &= ~net_rx_bit(v, rx);
	if (rx->waits) {
		rx->waits = false;
		v->rx_waiting_read = false;
	} else if (res > 0) {
		v->rx_round_got++;
	}
	io_flush_later(&v->rx_flush);
	/* A RWF_NOWAIT read that found the tap empty keeps its chains for
	 * the next read (a reset forgets them). */
	if (res == -EAGAIN && !virtio_has(d, VIRTIO_NET_F_MRG_RXBUF)) {
		v->rx_round_dry = true;
		v->rx_empty++;
		virtio_request_done(d);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	uint64_t posted = 0;
	for (unsigned i = 0; i < rx->nchains; i++)
		posted += rx->len[i];
	if (res > 0 && (uint64_t)res > posted) {
		COUNT(v->rx_dropped);	/* larger than the buffers: dropped whole */
		res = -EMSGSIZE;
	} else if (res < 0 && res != -EAGAIN && res != -ECANCELED) {
		COUNT(v->rx_dropped);
		if (tap_gone(res))
			net_link_lost(v, res);
	}
	if (res >= NET_HDR && q->ready && !d->reset_pending) {
		/* Hand out the chains the frame filled, in order. */
		uint64_t left = (uint64_t)res;
		while (left && used < rx->nchains) {
			uint64_t k = left < rx->len[used] ? left : rx->len[used];
			left -= k;
			used++;
		}
		uint16_t nbuf = (uint16_t)used;
		iov_copy_to(rx->iov, rx->niov,
			    offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers),
			    &nbuf, 2);
		left = (uint64_t)res;
		for (unsigned i = 0; i < used; i++) {
			uint64_t k = left < rx->len[i] ? left : rx->len[i];
			vq_push(q, rx->head[i], (uint32_t)k);
			left -= k;
		}
	}
	/* The chains this read did not fill: given back untouched when no
	 * later chain was taken meanwhile, else returned empty (a driver
	 * drops a zero-length buffer and posts it again). */
	if (rx->nchains > used && !d->reset_pending) {
		if (rx->avail_end == q->last_avail) {
			for (unsigned i = rx->nchains; i > used; i--)
				vq_unpop(q, rx->head[i - 1]);
		} else {
			for (unsigned i = used; i < rx->nchains; i++)
				vq_push(q, rx->head[i], 0);
		}
	}
	rx->nchains = 0;
	v->rx_loaded &= ~net_rx_bit(v, rx);
	virtio_request_done(d);
	virtio_notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

/* After a batch of completions: the next round of reads. */
static void net_rx_flush(void *arg)
{
	struct vnet *v = arg;

	pthread_mutex_lock(&v->dev->lock);
	net_rx_post(v);
	pthread_mutex_unlock(&v->dev->lock);
}

/* A snapshot holds the device: the chains of slots loaded for a read
 * that was never started go back to the guest, untouched where no later
 * chain was taken, else empty (as above). */
static void net_rx_unload(struct vnet *v)
{
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_RX];
	bool found = true;

	if (d->reset_pending || !q->ready)
		return;
	while (found) {
		found = false;
		for (unsigned i = 0; i < NET_RX_INFLIGHT; i++) {
			struct net_rx *rx = &v->rx[i];
			if (!((v->rx_loaded & ~v->rx_busy) >> i & 1) ||
			    rx->avail_end != q->last_avail)
				continue;
			for (unsigned k = rx->nchains; k > 0; k--)
				vq_unpop(q, rx->head[k - 1]);
			rx->nchains = 0;
			v->rx_loaded &= ~(1ULL << i);
			found = true;
		}
	}
	for (unsigned i = 0; i < NET_RX_INFLIGHT; i++) {
		struct net_rx *rx = &v->rx[i];
		if (!((v->rx_loaded & ~v->rx_busy) >> i & 1))
			continue;
		for (unsigned k = 0; k < rx->nchains; k++)
			vq_push(q, rx->head[k], 0);
		rx->nchains = 0;
		v->rx_loaded &= ~(1ULL << i);
	}
	virtio_notify(d, q);
}

/* Fills one read slot with chains; false when there are none. */
static bool net_rx_fill(struct vnet *v, struct net_rx *rx, bool merge)
{
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_RX];
	uint64_t total = 0;

	rx->nchains = 0;
	rx->niov = 0;
	while (total < NET_HDR + NET_MAX_FRAME && rx->nchains < VQ_MAX_SEGS) {
		if (virtio_pop(d, q, &v->chain) <= 0)
			break;
		struct vq_chain *c = &v->chain;
		if (c->nout || c->in_len < NET_HDR) {
			virtio_fail(d, "receive buffer not writable or smaller "
				       "than the header");
			break;
		}
		if (rx->niov + c->nin > VQ_MAX_SEGS) {
			vq_unpop(q, c->head);	/* no room: later */
			break;
		}
		memcpy(rx->iov + rx->niov, c->iov, c->nin * sizeof(struct iovec));
		rx->niov += c->nin;
		rx->head[rx->nchains] = c->head;
		rx->len[rx->nchains++] = c->in_len;
		total += c->in_len;
		if (!merge)
			break;	/* one chain per frame */
	}
	rx->avail_end = q->last_avail;
	return rx->nchains && virtio_live(d);
}

/* Kicks (see the top of this file): how long a batched kick request
 * waits before the device looks at the ring itself, and how many batches
 * in a row must get their kick before a batch cut down by a timeout may
 * try twice its size (doubled after each try that fails, up to 1024). */
#define NET_RX_WAIT_US 1000
#define NET_RX_REGROW 64
#define NET_RX_REGROW_MAX 1024

/* The largest batch for this ring: a quarter of it, so that a driver
 * whose chains take several descriptors can still make that many
 * available. */
static uint16_t net_rx_batch_limit(const struct vq *q)
{
	return q->num >= 4 ? (uint16_t)(q->num / 4) : 1;
}

static uint16_t min16(unsigned a, unsigned b)
{
	return (uint16_t)(a < b ? a : b);
}

/* Armed once per wait: a later wait does not push it back (a guest that
 * never kicks is still looked at); a kick cancels it. */
static void net_rx_timer_arm(struct vnet *v)
{
	if (!io_timer_armed(&v->rx_timer))
		io_timer_arm(&v->rx_timer, NET_RX_WAIT_US);
}

/* The RX ring ran dry and virtio_pop() asked for a kick at the guest's
 * next buffer.  With EVENT_IDX, ask for it after rx_batch buffers instead.
 * With a tap read in flight its completion looks at the ring again (and
 * with no frame coming, buffers have nothing to wait for); with none, a
 * timer bounds the wait.  True when that many buffers are there already. */
static bool net_rx_batch_wait(struct vnet *v, bool reading)
{
	struct vq *q = &v->dev->vq[NET_RX];

	if (!q->event_idx || io_stopping())
		return false;
	if (!v->rx_batch_max) {
		v->rx_batch = v->rx_batch_max = net_rx_batch_limit(q);
		v->rx_regrow = NET_RX_REGROW;
	}
	if (v->rx_batch > 1 && vq_kick_after(q, v->rx_batch) >= v->rx_batch)
		return true;
	v->rx_waiting = true;	/* the kick tells how the batch did */
	if (!reading && v->rx_batch > 1)
		net_rx_timer_arm(v);
	return false;
}

/* The guest kicked RX.  If a batch wait was out and the guest made the
 * whole batch available, the next batch may be twice as big, up to
 * rx_batch_max; after rx_regrow such batches in a row at rx_batch_max,
 * that may double too (a timeout cuts it down again). */
static void net_rx_kicked(struct vnet *v)
{
	struct vq *q = &v->dev->vq[NET_RX];

	v->rx_kicks++;
	if (!v->rx_waiting)
		return;
	v->rx_waiting = false;
	if (vq_avail_ahead(q) >= v->rx_batch) {
		if (v->rx_batch > 1)
			v->rx_regrow = NET_RX_REGROW;	/* batches work */
		if (v->rx_batch == v->rx_batch_max &&
		    v->rx_batch_max < net_rx_batch_limit(q) &&
		    ++v->rx_batch_ok >= v->rx_regrow) {
			v->rx_batch_ok = 0;
			v->rx_batch_max = min16(v->rx_batch_max * 2u,
						net_rx_batch_limit(q));
		}
		v->rx_batch = min16(v->rx_batch * 2u, v->rx_batch_max);
	}
	io_timer_cancel(&v->rx_timer);
}

/* Starts the read of slot i (its chains taken): the one that may wait
 * for the tap, or one with RWF_NOWAIT. */
static void net_rx_start(struct vnet *v, unsigned i, bool waits)
{
	struct net_rx *rx = &v->rx[i];

	if (rx->iov[rx->niov - 1].iov_base != v->spill)
		rx->iov[rx->niov++] = (struct iovec){ v->spill, NET_HDR + NET_MAX_FRAME };
	v->rx_busy |= 1ULL << i;
	v->rx_loaded |= 1ULL << i;
	rx->op.done = net_rx_done;
	rx->v = v;
	rx->waits = waits;
	v->rx_waiting_read |= waits;
	virtio_request_begin(v->dev);
	v->rx_reads++;
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_readv2(sqe, v->tap.fd, rx->iov, rx->niov, 0,
			     waits ? 0 : RWF_NOWAIT);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &rx->op);
}

/* Starts tap reads into the guest's RX buffers, as many as it posted and
 * slots allow: one that may wait for the tap, the others behind it with
 * RWF_NOWAIT (they end at once when the tap has no frame left, instead of
 * all waking for each frame that comes).  While the one waits, nothing
 * more is started; once the tap ran dry, only that one. */
static void net_rx_post(struct vnet *v)
{
	struct virtio_dev *d = v->dev;
	bool merge = virtio_has(d, VIRTIO_NET_F_MRG_RXBUF);
	unsigned slots = merge ? 1 : NET_RX_INFLIGHT;

	/* No reads into a lost link (each would fail at once, for ever), and
	 * none once the VM stops. */
	if (!virtio_live(d) || !d->vq[NET_RX].ready || v->link_lost ||
	    v->held || io_stopping() || v->rx_waiting_read)
		return;
	bool first = true;
	/* A new round: sized by how the last one did. */
	unsigned grow = v->rx_round_dry ? v->rx_round_got * 2 :
			v->rx_round ? v->rx_round * 2 : 1;
	v->rx_round = grow < NET_RX_INFLIGHT - 1 ? grow : NET_RX_INFLIGHT - 1;
	v->rx_round_got = 0;
	v->rx_round_dry = false;
	unsigned left = v->rx_round;
	/* A second pass only when a batch of buffers came meanwhile (once:
	 * a guest moving its index back and forth must not keep this going). */
	for (unsigned pass = 0; pass < 2; pass++) {
		bool dry = false;
		for (unsigned i = 0; i < slots && (first || left); i++) {
			struct net_rx *rx = &v->rx[i];
			if (v->rx_busy >> i & 1)
				continue;
			/* Slots still holding chains go; a ring that ran dry
			 * fills no more.  A device that failed while taking
			 * chains has dead rings: nothing to give back. */
			if (!(v->rx_loaded >> i & 1)) {
				if (dry)
					continue;
				if (!net_rx_fill(v, rx, merge)) {
					rx->nchains = 0;
					if (!virtio_live(d))
						return;
					dry = true;
					continue;
				}
			}
			net_rx_start(v, i, first);
			if (!first)
				left--;
			first = false;
		}
		if (!dry || !net_rx_batch_wait(v, v->rx_busy != 0))
			break;
	}
}

/* The batch wait's timer expired (a kick cancels it).  With fewer buffers
 * than asked for: the guest posts in smaller batches, or its vCPU did not run for a
 * while (take what is there; batches are at most half as big, or that
 * big, from now on).  Expired with none: the guest is busy or idle; its
 * next buffer kicks. */
static void net_rx_timer(void *arg)
{
	struct vnet *v = arg;
	struct virtio_dev *d = v->dev;
	struct vq *q = &d->vq[NET_RX];

	pthread_mutex_lock(&d->lock);
	if (v->rx_waiting && virtio_live(d) && q->ready) {
		v->rx_waiting = false;
		v->rx_timeouts++;
		uint16_t have = vq_kick_after(q, 1);
		if (have && have < v->rx_batch) {
			v->rx_batch = v->rx_batch_max =
				have > v->rx_batch_max / 2 ? have :
				(uint16_t)(v->rx_batch_max / 2);
			v->rx_batch_ok = 0;
			v->rx_regrow = v->rx_regrow < NET_RX_REGROW_MAX ?
				       v->rx_regrow * 2 : NET_RX_REGROW_MAX;
		}
		if (have)
			net_rx_post(v);
	}
	pthread_mutex_unlock(&d->lock);
}

/* A reset waits for the pending tap read, which on an idle link never
 * ends by itself: cancel it (I/O thread).  Its completion, -ECANCELED,
 * then lets the reset finish; the kernel touches the guest's buffers no
 * more once it has completed. */
static void net_cancel(void *arg)
{
	struct vnet *v = arg;

	pthread_mutex_lock(&v->dev->lock);
	if (v->held)
		net_rx_unload(v);
	for (unsigned i = 0; i < NET_RX_INFLIGHT; i++) {
		if (!(v->rx_busy >> i & 1))
			continue;
		struct io_uring_sqe *sqe = io_sqe();
		io_uring_prep_cancel(sqe, &v->rx[i].op, 0);
		sqe->flags |= IOSQE_FIXED_FILE;	/* the sealed ring wants it */
		io_uring_sqe_set_data(sqe, NULL);
	}
	pthread_mutex_unlock(&v->dev->lock);
}

static void net_quiesce(struct virtio_dev *d)
{
	struct vnet *v = d->priv;
	uint64_t one = 1;

	LOG_LIMIT(net_cancel_wake);
	if (write(v->cancel_fd, &one, sizeof(one)) < 0)
		log_limited(&net_cancel_wake, "net.%u: cannot cancel the RX read: %s",
			    v->n, strerror(errno));
}

static void net_kick(struct virtio_dev *d, unsigned q)
{
	struct vnet *v = d->priv;

	if (v->stream && q == NET_TX)
		stream_tx_process(v);
	else if (v->stream)
		stream_rx_pump(v);
	else if (q == NET_TX)
		net_tx_process(v);
	else {
		net_rx_kicked(v);
		net_rx_post(v);
	}
}

static void net_activate(struct virtio_dev *d)
{
	struct vnet *v = d->priv;
	unsigned off = 0;

	if (v->stream)
		return;		/* passt: no offloads, nothing to tell it */
	if (virtio_has(d, VIRTIO_NET_F_GUEST_CSUM))
		off |= TUN_F_CSUM;
	if (virtio_has(d, VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (virtio_has(d, VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	if (virtio_has(d, VIRTIO_NET_F_GUEST_ECN))
		off |= TUN_F_TSO_ECN;
	/* The tap may only hand the guest what it said it can take. */
	LOG_LIMIT(net_offload);
	if (tap_set_offload(&v->tap, off) < 0)
		log_limited(&net_offload, "net.%u: TUNSETOFFLOAD 0x%x: %s", v->n,
			    off, strerror(errno));
	/* RX buffers may already be posted; the I/O thread starts reading
	 * on the first RX kick (a driver kicks after posting). */
}

static void net_reset(struct virtio_dev *d)
{
	struct vnet *v = d->priv;

	v->tx_starved = false;
	v->rx_waiting = false;	/* a timer still out finds nothing to do */
	v->rx_batch = v->rx_batch_max = 0;
	v->rx_batch_ok = 0;
	v->rx_waiting_read = false;
	v->rx_round = v->rx_round_got = 0;	/* the first round: one read */
	v->rx_round_dry = true;
	for (unsigned i = 0; i < NET_RX_INFLIGHT; i++)
		if (v->rx_loaded >> i & 1)
			v->rx[i].nchains = 0;
	v->rx_loaded = v->rx_busy = 0;
}

static void net_config_rw(struct virtio_dev *d, uint32_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct vnet *v = d->priv;

	if (!is_write)
		memcpy(data, (const uint8_t *)&v->config + off, len);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.queue_max = NET_QUEUE_MAX,
	.config_size = NET_CONFIG_SIZE,
	.config_rw = net_config_rw,
	.queue_kick = net_kick,
	.activate = net_activate,
	.reset = net_reset,
	.quiesce = net_quiesce,
};

static void net_close(void *opaque);

static void *net_open(const struct config *c, unsigned n)
{
	struct vnet *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->cfg = &c->net[n];
	v->n = n;
	v->cancel_fd = -1;
	v->tap.fd = v->passt.fd = -1;
	bool tap = (c->net[n].tap && *c->net[n].tap) || c->net[n].fd >= 0;
	if (tap ? tap_open(c, n, &v->tap) < 0 :
	    passt_open(c, n, &v->passt) < 0 || stream_open(v) < 0) {
		net_close(v);
		return NULL;
	}
	/* The RX slots are set up when first used (net_rx_post): an idle
	 * VM never touches most of their pages. */
	v->rx_timer = (struct io_timer){ .fn = net_rx_timer, .arg = v };
	v->rx_flush = (struct io_flush){ .fn = net_rx_flush, .arg = v };
	v->rx_round_dry = true;	/* the first round: one read */
	v->spill = tap ? malloc(NET_HDR + NET_MAX_FRAME) : NULL;
	if (tap && !v->spill) {
		net_close(v);
		return NULL;
	}
	v->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->cancel_fd < 0) {
		net_close(v);
		return NULL;
	}
	return v;
}

static void net_arm(struct vnet *v)
{
	io_file(v->stream ? v->passt.fd : v->tap.fd);
	virtio_mmio_arm(v->dev);
	io_event_arm(&v->cancel_ev, v->cancel_fd, net_cancel, v);
}

static int net_attach(void *opaque, struct machine *m, unsigned index)
{
	struct vnet *v = opaque;
	uint64_t f = BIT64(VIRTIO_RING_F_EVENT_IDX) |
		     BIT64(VIRTIO_RING_F_INDIRECT_DESC) | BIT64(VIRTIO_NET_F_MAC) |
		     BIT64(VIRTIO_NET_F_MTU) | BIT64(VIRTIO_NET_F_STATUS) |
		     BIT64(VIRTIO_NET_F_MRG_RXBUF);

	if (v->cfg->offload && !v->stream)	/* passt takes plain frames */
		f |= BIT64(VIRTIO_NET_F_CSUM) | BIT64(VIRTIO_NET_F_GUEST_CSUM) |
		     BIT64(VIRTIO_NET_F_HOST_TSO4) | BIT64(VIRTIO_NET_F_HOST_TSO6) |
		     BIT64(VIRTIO_NET_F_HOST_ECN) | BIT64(VIRTIO_NET_F_GUEST_TSO4) |
		     BIT64(VIRTIO_NET_F_GUEST_TSO6) | BIT64(VIRTIO_NET_F_GUEST_ECN);
	/* Little-endian fields on a little-endian host. */
	v->config = (struct virtio_net_config){
		.status = VIRTIO_NET_S_LINK_UP,
		.max_virtqueue_pairs = 1,
		.mtu = (uint16_t)v->cfg->mtu,
	};
	memcpy(v->config.mac, v->cfg->mac_bytes, sizeof(v->config.mac));
	v->dev = virtio_mmio_create(m, index, &net_ops, v, f);
	if (!v->dev)
		return -1;
	net_arm(v);
	return 0;
}

static unsigned net_busy(void *opaque)
{
	struct vnet *v = opaque;

	if (!v->dev)
		return 0;
	pthread_mutex_lock(&v->dev->lock);
	/* A pending RX read waits for traffic that may never come: it does
	 * not hold up a stop. */
	unsigned n = virtio_inflight(v->dev);
	for (unsigned i = 0; i < NET_RX_INFLIGHT; i++)
		n -= v->rx_busy >> i & 1;
	pthread_mutex_unlock(&v->dev->lock);
	return n;
}

static void net_close(void *opaque)
{
	struct vnet *v = opaque;

	if (!v)
		return;
	if (getenv("PICOVM_STATS")) {
		if (v->stream)
			stream_stats(v);
		else
			log_info("stats: net.%u: rx-reads=%llu rx-tap-empty=%llu "
				 "rx-kicks=%llu rx-batch-timeouts=%llu rx-batch=%u/%u "
				 "link=%s", v->n, (unsigned long long)v->rx_reads,
				 (unsigned long long)v->rx_empty,
				 (unsigned long long)v->rx_kicks,
				 (unsigned long long)v->rx_timeouts,
				 v->rx_batch, v->rx_batch_max, v->link_lost ? "lost" : "up");
	}
	if (v->tx_dropped || v->rx_dropped)
		log_info("net.%u: dropped %llu bad or refused TX frames, %llu RX "
			 "frames", v->n, (unsigned long long)v->tx_dropped,
			 (unsigned long long)v->rx_dropped);
	tap_close(&v->tap);
	passt_close(&v->passt, v->n);
	stream_free(v);
	if (v->cancel_fd >= 0)
		close(v->cancel_fd);
	free(v->spill);
	virtio_mmio_destroy(v->dev);
	free(v);
}

static void net_counters(void *dev, void (*put)(void *ctx, const char *key,
					       uint64_t value), void *ctx)
{
	struct vnet *v = dev;

	put(ctx, "tx_dropped", __atomic_load_n(&v->tx_dropped, __ATOMIC_RELAXED));
	put(ctx, "rx_dropped", __atomic_load_n(&v->rx_dropped, __ATOMIC_RELAXED));
}

/* A snapshot's record of the device: what the guest can see. */
struct net_state {
	struct virtio_mmio_state t;
	struct virtio_net_config config;
};
_Static_assert(sizeof(struct net_state) <= VDEV_STATE_MAX, "net_state");

/* Main thread, every vCPU and the I/O thread parked (vdev.h). */
static int net_save(void *opaque, uint8_t *buf, const char **why)
{
	struct vnet *v = opaque;
	struct net_state s;
	bool reading = false;

	if (v->stream) {
		/* Frames cut from the stream but not delivered, and a frame
		 * half read, live in picovm: not saved yet. */
		*why = "a net on passt cannot be snapshotted yet";
		return -1;
	}
	pthread_mutex_lock(&v->dev->lock);
	v->held = true;
	reading = v->rx_loaded != 0;
	s.config = v->config;
	pthread_mutex_unlock(&v->dev->lock);
	if (reading) {
		/* Cancelled once the I/O thread runs again; the next try
		 * finds the reads done. */
		net_quiesce(v->dev);
		*why = "tap reads in flight could not be cancelled";
		return -2;
	}
	int ret = virtio_mmio_save(v->dev, &s.t, why);
	if (ret < 0)
		return ret;
	memcpy(buf, &s, sizeof(s));
	return (int)sizeof(s);
}

static void net_resume(void *opaque)
{
	struct vnet *v = opaque;
	uint64_t one = 1;

	pthread_mutex_lock(&v->dev->lock);
	bool was = v->held;
	v->held = false;
	pthread_mutex_unlock(&v->dev->lock);
	/* An RX kick: the I/O thread starts reading again. */
	LOG_LIMIT(net_resume_kick);
	if (was && write(v->dev->kick_fd[NET_RX], &one, sizeof(one)) < 0)
		log_limited(&net_resume_kick, "net.%u: cannot restart RX: %s",
			    v->n, strerror(errno));
}

static int net_restore(void *opaque, const uint8_t *buf, size_t len)
{
	struct vnet *v = opaque;
	struct virtio_dev *d = v->dev;
	struct net_state s;
	const char *why = NULL;

	if (len != sizeof(s)) {
		log_err("restore: net.%u: %zu bytes of state, expected %zu",
			v->n, len, sizeof(s));
		return -1;
	}
	memcpy(&s, buf, sizeof(s));
	if (memcmp(s.config.mac, v->config.mac, sizeof(s.config.mac)) != 0 ||
	    s.config.mtu != v->config.mtu ||
	    s.config.max_virtqueue_pairs != v->config.max_virtqueue_pairs ||
	    (s.config.status & ~VIRTIO_NET_S_LINK_UP)) {
		log_err("restore: net.%u: the saved MAC, MTU or link status is "
			"not this device's", v->n);
		return -1;
	}
	if (virtio_mmio_restore(d, &s.t, &why) < 0) {
		log_err("restore: net.%u: %s", v->n, why);
		return -1;
	}
	/* The saved link was down (its tap went away); this VM's tap works:
	 * the guest sees the link come up. */
	pthread_mutex_lock(&d->lock);
	if (!(s.config.status & VIRTIO_NET_S_LINK_UP) && virtio_live(d)) {
		d->config_generation++;
		virtio_interrupt(d, VIRTIO_MMIO_INT_CONFIG);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* A tap of net.N.tap = auto: it goes away with its last descriptor. */
static int net_linger_fd(void *opaque)
{
	struct vnet *v = opaque;

	return v && v->tap.created ? v->tap.fd : -1;
}

const struct vdev_ops net_vdev = {
	.name = "net",
	.save = net_save,
	.resume = net_resume,
	.restore = net_restore,
	.counters = net_counters,
	.open = net_open,
	.attach = net_attach,
	.busy = net_busy,
	.close = net_close,
	.linger_fd = net_linger_fd,
};
