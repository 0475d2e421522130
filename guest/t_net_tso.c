/*
 * net-tso[:PAYLOAD[:MSS]] -- one TCP/IPv4 frame of PAYLOAD bytes (default
 * 64000) handed to the device as a single GSO frame (HOST_TSO4, needs
 * picotest.offload): header with NEEDS_CSUM (csum_start 34, offset 16, the
 * TCP checksum field holding the pseudo-header sum as Linux leaves it),
 * gso_type TCPV4, hdr_len 54, gso_size MSS (default MTU - 40).
 *
 * Fixed addresses, so the host can check the segments it sees (tests/
 * tools/pvnet tcpseg): Ethernet 02:00:00:00:00:01 <- the guest's MAC,
 * 10.99.0.2:40000 -> 10.99.0.1:5001, sequence numbers from 0x10000000,
 * flags ACK|PSH, payload byte at stream offset i = (i * 7 + 3) mod 256.
 *
 * Prints `net-tso: sent frame=N payload=P mss=M` once the used entry came
 * back; 1 if HOST_TSO4 was not negotiated or the device failed.
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "t_net.h"

#define TSO_ISN		0x10000000u
#define TSO_SRC_IP	0x0a630002u	/* 10.99.0.2 */
#define TSO_DST_IP	0x0a630001u	/* 10.99.0.1 */

static struct vnet net;

int test_net_tso(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static const uint8_t dst[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	uint64_t a[2] = { 64000, 0 };
	struct virtio_net_hdr h;
	uint8_t *f, *ip, *tcp;
	uint32_t len, sum;

	unsigned nargs = 1;

	for (size_t i = 0; arg && i < arglen; i++)
		nargs += arg[i] == ':';
	if (arg && (nargs > 2 || parse_args(arg, arglen, a, nargs)))
		return EXIT_USAGE;
	if (a[0] == 0 || a[0] > 65535 - 40) {
		rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	if (tnet_open(&net, bi, "net-tso") || !(f = tnet_frame_buf()))
		return 1;
	if (!(net.dev.acked & FBIT(VIRTIO_NET_F_HOST_TSO4)) ||
	    !(net.dev.acked & FBIT(VIRTIO_NET_F_CSUM))) {
		rt_printf("net-tso: HOST_TSO4 not negotiated (features=0x%llx)\n",
			  (unsigned long long)net.dev.acked);
		return 1;
	}
	if (!a[1])
		a[1] = net.mtu - 40u;
	len = ETH_HLEN + 40 + (uint32_t)a[0];
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, net.mac, ETH_ALEN);
	put16be(f + 12, ETHERTYPE_IPV4);
	ip = f + ETH_HLEN;
	memset(ip, 0, 40);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(40 + a[0]));
	put16be(ip + 4, 0x1234);
	put16be(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32be(ip + 12, TSO_SRC_IP);
	put32be(ip + 16, TSO_DST_IP);
	put16be(ip + 10, tnet_csum_fold(tnet_csum_add(ip, 20, 0)));
	tcp = ip + 20;
	put16be(tcp, 40000);
	put16be(tcp + 2, 5001);
	put32be(tcp + 4, TSO_ISN);
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;			/* ACK | PSH */
	put16be(tcp + 14, 65535);
	for (uint32_t i = 0; i < a[0]; i++)
		tcp[20 + i] = (uint8_t)(i * 7 + 3);
	/* Pseudo header: addresses, protocol, TCP length; folded, not
	 * inverted (what the device or the host's GSO completes). */
	sum = tnet_csum_add(ip + 12, 8, 6 + 20 + (uint32_t)a[0]);
	put16be(tcp + 16, (uint16_t)~tnet_csum_fold(sum));
	h = (struct virtio_net_hdr){ .flags = VNET_HDR_F_NEEDS_CSUM,
				     .gso_type = VNET_GSO_TCPV4, .hdr_len = 54,
				     .gso_size = (uint16_t)a[1], .csum_start = 34,
				     .csum_offset = 16 };
	if (vnet_send(&net, &h, f, len, 1) || vnet_tx_reap(&net, 1, VIRTIO_WAIT_LONG) ||
	    vnet_broken(&net)) {
		rt_printf("net-tso: not sent (status=0x%x)\n", vdev_status(&net.dev));
		return 1;
	}
	rt_printf("net-tso: sent frame=%u payload=%llu mss=%llu\n", len,
		  (unsigned long long)a[0], (unsigned long long)a[1]);
	return 0;
}
