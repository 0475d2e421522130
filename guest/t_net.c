/*
 * virtio-net tests (virtio/net.h), polled at CPL3.  Output formats are in
 * README.md; test frames and the stop frame are described in t_net.h.
 *
 *   net-info                 mac, mtu, offered features, link status
 *   net-responder:IP[:DUR]   answers ARP and ICMP echo for IPv4 address IP
 *   net-echo[:DUR]           sends every test frame back, MACs swapped
 *   net-rx-small[:BYTES]     RX buffers too small for a full frame
 *   net-starve[:quiet]       no RX buffers until a byte on the serial
 *                            input, then RX resumes; quiet: one buffer
 *                            posted (and kicked) first, the rest after
 *                            the cue without a kick
 *   net-reset                a device reset with RX buffers posted (a
 *                            tap read pending) must finish, on an idle
 *                            link too; then a "reset-ok" frame goes out
 * DUR: seconds, "Nt" TSC ticks, or 0 / absent for "until the stop frame".
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "t_net.h"

static struct vnet net;

int test_net_info(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	char mac[18];

	(void)arg, (void)arglen;
	if (tnet_open(&net, bi, "net-info"))
		return 1;
	tnet_mac_str(mac, net.mac);
	rt_printf("net: mac=%s mtu=%u features=0x%llx status=%u\n", mac, net.mtu,
		  (unsigned long long)net.dev.offered, net.status);
	return 0;
}

/* "a.b.c.d" -> host order; 0 or -1. */
static int parse_ip(const char *s, size_t n, uint32_t *ip)
{
	uint32_t v = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t j = i;
		uint64_t x;

		while (j < n && s[j] != '.')
			j++;
		if (parse_u64(s + i, j - i, &x) || x > 255 ||
		    (part < 3 ? j >= n : j != n))
			return -1;
		v = v << 8 | (uint32_t)x;
		i = j + 1;
	}
	*ip = v;
	return 0;
}

/* Splits "FIRST[:REST]" */
static void split(const char *arg, size_t arglen, size_t *first,
		  const char **rest, size_t *restlen)
{
	size_t i = 0;

	while (i < arglen && arg[i] != ':')
		i++;
	*first = i;
	*rest = i < arglen ? arg + i + 1 : arg + arglen;
	*restlen = i < arglen ? arglen - i - 1 : 0;
}

static int arp_reply(uint8_t *out, const uint8_t *f, uint32_t len, uint32_t ip)
{
	const uint8_t *a = f + ETH_HLEN;

	if (len < ETH_HLEN + 28 || get16be(a) != 1 || get16be(a + 2) != 0x0800 ||
	    a[4] != 6 || a[5] != 4 || get16be(a + 6) != 1 ||
	    get32be(a + 24) != ip)
		return 0;
	memset(out, 0, 60);
	memcpy(out, a + 8, ETH_ALEN);
	memcpy(out + 6, net.mac, ETH_ALEN);
	put16be(out + 12, ETHERTYPE_ARP);
	memcpy(out + ETH_HLEN, a, 6);		/* htype, ptype, hlen, plen */
	put16be(out + ETH_HLEN + 6, 2);		/* reply */
	memcpy(out + ETH_HLEN + 8, net.mac, ETH_ALEN);
	put32be(out + ETH_HLEN + 14, ip);
	memcpy(out + ETH_HLEN + 18, a + 8, 10);	/* their sha + spa */
	return 60;
}

/* An ICMP echo reply to f, or 0 if f is not a valid echo request to ip. */
static int icmp_reply(uint8_t *out, const uint8_t *f, uint32_t len, uint32_t ip)
{
	const uint8_t *h = f + ETH_HLEN;
	uint32_t ihl, tot;
	uint8_t *o = out + ETH_HLEN, *ic;

	if (len < ETH_HLEN + 20 || (h[0] >> 4) != 4)
		return 0;
	ihl = (h[0] & 15u) * 4;
	tot = get16be(h + 2);
	if (ihl < 20 || tot < ihl + 8 || tot > len - ETH_HLEN ||
	    (get16be(h + 6) & 0x3fff) ||	/* MF or a fragment offset */
	    h[9] != 1 || get32be(h + 16) != ip ||
	    tnet_csum_fold(tnet_csum_add(h, ihl, 0)) != 0 || h[ihl] != 8 ||
	    h[ihl + 1] != 0 ||
	    tnet_csum_fold(tnet_csum_add(h + ihl, tot - ihl, 0)) != 0)
		return 0;
	memcpy(out, f + 6, ETH_ALEN);
	memcpy(out + 6, net.mac, ETH_ALEN);
	put16be(out + 12, ETHERTYPE_IPV4);
	memcpy(o, h, tot);
	memcpy(o + 12, h + 16, 4);	/* src <- their dst (us) */
	memcpy(o + 16, h + 12, 4);	/* dst <- their src */
	o[8] = 64;			/* TTL */
	put16be(o + 10, 0);
	put16be(o + 10, tnet_csum_fold(tnet_csum_add(o, ihl, 0)));
	ic = o + ihl;
	ic[0] = 0;			/* echo reply */
	put16be(ic + 2, 0);
	put16be(ic + 2, tnet_csum_fold(tnet_csum_add(ic, tot - ihl, 0)));
	return (int)(ETH_HLEN + tot);
}

