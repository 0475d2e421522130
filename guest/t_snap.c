/*
 * snap:ROUNDS:POINTS: work that a snapshot cuts in the middle.  Starts
 * every AP the MP table lists (they park, halted, at CPL0), then runs
 * ROUNDS rounds of a pseudo-random fill over a 256 KiB buffer in POINTS+1
 * parts, writing picovm's snapshot port (0x512) between parts.  Prints
 *     snap: part K cksum=C        after each part but the last
 *     snap: done cksum=C aps=N    at the end (N: APs that came up)
 * The output of a run whose snapshots are restored, concatenated, equals
 * that of a run without snapshot.path (the port is then ignored).
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/smp.h"
#include "../devices/ports.h"

#define WORDS (64 * 1024)
#define WAIT_TICKS 3000000000ULL

static uint32_t buf[WORDS];

static void fill(uint64_t *x, uint64_t rounds)
{
	for (uint64_t r = 0; r < rounds; r++)
		for (unsigned i = 0; i < WORDS; i++) {
			*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[i] ^= (uint32_t)(*x >> 33);
		}
}

int test_snap(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t a[2], x = 1;
	struct mp_info mi;
	const char *why = "";
	unsigned sent = 0;

	(void)bi;
	if (parse_args(arg, arglen, a, 2) || a[1] > 16)
		return EXIT_USAGE;
	if (mptable_find(&mi, &why) == 0) {
		sent = smp_start_aps(&mi);
		uint64_t start = rdtsc();
		while (smp_ap_count() < sent && rdtsc() - start < WAIT_TICKS)
			cpu_pause();
	}
	uint64_t per = a[0] / (a[1] + 1);
	for (uint64_t k = 0; k < a[1]; k++) {
		fill(&x, per);
		rt_printf("snap: part %llu cksum=%u\n", (unsigned long long)k,
			  cksum(buf, sizeof(buf)));
		outb(PICOVM_PORT_SNAPSHOT, 1);
	}
	fill(&x, a[0] - per * a[1]);
	rt_printf("snap: done cksum=%u aps=%u\n", cksum(buf, sizeof(buf)),
		  smp_ap_count());
	return 0;
}
