/*
 * The virtio-net driver of net.h.
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/mem.h"
#include "rt/rt.h"
#include "virtio/net.h"

#define ALIGN64(x) (((x) + 63u) & ~63u)

static int has_word(const struct bootinfo *bi, const char *w)
{
	size_t pos = 0, vlen;

	return cmdline_find(bi, w, &pos, &vlen) != NULL;
}

static int word_u64(const struct bootinfo *bi, const char *key, uint64_t *n)
{
	size_t pos = 0, vlen;
	const char *v = cmdline_find(bi, key, &pos, &vlen);

	return v && parse_u64(v, vlen, n) == 0;
}

int vnet_open(struct vnet *v, const struct bootinfo *bi, unsigned index,
	      const char **why)
{
	uint64_t n;
	int no_post = v->rx_no_post;
	uint32_t rx_len = v->rx_buf_len;

	*v = (struct vnet){ .want = VNET_FEATURES_BASE, .rx_no_post = no_post,
			    .rx_buf_len = rx_len };
	if (vdev_find(&v->dev, bi, VIRTIO_ID_NET, index, why))
		return -1;
	if (has_word(bi, "picotest.mrg"))
		v->want |= FBIT(VIRTIO_NET_F_MRG_RXBUF);
	if (has_word(bi, "picotest.offload"))
		v->want |= VNET_OFFLOADS;
	if (has_word(bi, "picotest.no-indirect"))
		v->want &= ~FBIT(VIRTIO_F_INDIRECT_DESC);
	if (has_word(bi, "picotest.no-event-idx"))
		v->want &= ~FBIT(VIRTIO_F_EVENT_IDX);
	if (word_u64(bi, "picotest.qsize=", &n) && n <= VQ_MAX_NUM)
		v->qsize = (unsigned)n;
	if (!v->rx_buf_len && word_u64(bi, "picotest.rxbuf=", &n) &&
	    n >= VNET_HDR_LEN && n <= VNET_HDR_LEN + VNET_MAX_FRAME)
		v->rx_buf_len = (uint32_t)n;
	if (vq_alloc(&v->rx, &v->dev, 0) || vq_alloc(&v->tx, &v->dev, 1)) {
		*why = "out of memory";
		return -1;
	}
	return vnet_init(v, why);
}

/* Buffers for the sizes the features ask for: allocated once, at the
 * biggest size any init of this device needs (allocations are never
 * freed), so a re-init with other features reuses them. */
static int vnet_buffers(struct vnet *v, unsigned num, const char **why)
{
	uint64_t f = v->dev.acked;
	int gso_rx = !!(f & (FBIT(VIRTIO_NET_F_GUEST_TSO4) |
			     FBIT(VIRTIO_NET_F_GUEST_TSO6)));
	int gso_tx = !!(f & (FBIT(VIRTIO_NET_F_HOST_TSO4) |
			     FBIT(VIRTIO_NET_F_HOST_TSO6)));
	uint32_t frame = (uint32_t)v->mtu + ETH_HLEN + 4;	/* + VLAN tag */
	uint32_t rx = v->rx_buf_len, tx;

	if (!rx)
		rx = v->mrg ? 2048 : VNET_HDR_LEN + (gso_rx ? VNET_MAX_FRAME : frame);
	tx = ALIGN64(VNET_HDR_LEN + (gso_tx ? VNET_MAX_FRAME : frame));
	if (!v->rxmem || ALIGN64(rx) > v->rx_stride) {
		v->rx_stride = ALIGN64(rx);
		v->rxmem = rt_alloc((size_t)v->rx_stride * VQ_MAX_NUM, 4096);
	}
	if (!v->txmem || tx > v->tx_slot) {
		v->tx_slot = tx;
		v->txmem = rt_alloc((size_t)tx * VQ_MAX_NUM, 4096);
	}
	if (!v->rxmem || !v->txmem) {
		*why = "out of memory for buffers";
		return -1;
	}
	v->rx_len = rx;
	memset(v->rx_posted, 0, sizeof(v->rx_posted));
	v->ntx = num;
	for (v->ntxfree = 0; v->ntxfree < num; v->ntxfree++)
		v->txfree[v->ntxfree] = (uint16_t)v->ntxfree;
	return 0;
}

int vnet_init(struct vnet *v, const char **why)
{
	struct vdev *d = &v->dev;
	unsigned num = v->qsize;

	if (vdev_negotiate(d, v->want, why))
		return -1;
	for (unsigned i = 0; i < ETH_ALEN; i++)
		v->mac[i] = d->acked & FBIT(VIRTIO_NET_F_MAC)
				    ? vdev_cfg8(d, VNET_CFG_MAC + i) : 0;
	v->status = d->acked & FBIT(VIRTIO_NET_F_STATUS)
			    ? vdev_cfg16(d, VNET_CFG_STATUS) : VIRTIO_NET_S_LINK_UP;
	v->mtu = d->acked & FBIT(VIRTIO_NET_F_MTU) ? vdev_cfg16(d, VNET_CFG_MTU)
						   : 1500;
	if (v->mtu < 68)
		v->mtu = 1500;
	v->mrg = !!(d->acked & FBIT(VIRTIO_NET_F_MRG_RXBUF));
	if (num == 0) {
		vdev_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
		num = vdev_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
		if (num > VQ_MAX_NUM)
			num = VQ_MAX_NUM;
		while (num & (num - 1))
			num &= num - 1;
	}
	if (vnet_buffers(v, num, why) || vq_setup(&v->rx, num, why) ||
	    vq_setup(&v->tx, num, why))
		return -1;
	vdev_driver_ok(d);
	if (vnet_broken(v)) {
		*why = "device failed at DRIVER_OK";
		return -1;
	}
	/* RX buffers only after DRIVER_OK (the device may not use a queue
	 * earlier). */
	if (!v->rx_no_post)
		vnet_rx_fill(v);
	return 0;
}

