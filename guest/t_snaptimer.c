/*
 * snaptimer: a TSC-deadline timer armed across a snapshot, as a tickless
 * Linux guest leaves its clock event.  Programs the local APIC timer in
 * TSC-deadline mode (LVTT mode 10b) on a counting vector, arms
 * IA32_TSC_DEADLINE (service SYS_TSC_DEADLINE) about 2 s of TSC ahead and
 * at once writes the snapshot port (0x512).  Then, in the restored VM (or
 * the same one without snapshot.path), with IF on, it polls the TSC until
 * the interrupt came or a watchdog far past the deadline ran out (the
 * watchdog is the TSC, not the LAPIC).  Prints
 *     snaptimer: armed
 *     snaptimer: restores=A->B deadline=ahead|passed irr=0|1
 *     snaptimer: fired                  (status 0)
 *     snaptimer: no interrupt           (status 1)
 * (deadline: where the TSC stood right after the port write; irr: the
 * vector pending in the LAPIC then.)  Without a TSC-deadline timer
 * (CPUID.1:ECX bit 24, or LVTT refuses the mode) it prints
 *     snaptimer: skip: REASON           (status 3)
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/irq.h"
#include "rt/layout.h"
#include "rt/rt.h"
#include "rt/smp.h"
#include "../devices/ports.h"

#define TIMER_VECTOR	0x46
#define LAPIC_IRR(v)	(LAPIC_DEFAULT_BASE + 0x200 + ((v) / 32) * 0x10)
#define LAPIC_LVTT	(LAPIC_DEFAULT_BASE + 0x320)
#define LVTT_MASKED	0x10000u
#define LVTT_MODE	(3u << 17)
#define LVTT_TSC_DEADLINE (2u << 17)	/* 10b; 01b is periodic */
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
/* Ahead when the rate is not known: 2 s at 3 GHz. */
#define AHEAD_TICKS	6000000000ULL
/* A watchdog past the deadline, not a measure: the interrupt is due at
 * the deadline; this is tens of seconds of TSC on any host. */
#define WAIT_TICKS	(60ULL * 1000 * 1000 * 1000)

int test_snap_timer(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint32_t a, b, c, d;

	(void)bi, (void)arg, (void)arglen;
	cpuid(1, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_TSC_DEADLINE)) {
		rt_puts("snaptimer: skip: no TSC-deadline timer (CPUID.1:ECX bit 24 clear)");
		return 3;
	}
	if (irq_init(TIMER_VECTOR)) {
		rt_puts("snaptimer: no interrupt gate");
		return 1;
	}
	/* The mode first: the LAPIC ignores the MSR in any other mode. */
	mmio_write32(LAPIC_LVTT, LVTT_TSC_DEADLINE | TIMER_VECTOR);
	if ((mmio_read32(LAPIC_LVTT) & LVTT_MODE) != LVTT_TSC_DEADLINE) {
		rt_puts("snaptimer: skip: the LAPIC timer refused TSC-deadline mode");
		return 3;
	}
	uint64_t hz = rt_tsc_hz(), ahead = hz ? 2 * hz : AHEAD_TICKS;
	uint8_t r0 = inb(PICOVM_PORT_SNAPSHOT);
	rt_puts("snaptimer: armed");
	uint64_t deadline = rdtsc() + ahead;
	rt_syscall(SYS_TSC_DEADLINE, deadline);
	outb(PICOVM_PORT_SNAPSHOT, 1);
	uint64_t now = rdtsc();
	uint32_t irr = mmio_read32(LAPIC_IRR(TIMER_VECTOR)) >>
		       (TIMER_VECTOR % 32) & 1;
	uint8_t r1 = inb(PICOVM_PORT_SNAPSHOT);
	rt_printf("snaptimer: restores=%u->%u deadline=%s irr=%u\n", r0, r1,
		  now < deadline ? "ahead" : "passed", irr);
	irq_enable(1);
	while (!rt_irq_count &&
	       (int64_t)(rdtsc() - deadline) < (int64_t)WAIT_TICKS)
		cpu_pause();
	irq_enable(0);
	mmio_write32(LAPIC_LVTT, LVTT_MASKED | TIMER_VECTOR);
	rt_syscall(SYS_TSC_DEADLINE, 0);
	rt_puts(rt_irq_count ? "snaptimer: fired" : "snaptimer: no interrupt");
	return rt_irq_count ? 0 : 1;
}
