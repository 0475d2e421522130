/*
 * virtio-net (Virtio 1.2 section 5.1) on top of virtio.h, polled at CPL3:
 * queue 0 = receiveq, queue 1 = transmitq, the 12-byte virtio 1.x header
 * in front of every frame in both directions.
 *
 * RX buffers are single device-writable descriptors of rx_buf_len bytes
 * (header included); without MRG_RXBUF each must hold a whole frame, with
 * it a frame spans num_buffers of them.  TX frames are copied, header
 * first, into one slot per descriptor; hostile tests build their own
 * chains with vq_add on v->tx (a cookie of VNET_RAW frees no slot).
 *
 * Command line words read by vnet_open (all optional):
 *   picotest.mrg            ack MRG_RXBUF
 *   picotest.offload        ack CSUM, GUEST_CSUM, HOST_/GUEST_TSO4/6, ECN
 *   picotest.no-indirect    do not ack RING_INDIRECT_DESC
 *   picotest.no-event-idx   do not ack RING_EVENT_IDX
 *   picotest.qsize=N        queue size (power of two; default QueueNumMax
 *                           capped at 256)
 *   picotest.rxbuf=N        bytes per RX buffer, header included (default:
 *                           a whole frame without MRG_RXBUF, 2048 with it)
 */
#ifndef PICOTEST_VIRTIO_NET_H
#define PICOTEST_VIRTIO_NET_H

#include <stdint.h>

#include "virtio/virtio.h"

#define VIRTIO_NET_F_CSUM	0
#define VIRTIO_NET_F_GUEST_CSUM	1
#define VIRTIO_NET_F_MTU	3
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_GUEST_TSO4	7
#define VIRTIO_NET_F_GUEST_TSO6	8
#define VIRTIO_NET_F_GUEST_ECN	9
#define VIRTIO_NET_F_HOST_TSO4	11
#define VIRTIO_NET_F_HOST_TSO6	12
#define VIRTIO_NET_F_HOST_ECN	13
#define VIRTIO_NET_F_MRG_RXBUF	15
#define VIRTIO_NET_F_STATUS	16

#define VNET_OFFLOADS                                                        \
	(FBIT(VIRTIO_NET_F_CSUM) | FBIT(VIRTIO_NET_F_GUEST_CSUM) |           \
	 FBIT(VIRTIO_NET_F_HOST_TSO4) | FBIT(VIRTIO_NET_F_HOST_TSO6) |       \
	 FBIT(VIRTIO_NET_F_HOST_ECN) | FBIT(VIRTIO_NET_F_GUEST_TSO4) |       \
	 FBIT(VIRTIO_NET_F_GUEST_TSO6) | FBIT(VIRTIO_NET_F_GUEST_ECN))
#define VNET_FEATURES_BASE                                                   \
	(FBIT(VIRTIO_F_VERSION_1) | FBIT(VIRTIO_F_EVENT_IDX) |               \
	 FBIT(VIRTIO_F_INDIRECT_DESC) | FBIT(VIRTIO_NET_F_MAC) |             \
	 FBIT(VIRTIO_NET_F_MTU) | FBIT(VIRTIO_NET_F_STATUS))

/* Config space offsets. */
#define VNET_CFG_MAC		0
#define VNET_CFG_STATUS		6
#define VNET_CFG_MTU		10
#define VIRTIO_NET_S_LINK_UP	1

/* Header flags and GSO types. */
#define VNET_HDR_F_NEEDS_CSUM	1
#define VNET_HDR_F_DATA_VALID	2
#define VNET_GSO_NONE		0
#define VNET_GSO_TCPV4		1
#define VNET_GSO_UDP		3
#define VNET_GSO_TCPV6		4
#define VNET_GSO_ECN		0x80

#define VNET_HDR_LEN		12
#define ETH_HLEN		14
#define ETH_ALEN		6
#define VNET_MAX_FRAME		65550	/* 64 KiB IP packet + Ethernet + VLAN */

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* vnet_recv results besides a length. */
#define VNET_NONE	(-1)	/* nothing received */
#define VNET_BAD	(-2)	/* a used entry we never posted, or a short one */
/* The cookie of a chain that has no TX slot. */
#define VNET_RAW	((void *)~0ULL)

struct vnet {
	struct vdev dev;
	struct vq rx, tx;
	uint64_t want;		/* features to ack (if offered) */
	unsigned qsize;		/* 0: QueueNumMax capped at VQ_MAX_NUM */
	uint32_t rx_buf_len;	/* 0: the default for the features */
	int rx_no_post;		/* vnet_init posts no RX buffers */
	/* from the device */
	uint8_t mac[ETH_ALEN];
	uint16_t mtu, status;
	int mrg;		/* MRG_RXBUF acked */
	/* buffers */
	uint8_t *rxmem, *txmem;
	uint32_t rx_len, rx_stride;	/* in use: bytes, distance */
	uint32_t tx_slot;
	uint8_t rx_posted[VQ_MAX_NUM];	/* per RX buffer: on the ring */
	uint16_t txfree[VQ_MAX_NUM];
	unsigned ntxfree, ntx;
	uint32_t last_used_len;	/* used.len of the last RX chain taken */
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, rx_bad;
};

/* Finds the index-th virtio-net device, reads the command line words,
 * allocates, and runs vnet_init.  0, or -1 with *why set. */
int vnet_open(struct vnet *v, const struct bootinfo *bi, unsigned index,
	      const char **why);
/* (Re-)initialises the device: reset, features, config, both queues,
 * DRIVER_OK, then (unless rx_no_post) every RX buffer posted and kicked.
 * 0, or -1 with *why. */
int vnet_init(struct vnet *v, const char **why);
/* Posts every RX buffer not on the ring yet, then kicks. */
void vnet_rx_fill(struct vnet *v);
/* Posts up to n RX buffers not on the ring yet; then kicks, or (kick 0)
 * publishes them without ever notifying. */
void vnet_rx_post(struct vnet *v, unsigned n, int kick);
/* Queues hdr (NULL: all zero) + frame in a free TX slot, reaping used
 * entries (waiting up to VIRTIO_WAIT_LONG) if none is free; kicks if
 * asked.  0, or -1 if no slot came free or len is too big for a slot. */
int vnet_send(struct vnet *v, const struct virtio_net_hdr *hdr,
	      const void *frame, uint32_t len, int kick);
/* Takes back used TX entries; with wait, until all are back or timeout
 * ticks passed.  0, or -1 (timeout, or a bogus used entry). */
int vnet_tx_reap(struct vnet *v, int wait, uint64_t timeout);
/* One received frame (without header) copied to out (at most max bytes,
 * the rest is cut): its length, VNET_NONE or VNET_BAD.  *hdr gets the
 * header if hdr is not NULL.  Buffers go back on the ring at once. */
int vnet_recv(struct vnet *v, void *out, uint32_t max,
	      struct virtio_net_hdr *hdr);
/* Non-zero if Status shows DEVICE_NEEDS_RESET or FAILED (an MMIO read). */
int vnet_broken(const struct vnet *v);

#endif
