/*
 * virtio-net against a host that misbehaves or loses its tap (issue 16).
 *
 *   net-offload-loop:N
 *       N times: reset and initialise the device acking GUEST_TSO4 without
 *       GUEST_CSUM, which the tap refuses (TUNSETOFFLOAD: EINVAL) each
 *       time: `net-offload-loop: N inits`.  picovm's log must stay short.
 *   net-link-watch
 *       `net-link: up`, then polls the config status (about every 1 ms)
 *       until LINK_UP clears: `net-link: down` (status 0), or after about
 *       VIRTIO_WAIT_LONG * 8 ticks `net-link: still up` (status 1).
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "t_net.h"

static struct vnet net;

int test_net_offload_loop(const struct bootinfo *bi, const char *arg,
			  size_t arglen)
{
	uint64_t n;
	const char *why;

	if (parse_u64(arg, arglen, &n))
		return EXIT_USAGE;
	if (tnet_open(&net, bi, "net-offload-loop"))
		return 1;
	net.want = (net.want | FBIT(VIRTIO_NET_F_GUEST_TSO4)) &
		   ~FBIT(VIRTIO_NET_F_GUEST_CSUM);
	net.rx_no_post = 1;
	for (uint64_t i = 0; i < n; i++) {
		if (vnet_init(&net, &why)) {
			rt_printf("net-offload-loop: init %llu: %s\n",
				  (unsigned long long)i, why);
			return 1;
		}
	}
	rt_printf("net-offload-loop: %llu inits\n", (unsigned long long)n);
	return 0;
}

int test_net_link_watch(const struct bootinfo *bi, const char *arg,
			size_t arglen)
{
	(void)arg, (void)arglen;
	if (tnet_open(&net, bi, "net-link-watch"))
		return 1;
	if (!(net.dev.acked & FBIT(VIRTIO_NET_F_STATUS))) {
		rt_printf("net-link: STATUS not offered\n");
		return 1;
	}
	rt_printf("net-link: up\n");
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < 8 * VIRTIO_WAIT_LONG) {
		if (!(vdev_cfg16(&net.dev, VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP)) {
			rt_printf("net-link: down\n");
			return 0;
		}
		for (uint64_t t = rdtsc(); rdtsc() - t < 2000000;)
			cpu_pause();
	}
	rt_printf("net-link: still up\n");
	return 1;
}