int vnet_broken(const struct vnet *v)
{
	return !!(vdev_status(&v->dev) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED));
}

static void rx_post(struct vnet *v, unsigned i)
{
	struct vbuf b = { (uint64_t)(v->rxmem + (size_t)i * v->rx_stride),
			  v->rx_len, 1 };

	if (vq_add(&v->rx, &b, 1, (void *)(uint64_t)i) >= 0)
		v->rx_posted[i] = 1;
}

void vnet_rx_post(struct vnet *v, unsigned n, int kick)
{
	for (unsigned i = 0; i < v->rx.num && v->rx.nfree && n; i++)
		if (!v->rx_posted[i]) {
			rx_post(v, i);
			n--;
		}
	if (kick)
		vq_kick(&v->rx);
	else
		vq_publish_silently(&v->rx);
}

void vnet_rx_fill(struct vnet *v)
{
	vnet_rx_post(v, ~0u, 1);
}

int vnet_tx_reap(struct vnet *v, int wait, uint64_t timeout)
{
	uint64_t t0 = rdtsc();
	uint32_t len;
	void *c;
	int h;

	for (;;) {
		while ((h = vq_pop(&v->tx, &len, &c)) >= 0)
			if (c != VNET_RAW)
				v->txfree[v->ntxfree++] = (uint16_t)(uint64_t)c;
		if (h == -2)
			return -1;
		if (!wait || v->tx.nfree == v->tx.num)
			return 0;
		if (rdtsc() - t0 > timeout)
			return -1;
		cpu_pause();
	}
}

int vnet_send(struct vnet *v, const struct virtio_net_hdr *hdr,
	      const void *frame, uint32_t len, int kick)
{
	uint64_t t0 = rdtsc();
	struct vbuf b;
	uint8_t *p;
	unsigned i;

	if (len > v->tx_slot - VNET_HDR_LEN)
		return -1;
	while (!v->ntxfree || !v->tx.nfree) {
		vq_kick(&v->tx);
		if (vnet_tx_reap(v, 0, 0) || rdtsc() - t0 > VIRTIO_WAIT_LONG)
			return -1;
		cpu_pause();
	}
	i = v->txfree[--v->ntxfree];
	p = v->txmem + (size_t)i * v->tx_slot;
	if (hdr)
		memcpy(p, hdr, VNET_HDR_LEN);
	else
		memset(p, 0, VNET_HDR_LEN);
	memcpy(p + VNET_HDR_LEN, frame, len);
	b = (struct vbuf){ (uint64_t)p, VNET_HDR_LEN + len, 0 };
	vq_add(&v->tx, &b, 1, (void *)(uint64_t)i);
	v->tx_frames++;
	v->tx_bytes += len;
	if (kick)
		vq_kick(&v->tx);
	return 0;
}

/* Takes one used RX entry: its buffer index, VNET_NONE, or VNET_BAD. */
static int rx_take(struct vnet *v, uint32_t *len)
{
	void *c;
	int h = vq_pop(&v->rx, len, &c);

	if (h == -1)
		return VNET_NONE;
	if (h < 0)
		return VNET_BAD;
	v->last_used_len = *len;
	v->rx_posted[(uint64_t)c] = 0;
	if (*len > v->rx_len)
		*len = v->rx_len;	/* the device claims more than it had */
	return (int)(uint64_t)c;
}

int vnet_recv(struct vnet *v, void *out, uint32_t max,
	      struct virtio_net_hdr *hdr)
{
	struct virtio_net_hdr h;
	uint32_t len, got = 0, nbuf;
	uint8_t *o = out;
	int i = rx_take(v, &len);

	if (i < 0)
		return i;
	for (nbuf = 0;;) {
		const uint8_t *b = v->rxmem + (size_t)i * v->rx_stride;
		uint32_t off = nbuf ? 0 : VNET_HDR_LEN, k;

		if (nbuf == 0) {
			if (len < VNET_HDR_LEN) {
				rx_post(v, (unsigned)i);
				vq_kick(&v->rx);
				v->rx_bad++;
				return VNET_BAD;
			}
			memcpy(&h, b, VNET_HDR_LEN);
		}
		k = len - off;
		if (k > max - got)
			k = max - got;
		memcpy(o + got, b + off, k);
		got += k;
		rx_post(v, (unsigned)i);
		if (++nbuf >= (v->mrg ? h.num_buffers : 1u))
			break;
		/* The rest of a merged frame: the device publishes its
		 * chains together, but wait a little in case it does not. */
		uint64_t t0 = rdtsc();

		while ((i = rx_take(v, &len)) == VNET_NONE &&
		       rdtsc() - t0 < VIRTIO_WAIT_SHORT)
			cpu_pause();
		if (i < 0) {
			v->rx_bad++;
			break;
		}
	}
	vq_kick(&v->rx);
	if (hdr)
		*hdr = h;
	v->rx_frames++;
	v->rx_bytes += got;
	return (int)got;
}
