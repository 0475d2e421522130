/*
 * virtio-net's insides, shared by the device and its tap data path
 * (net.c) and its passt data path (netstream.c).  Everything here runs
 * with the device's lock held unless it says otherwise.
 */
#ifndef PICOVM_VIRTIO_NETDEV_H
#define PICOVM_VIRTIO_NETDEV_H

#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "queue.h"
#include "../net/passt.h"
#include "../net/tap.h"
#include "../vm/iothread.h"

struct virtio_dev;
struct net_stream;

#define NET_RX 0
#define NET_TX 1
#define NET_QUEUE_MAX 256
/* The header before every frame, both ways (struct
 * virtio_net_hdr_mrg_rxbuf: VIRTIO_F_VERSION_1 always has num_buffers). */
#define NET_HDR TAP_VNET_HDR_LEN
_Static_assert(NET_HDR == sizeof(struct virtio_net_hdr_mrg_rxbuf),
	       "the tap's vnet header is virtio's");
#define NET_MAX_FRAME (65535 + ETH_HLEN + 4)	/* + VLAN tag */
#define NET_TX_INFLIGHT 64
/* Tap reads in flight at once, each into one chain (without MRG_RXBUF;
 * with it, one read gathers several chains and only one is in flight).
 * Each tap read returns one frame: with this many submitted together,
 * one io_uring_enter harvests up to this many frames. */
#define NET_RX_INFLIGHT 64
_Static_assert(NET_RX_INFLIGHT <= 64, "slot masks are 64 bits");
/* The configuration space through mtu (struct virtio_net_config). */
#define NET_CONFIG_SIZE (offsetof(struct virtio_net_config, mtu) + \
			 sizeof(((struct virtio_net_config *)0)->mtu))

struct net_tx {
	struct io_op op;
	struct vnet *v;
	uint16_t head;
	uint8_t hdr[NET_HDR];		/* the validated copy the tap sees */
	unsigned niov;
	struct iovec iov[VQ_MAX_SEGS + 1];
	struct net_tx *next_free;
};

struct net_rx {
	struct io_op op;
	struct vnet *v;
	bool waits;			/* the read that may wait for the tap */
	uint16_t avail_end;		/* q->last_avail after its last pop */
	unsigned nchains;
	uint16_t head[VQ_MAX_SEGS];
	uint64_t len[VQ_MAX_SEGS];	/* bytes each chain holds */
	unsigned niov;
	struct iovec iov[VQ_MAX_SEGS + 1];	/* + the spill buffer */
};

/* The drop counters are read by the control thread (stats). */
#define COUNT(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

struct vnet {
	const struct net_config *cfg;
	unsigned n;
	struct tap tap;
	struct passt passt;
	struct net_stream *stream;	/* non-NULL: the passt backend */
	struct virtio_dev *dev;
	struct virtio_net_config config;
	/* tx[tx_fresh..] were never handed out: their pages (each slot's
	 * iovec array, about 4 KiB) stay untouched until a guest keeps
	 * that many transmits in flight (as with virtio-blk's requests). */
	struct net_tx tx[NET_TX_INFLIGHT], *tx_free;
	unsigned tx_fresh;
	bool tx_starved;
	struct net_rx rx[NET_RX_INFLIGHT];
	/* Slots with a read in flight, slots holding chains (in flight or
	 * not): bit i for rx[i], so that looking for a slot touches no
	 * slot's pages (an idle VM uses one). */
	uint64_t rx_busy, rx_loaded;
	bool rx_waiting_read;		/* a read waits for the tap */
	/* RWF_NOWAIT reads behind the next waiting one: twice what the
	 * last round's got when one of them found the tap empty (none if
	 * they got nothing), else twice as many as last time or one (so a
	 * flood soon gets NET_RX_INFLIGHT - 1, a trickle few reads that find
	 * nothing). */
	unsigned rx_round, rx_round_got;
	bool rx_round_dry;
	struct io_flush rx_flush;	/* net_rx_post() after a batch */
	/* Whatever of a frame does not fit the posted chains lands here:
	 * tun returns only the bytes it copied, so without this a cut frame
	 * would look whole.  A frame that reaches it is dropped, so its
	 * bytes are never looked at and every read may share it. */
	uint8_t *spill;
	/* RX kick batching (net.c, "Kicks"): with the ring dry, the guest is
	 * asked to kick after rx_batch more buffers; rx_timer bounds that
	 * wait. */
	uint16_t rx_batch, rx_batch_max;
	unsigned rx_batch_ok;		/* batches in a row that got their kick */
	unsigned rx_regrow;		/* ... before rx_batch_max may double */
	bool rx_waiting;		/* a batched kick request is out */
	struct io_timer rx_timer;
	int cancel_fd;			/* vCPU -> I/O thread: cancel the read */
	struct io_event cancel_ev;
	struct vq_chain chain;
	uint64_t tx_dropped, rx_dropped;
	uint64_t rx_reads;		/* tap reads submitted (PICOVM_STATS) */
	uint64_t rx_kicks, rx_timeouts;	/* RX kicks, batch waits timed out */
	uint64_t rx_empty;		/* RWF_NOWAIT reads that found no frame */
	bool link_lost;
	bool held;			/* a snapshot: no new tap reads */
};

/* Takes the link down for good (the host side is gone or broke): logs
 * "net.N: WHY; link down...", clears VIRTIO_NET_S_LINK_UP with a config
 * interrupt; from then on TX is dropped and nothing is read. */
void net_link_down(struct vnet *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Whether a TX header (h, NET_HDR bytes) fits the negotiated features
 * and a frame of that many bytes. */
bool net_tx_header_ok(struct virtio_dev *d, const uint8_t *h, uint64_t frame);

/* The passt backend (netstream.c). */
/* After passt_open(): the stream state; -1 when out of memory. */
int stream_open(struct vnet *v);
/* The guest kicked TX / RX (or RX buffers may be usable again). */
void stream_tx_process(struct vnet *v);
void stream_rx_pump(struct vnet *v);
/* PICOVM_STATS: one line of the stream's counts (frames and writes each
 * way, short writes resumed). */
void stream_stats(const struct vnet *v);
/* Frees what stream_open() made (any state). */
void stream_free(struct vnet *v);

#endif
