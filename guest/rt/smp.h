/*
 * Multiprocessor support: the Intel MP table (mptable.c) and starting APs
 * with INIT/SIPI/SIPI through the local APIC (smp.c).  CPL3.
 */
#ifndef PICOTEST_RT_SMP_H
#define PICOTEST_RT_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

#define LAPIC_DEFAULT_BASE 0xfee00000u

struct mp_cpu {
	uint8_t apic_id;
	bool enabled;
	bool bsp;
};

struct mp_info {
	uint64_t fps;		/* floating pointer structure address */
	uint64_t table;		/* configuration table address */
	uint64_t lapic;		/* local APIC base from the table */
	unsigned ncpus;		/* processor entries, enabled or not */
	struct mp_cpu cpu[MAX_CPUS];
};

/* Searches the three standard places, validates both checksums (and the
 * extended table's), and collects the processor entries.  0, or -1 with
 * *why set. */
int mptable_find(struct mp_info *mi, const char **why);

/* This CPU's APIC id, from its local APIC's ID register (bits 31:24),
 * never from CPUID (smp.c says why).  CPL3 or CPL0. */
uint8_t cpu_apic_id(void);

/* Copies the trampoline and sends INIT, SIPI, SIPI to every enabled
 * non-boot CPU in *mi.  Returns how many were sent the sequence. */
unsigned smp_start_aps(const struct mp_info *mi);

/* APs that have reached rt_ap_main, and their APIC ids in arrival
 * order. */
unsigned smp_ap_count(void);
uint8_t smp_ap_id(unsigned slot);

#endif
