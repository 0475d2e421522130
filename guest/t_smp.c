/*
 * smp: count the CPUs the MP table lists as enabled, start every AP, and
 * see how many check in.  Prints
 *     smp: mptable=N up=M apicids=A,B,...
 * (ids ascending, the boot CPU included) and passes when M == N.
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/smp.h"

/* How long to wait for the APs: ~1 s at 3 GHz; ends as soon as all are
 * in.  Each AP runs ~100 instructions at CPL0, emulated or not. */
#define WAIT_TICKS 3000000000ULL

int test_smp(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	struct mp_info mi;
	uint8_t ids[MAX_CPUS];
	unsigned enabled = 0, sent, up, n = 0;
	const char *why = "";
	uint64_t start;

	(void)bi, (void)arg, (void)arglen;
	if (mptable_find(&mi, &why)) {
		rt_printf("smp: %s\n", why);
		return 1;
	}
	for (unsigned i = 0; i < mi.ncpus; i++)
		enabled += mi.cpu[i].enabled;

	sent = smp_start_aps(&mi);
	start = rdtsc();
	while (smp_ap_count() < sent && rdtsc() - start < WAIT_TICKS)
		cpu_pause();
	up = 1 + smp_ap_count();

	ids[n++] = cpu_apic_id();
	for (unsigned i = 0; i + 1 < up && n < MAX_CPUS; i++)
		ids[n++] = smp_ap_id(i);
	for (unsigned i = 1; i < n; i++)	/* insertion sort */
		for (unsigned j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			uint8_t t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	rt_printf("smp: mptable=%u up=%u apicids=", enabled, up);
	for (unsigned i = 0; i < n; i++)
		rt_printf("%s%u", i ? "," : "", ids[i]);
	rt_printf("\n");
	return up == enabled ? 0 : 1;
}