/* A UDP/IPv4 datagram to ip echoed back (addresses and ports swapped,
 * UDP checksum 0: none, valid for IPv4), or 0 if f is not one.  *stop is
 * set when its payload is the stop tag. */
static int udp_reply(uint8_t *out, const uint8_t *f, uint32_t len, uint32_t ip,
		     int *stop)
{
	const uint8_t *h = f + ETH_HLEN;
	uint32_t ihl, tot, ulen;
	uint8_t *o = out + ETH_HLEN;

	if (len < ETH_HLEN + 28 || (h[0] >> 4) != 4)
		return 0;
	ihl = (h[0] & 15u) * 4;
	tot = get16be(h + 2);
	if (ihl < 20 || tot < ihl + 8 || tot > len - ETH_HLEN ||
	    (get16be(h + 6) & 0x3fff) || h[9] != 17 || get32be(h + 16) != ip ||
	    tnet_csum_fold(tnet_csum_add(h, ihl, 0)) != 0)
		return 0;
	ulen = get16be(h + ihl + 4);
	if (ulen < 8 || ulen != tot - ihl)
		return 0;
	*stop = ulen - 8 == sizeof(TNET_STOP_TAG) - 1 &&
		!memcmp(h + ihl + 8, TNET_STOP_TAG, sizeof(TNET_STOP_TAG) - 1);
	memcpy(out, f + 6, ETH_ALEN);
	memcpy(out + 6, net.mac, ETH_ALEN);
	put16be(out + 12, ETHERTYPE_IPV4);
	memcpy(o, h, tot);
	memcpy(o + 12, h + 16, 4);
	memcpy(o + 16, h + 12, 4);
	o[8] = 64;
	put16be(o + 10, 0);
	put16be(o + 10, tnet_csum_fold(tnet_csum_add(o, ihl, 0)));
	memcpy(o + ihl, h + ihl + 2, 2);	/* ports swapped */
	memcpy(o + ihl + 2, h + ihl, 2);
	put16be(o + ihl + 6, 0);
	return (int)(ETH_HLEN + tot);
}

