/*
 * blk-bench:MODE:QD:N -- a throughput driver for the benchmarks.
 *
 *   MODE  randread4k    4 KiB reads at random 4 KiB-aligned offsets
 *         seqread128k   128 KiB reads, sequential, wrapping at the end
 *         seqwrite128k  128 KiB writes, sequential, wrapping
 *   QD    requests kept in flight (1..256, fewer if the ring is full)
 *   N     requests to complete, or Ns for N seconds (needs a known TSC
 *         rate, see rt_tsc_hz())
 *
 * Prints `bench: ops=N bytes=B tsc=T tsc_hz=F kicks=K mode=M qd=Q` (tsc =
 * TSC ticks from first submit to last completion, tsc_hz 0 when unknown,
 * kicks = QueueNotify writes: with EVENT_IDX far fewer than ops).  The
 * host measures wall time itself; ops and bytes let it compute rates.
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/mem.h"
#include "virtio/blk.h"

static struct blk blk;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int test_blk_bench(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static const char *const modes[] = { "randread4k", "seqread128k",
					     "seqwrite128k" };
	uint64_t qd, n, secs = 0, hz = rt_tsc_hz(), ops = 0, submitted = 0;
	uint64_t seq = 0, t0, deadline = 0, tag;
	size_t m = 0, i, j;
	unsigned mode, inflight = 0, nfree;
	static uint16_t freebuf[VQ_MAX_NUM];
	uint32_t size, type;
	uint8_t *bufs;
	const char *why;

	while (m < arglen && arg[m] != ':')
		m++;
	for (mode = 0; mode < ARRAY_SIZE(modes); mode++)
		if (strlen(modes[mode]) == m && !memcmp(arg, modes[mode], m))
			break;
	for (i = m + 1; i < arglen && arg[i] != ':'; i++)
		;
	j = arglen > 0 && arg[arglen - 1] == 's' ? arglen - 1 : arglen;
	if (mode == ARRAY_SIZE(modes) || i >= arglen ||
	    parse_u64(arg + m + 1, i - m - 1, &qd) ||
	    parse_u64(arg + i + 1, j - i - 1, &n) || qd == 0 || qd > VQ_MAX_NUM) {
		rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	if (j != arglen) {
		if (!hz) {
			rt_puts("bench: TSC rate unknown; give a request count");
			return 1;
		}
		secs = n;
		n = UINT64_MAX;
	}
	if (blk_open(&blk, bi, 0, &why)) {
		rt_printf("bench: no usable virtio-blk device: %s\n", why);
		return 1;
	}
	size = mode == 0 ? 4096 : 131072;
	type = mode == 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	if (blk.capacity < size / BLK_SECTOR ||
	    !(bufs = rt_alloc(qd * size, 4096))) {
		rt_puts("bench: disk too small or out of memory");
		return 1;
	}
	for (uint64_t k = 0; k < qd * size; k++)
		bufs[k] = (uint8_t)k;
	for (nfree = 0; nfree < qd; nfree++)
		freebuf[nfree] = (uint16_t)nfree;
	t0 = rdtsc();
	if (secs)
		deadline = t0 + secs * hz;
	while (ops < submitted || (submitted < n && !(secs && rdtsc() > deadline))) {
		/* Refill, one kick for the batch, then take what is done. */
		while (inflight < qd && submitted < n &&
		       !(secs && rdtsc() > deadline)) {
			uint64_t s, span = blk.capacity / (size / BLK_SECTOR);
			int slot;

			if (mode == 0) {
				s = xorshift() % span * (size / BLK_SECTOR);
			} else {
				if (seq + size / BLK_SECTOR > blk.capacity)
					seq = 0;
				s = seq;
				seq += size / BLK_SECTOR;
			}
			/* Buffers in flight are never shared: a stack of
			 * free buffer numbers, the number as the tag. */
			slot = blk_submit(&blk, type, s,
					  bufs + (uint64_t)freebuf[nfree - 1] * size,
					  size, freebuf[nfree - 1]);
			if (slot < 0)
				break;
			nfree--;
			inflight++;
			submitted++;
		}
		vq_kick(&blk.q);
		while (!vq_has_used(&blk.q))
			cpu_pause();
		for (int st; blk_poll(&blk, &tag, &st) > 0; ops++, inflight--) {
			freebuf[nfree++] = (uint16_t)tag;
			if (st != VIRTIO_BLK_S_OK) {
				rt_printf("bench: request failed: %s\n",
					  blk_status_name(st));
				return 1;
			}
		}
	}
	rt_printf("bench: ops=%llu bytes=%llu tsc=%llu tsc_hz=%llu kicks=%llu "
		  "mode=%s qd=%llu\n",
		  (unsigned long long)ops, (unsigned long long)(ops * size),
		  (unsigned long long)(rdtsc() - t0), (unsigned long long)hz,
		  (unsigned long long)blk.q.kicks, modes[mode],
		  (unsigned long long)qd);
	return 0;
}
