/*
 * net-bench:MODE:... -- virtio-net throughput and latency drivers for the
 * benchmarks (the host side is tests/tools/pvnet).
 *
 *   tx:SIZE:COUNT  sends COUNT test frames of SIZE bytes (Ethernet header
 *                  included, 14..MTU+14) to the broadcast address as fast
 *                  as the ring allows
 *   rx:DUR         counts frames and bytes received for DUR (seconds, "Nt"
 *                  ticks, 0: until the stop frame), timed from the first
 *   pingpong       sends every test frame straight back (MACs swapped),
 *                  until the stop frame
 *
 * Prints `bench: frames=N bytes=B tsc=T tsc_hz=F kicks=K mode=M` (tsc:
 * TSC ticks from the first frame to the last; tsc_hz 0 when CPUID does not
 * tell; kicks: QueueNotify writes on the queue the mode uses).
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "t_net.h"

static struct vnet net;

static void report(const char *mode, uint64_t frames, uint64_t bytes,
		   uint64_t tsc, uint64_t kicks)
{
	int known;
	uint64_t hz = tnet_tsc_hz(&known);

	rt_printf("bench: frames=%llu bytes=%llu tsc=%llu tsc_hz=%llu kicks=%llu "
		  "mode=%s\n", (unsigned long long)frames,
		  (unsigned long long)bytes, (unsigned long long)tsc,
		  (unsigned long long)(known ? hz : 0),
		  (unsigned long long)kicks, mode);
}

static int bench_tx(uint64_t size, uint64_t count)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *f = tnet_frame_buf();
	uint64_t t0, sent = 0;
	/* A kick every 32 frames keeps the device fed without an exit per
	 * frame; EVENT_IDX drops the ones it does not need. */
	const unsigned batch = 32;

	if (size < ETH_HLEN || size > (uint64_t)net.mtu + ETH_HLEN) {
		rt_printf("net-bench: size %llu not in 14..%u\n",
			  (unsigned long long)size, net.mtu + ETH_HLEN);
		return EXIT_USAGE;
	}
	tnet_test_frame(f, (uint32_t)size, bcast, net.mac, "bench", 0);
	t0 = rdtsc();
	for (; sent < count; sent++)
		if (vnet_send(&net, NULL, f, (uint32_t)size,
			      sent % batch == batch - 1))
			break;
	vq_kick(&net.tx);
	if (vnet_tx_reap(&net, 1, VIRTIO_WAIT_LONG))
		rt_puts("net-bench: transmit ring did not drain");
	report("tx", sent, sent * size, rdtsc() - t0, net.tx.kicks);
	return sent == count ? 0 : 1;
}

static int bench_rx(uint64_t dur)
{
	uint8_t *f = tnet_frame_buf();
	uint64_t t0 = 0, t1 = 0, frames = 0, bytes = 0;

	rt_puts("net-bench: rx ready");
	while (!frames || !dur || rdtsc() - t0 < dur) {
		int n = vnet_recv(&net, f, VNET_MAX_FRAME, NULL);

		if (n == VNET_NONE) {
			cpu_pause();
			continue;
		}
		if (n < 0)
			continue;
		if (tnet_tagged(f, (uint32_t)n, TNET_STOP_TAG))
			break;
		t1 = rdtsc();
		if (!frames++)
			t0 = t1;
		bytes += (uint64_t)n;
	}
	report("rx", frames, bytes, t1 - t0, net.rx.kicks);
	return 0;
}

static int bench_pingpong(void)
{
	uint8_t *f = tnet_frame_buf();
	uint64_t t0 = 0, t1 = 0, frames = 0, bytes = 0;

	rt_puts("net-bench: pingpong ready");
	for (;;) {
		uint8_t tmp[ETH_ALEN];
		int n = vnet_recv(&net, f, VNET_MAX_FRAME, NULL);

		if (n == VNET_NONE) {
			cpu_pause();
			continue;
		}
		if (n < ETH_HLEN || get16be(f + 12) != ETHERTYPE_TEST)
			continue;
		if (tnet_tagged(f, (uint32_t)n, TNET_STOP_TAG))
			break;
		memcpy(tmp, f, ETH_ALEN);
		memcpy(f, f + ETH_ALEN, ETH_ALEN);
		memcpy(f + ETH_ALEN, tmp, ETH_ALEN);
		vnet_send(&net, NULL, f, (uint32_t)n, 1);
		t1 = rdtsc();
		if (!frames++)
			t0 = t1;
		bytes += (uint64_t)n;
		vnet_tx_reap(&net, 0, 0);
	}
	report("pingpong", frames, bytes, t1 - t0, net.tx.kicks);
	return 0;
}

int test_net_bench(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	size_t m = 0;
	uint64_t a[2];

	while (m < arglen && arg[m] != ':')
		m++;
	if (tnet_open(&net, bi, "net-bench"))
		return 1;
	if (m == 2 && !memcmp(arg, "tx", 2) && m < arglen &&
	    parse_args(arg + 3, arglen - 3, a, 2) == 0)
		return bench_tx(a[0], a[1]);
	if (m == 2 && !memcmp(arg, "rx", 2) && m < arglen &&
	    tnet_parse_duration(arg + 3, arglen - 3, &a[0]) == 0)
		return bench_rx(a[0]);
	if (m == arglen && m == 8 && !memcmp(arg, "pingpong", 8))
		return bench_pingpong();
	rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
	return EXIT_USAGE;
}