int test_net_responder(const struct bootinfo *bi, const char *arg,
		       size_t arglen)
{
	uint64_t dur, t0, narp = 0, nicmp = 0, ndrop = 0, nudp = 0;
	int stop = 0;
	uint8_t *f, *out;
	const char *rest;
	size_t iplen, restlen;
	uint32_t ip;
	char mac[18];

	split(arg, arglen, &iplen, &rest, &restlen);
	if (parse_ip(arg, iplen, &ip) || tnet_parse_duration(rest, restlen, &dur)) {
		rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	if (tnet_open(&net, bi, "net-responder"))
		return 1;
	f = tnet_frame_buf();
	out = tnet_frame_buf();
	if (!f || !out)
		return 1;
	tnet_mac_str(mac, net.mac);
	rt_printf("net-responder: up ip=%.*s mac=%s mtu=%u\n", (int)iplen, arg,
		  mac, net.mtu);
	t0 = rdtsc();
	while (!stop && (!dur || rdtsc() - t0 < dur)) {
		struct virtio_net_hdr h;
		int n = vnet_recv(&net, f, VNET_MAX_FRAME, &h), r = 0;

		if (n == VNET_NONE) {
			vnet_tx_reap(&net, 0, 0);
			cpu_pause();
			continue;
		}
		if (n < 0) {
			ndrop++;
			continue;
		}
		if (tnet_tagged(f, (uint32_t)n, TNET_STOP_TAG))
			break;
		if (n >= ETH_HLEN && tnet_complete_csum(f, (uint32_t)n, &h) == 0) {
			if (get16be(f + 12) == ETHERTYPE_ARP &&
			    (r = arp_reply(out, f, (uint32_t)n, ip)))
				narp++;
			else if (get16be(f + 12) == ETHERTYPE_IPV4 &&
				 (r = icmp_reply(out, f, (uint32_t)n, ip)))
				nicmp++;
			else if (get16be(f + 12) == ETHERTYPE_IPV4 &&
				 (r = udp_reply(out, f, (uint32_t)n, ip, &stop)))
				nudp++;
		}
		if (r == 0 || vnet_send(&net, NULL, out, (uint32_t)r, 1))
			ndrop++;
	}
	vnet_tx_reap(&net, 1, VIRTIO_WAIT_LONG);
	rt_printf("net-responder: arp=%llu icmp=%llu dropped=%llu udp=%llu\n",
		  (unsigned long long)narp, (unsigned long long)nicmp,
		  (unsigned long long)ndrop, (unsigned long long)nudp);
	return 0;
}

int test_net_echo(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t dur = 0, t0, frames = 0, bytes = 0, other = 0;
	struct cksum ck;
	uint8_t *f;

	if (arg && tnet_parse_duration(arg, arglen, &dur)) {
		rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	if (tnet_open(&net, bi, "net-echo") || !(f = tnet_frame_buf()))
		return 1;
	cksum_init(&ck);
	rt_printf("net-echo: up mtu=%u mrg=%d features=0x%llx\n", net.mtu, net.mrg,
		  (unsigned long long)net.dev.acked);
	t0 = rdtsc();
	while (!dur || rdtsc() - t0 < dur) {
		uint8_t tmp[ETH_ALEN];
		int n = vnet_recv(&net, f, VNET_MAX_FRAME, NULL);

		if (n == VNET_NONE) {
			vnet_tx_reap(&net, 0, 0);
			cpu_pause();
			continue;
		}
		if (n < ETH_HLEN || get16be(f + 12) != ETHERTYPE_TEST) {
			other++;
			continue;
		}
		if (tnet_tagged(f, (uint32_t)n, TNET_STOP_TAG))
			break;
		cksum_update(&ck, f, (size_t)n);
		frames++;
		bytes += (uint64_t)n;
		memcpy(tmp, f, ETH_ALEN);
		memcpy(f, f + ETH_ALEN, ETH_ALEN);
		memcpy(f + ETH_ALEN, tmp, ETH_ALEN);
		if (vnet_send(&net, NULL, f, (uint32_t)n, 1))
			other++;
	}
	vnet_tx_reap(&net, 1, VIRTIO_WAIT_LONG);
	rt_printf("net-echo: frames=%llu bytes=%llu cksum=%u other=%llu "
		  "rx_bad=%llu\n", (unsigned long long)frames,
		  (unsigned long long)bytes, cksum_final(&ck),
		  (unsigned long long)other, (unsigned long long)net.rx_bad);
	return vnet_broken(&net) ? 1 : 0;
}

/* Waits for test frames until "small" comes (no clock: the VM's timeout
 * is the watchdog); records what "big" and "small" looked like. */
int test_net_rx_small(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	uint64_t bytes = VNET_HDR_LEN + 600;
	int big = -1, small = -1, broken;
	uint32_t big_used = 0, others = 0;
	uint8_t *f;
	const char *why;

	if (arg && (parse_u64(arg, arglen, &bytes) || bytes < VNET_HDR_LEN ||
		    bytes > 1500)) {
		rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	net.rx_buf_len = (uint32_t)bytes;
	if (tnet_open(&net, bi, "net-rx-small") || !(f = tnet_frame_buf()))
		return 1;
	if (net.mrg) {	/* this test is about chains without MRG_RXBUF */
		net.want &= ~FBIT(VIRTIO_NET_F_MRG_RXBUF);
		if (vnet_init(&net, &why)) {
			rt_printf("net-rx-small: re-init: %s\n", why);
			return 1;
		}
	}
	rt_printf("net-rx-small: ready buf=%u\n", net.rx_len);
	while (small < 0 && !vnet_broken(&net)) {
		int n = vnet_recv(&net, f, VNET_MAX_FRAME, NULL);

		if (n == VNET_NONE) {
			cpu_pause();
			continue;
		}
		if (n >= 0 && tnet_tagged(f, (uint32_t)n, "big")) {
			big = n;
			big_used = net.last_used_len;
		} else if (n >= 0 && tnet_tagged(f, (uint32_t)n, "small")) {
			small = n;
		} else {
			others++;
		}
	}
	broken = vnet_broken(&net);
	if (big < 0)
		rt_printf("net-rx-small: big=dropped");
	else
		rt_printf("net-rx-small: big=delivered(len=%d used=%u)", big, big_used);
	if (small < 0)
		rt_printf(" small=missing");
	else
		rt_printf(" small=ok(len=%d)", small);
	rt_printf(" other=%u status=0x%x\n", others, vdev_status(&net.dev));
	return big < 0 && small >= 0 && !broken ? 0 : 1;
}

/* No RX buffers until the host says (one byte on the serial input) that
 * it has queued frames in the tap; then buffers, and every frame until the
 * stop frame.  Frames tagged "mark" are the host's probes for "the frames
 * queued before have all been taken": the first one is reported.  Events
 * only, no clock: how long anything takes never changes the outcome (the
 * VM's timeout is the watchdog). */
int test_net_starve(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t flood = 0, after = 0, other = 0, marks = 0;
	int quiet = arglen == 5 && !memcmp(arg, "quiet", 5);
	uint8_t *f;
	int c;

	if (arglen && !quiet) {
		rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	net.rx_no_post = 1;
	if (tnet_open(&net, bi, "net-starve") || !(f = tnet_frame_buf()))
		return 1;
	if (quiet)
		vnet_rx_post(&net, 1, 1);
	rt_puts(quiet ? "net-starve: one buffer" : "net-starve: no buffers");
	c = serial_getc();
	if (c == 0x04) {	/* the end of stdin: no cue will come */
		rt_puts("net-starve: stdin ended before the cue");
		return 1;
	}
	/* The device must have been left alone: nothing used, no failure
	 * (quiet: the one buffer may have been filled). */
	if ((!quiet && vq_has_used(&net.rx)) || vnet_broken(&net)) {
		rt_printf("net-starve: device used or failed without buffers "
			  "(status=0x%x)\n", vdev_status(&net.dev));
		return 1;
	}
	vnet_rx_post(&net, ~0u, !quiet);
	rt_puts("net-starve: posting buffers");
	for (;;) {
		int n = vnet_recv(&net, f, VNET_MAX_FRAME, NULL);

		if (n == VNET_NONE) {
			cpu_pause();
			continue;
		}
		if (n < 0) {
			other++;
			if (vnet_broken(&net))
				break;
			continue;
		}
		if (tnet_tagged(f, (uint32_t)n, TNET_STOP_TAG))
			break;
		if (tnet_tagged(f, (uint32_t)n, "mark")) {
			if (!marks++)
				rt_puts("net-starve: mark");
		} else if (tnet_tagged(f, (uint32_t)n, "flood")) {
			flood++;
		} else if (tnet_tagged(f, (uint32_t)n, "after")) {
			after++;
		} else {
			other++;
		}
	}
	rt_printf("net-starve: received=%llu after buffers\n",
		  (unsigned long long)(flood + after + other));
	rt_printf("net-starve: queued=%llu fresh=%llu other=%llu marks=%llu\n",
		  (unsigned long long)flood, (unsigned long long)after,
		  (unsigned long long)other, (unsigned long long)marks);
	return after > 0 && !vnet_broken(&net) ? 0 : 1;
}

int test_net_reset(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *f;
	uint64_t t0, t1;
	int known;
	const char *why;

	(void)arg, (void)arglen;
	if (tnet_open(&net, bi, "net-reset") || !(f = tnet_frame_buf()))
		return 1;
	/* Let the device start its read into the posted buffers. */
	delay_ticks(tnet_tsc_hz(&known) / 10);
	t0 = rdtsc();
	if (vdev_reset(&net.dev)) {
		rt_printf("net-reset: Status never read back 0 (status=0x%x)\n",
			  vdev_status(&net.dev));
		return 1;
	}
	t1 = rdtsc();
	if (vnet_init(&net, &why)) {
		rt_printf("net-reset: re-init: %s\n", why);
		return 1;
	}
	tnet_test_frame(f, 100, bcast, net.mac, "reset-ok", 0);
	if (vnet_send(&net, NULL, f, 100, 1) ||
	    vnet_tx_reap(&net, 1, VIRTIO_WAIT_LONG)) {
		rt_puts("net-reset: no frame after the reset");
		return 1;
	}
	rt_printf("net-reset: ok tsc=%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}
