/*
 * Starting APs (CPL3 side) and where they end up (rt_ap_main, CPL0).
 *
 * The boot CPU copies the trampoline (ap.S) below 1 MiB, then sends
 * INIT, SIPI, SIPI to each AP by APIC id through the local APIC's ICR
 * (MMIO, mapped with U, so this runs at CPL3).  The delays are the MP
 * specification's 10 ms and 200 us, counted in TSC ticks for a TSC of up
 * to 4 GHz: longer on slower clocks, which only costs time once.
 */
#include <stdint.h>

#include "cpu.h"
#include "io.h"
#include "rt.h"
#include "smp.h"

#define LAPIC_ID	0x020
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define SVR_ENABLE	0x100
#define ICR_INIT	0x00000500
#define ICR_STARTUP	0x00000600
#define ICR_ASSERT	0x00004000
#define ICR_BUSY	0x00001000

#define TICKS_10MS	40000000ULL
#define TICKS_200US	800000ULL
#define ICR_BUSY_POLLS	1000000

extern const char ap_tramp_start[], ap_tramp_end[];

static volatile uint32_t ap_count;
static volatile uint8_t ap_ids[MAX_CPUS];
/* The local APIC window: the MP table's address once smp_start_aps has
 * seen it (before any AP runs, so the APs read the final value). */
static uint64_t lapic_base = LAPIC_DEFAULT_BASE;

/* Not CPUID.1:EBX[31:24]: on a nested KVM, CPUID executed by the guest can
 * be answered by the outer host, with the APIC id of whichever host CPU
 * the vCPU thread runs on.  The ID register is the local APIC's own (KVM
 * emulates it), and its page is mapped with U, so this works at CPL3 and
 * at CPL0 (rt_ap_main). */
uint8_t cpu_apic_id(void)
{
	return (uint8_t)(mmio_read32(lapic_base + LAPIC_ID) >> 24);
}

static void send_ipi(uint64_t lapic, uint8_t apic_id, uint32_t icr)
{
	mmio_write32(lapic + LAPIC_ICR_HI, (uint32_t)apic_id << 24);
	mmio_write32(lapic + LAPIC_ICR_LO, icr);
	for (int i = 0; i < ICR_BUSY_POLLS; i++)
		if (!(mmio_read32(lapic + LAPIC_ICR_LO) & ICR_BUSY))
			break;
}

unsigned smp_start_aps(const struct mp_info *mi)
{
	uint64_t lapic = mi->lapic ? mi->lapic : LAPIC_DEFAULT_BASE;
	uint8_t self;
	uint32_t vector = AP_TRAMPOLINE >> 12;
	unsigned n = 0;

	lapic_base = lapic;
	self = cpu_apic_id();

	memcpy((void *)(uint64_t)AP_TRAMPOLINE, ap_tramp_start,
	       (size_t)(ap_tramp_end - ap_tramp_start));
	mmio_write32(lapic + LAPIC_SVR,
		     mmio_read32(lapic + LAPIC_SVR) | SVR_ENABLE | 0xff);

	for (unsigned i = 0; i < mi->ncpus; i++) {
		const struct mp_cpu *c = &mi->cpu[i];

		if (c->enabled && c->apic_id != self) {
			send_ipi(lapic, c->apic_id, ICR_INIT | ICR_ASSERT);
			n++;
		}
	}
	if (!n)
		return 0;
	delay_ticks(TICKS_10MS);
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < mi->ncpus; i++) {
			const struct mp_cpu *c = &mi->cpu[i];

			if (c->enabled && c->apic_id != self)
				send_ipi(lapic, c->apic_id,
					 ICR_STARTUP | ICR_ASSERT | vector);
		}
		delay_ticks(TICKS_200US);
	}
	return n;
}

unsigned smp_ap_count(void)
{
	return __atomic_load_n(&ap_count, __ATOMIC_ACQUIRE);
}

uint8_t smp_ap_id(unsigned slot)
{
	return slot < MAX_CPUS ? ap_ids[slot] : 0xff;
}

/* CPL0, on each AP, on its own small stack (ap.S).  Records the APIC id
 * and then reports in; returning parks the CPU (cli; hlt). */
void rt_ap_main(unsigned slot);
void rt_ap_main(unsigned slot)
{
	ap_ids[slot] = cpu_apic_id();
	__atomic_fetch_add(&ap_count, 1, __ATOMIC_RELEASE);
}
