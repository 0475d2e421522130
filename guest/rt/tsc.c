/*
 * The TSC rate, for turning seconds into ticks (watchdogs, "Ns" durations,
 * benchmark figures).  CPUID is trusted here, and only here besides the
 * feature-free leaves the tests print: on a nested KVM the answer may come
 * from the outer host, but leaves 0x15, 0x16 and 0x40000010 describe the
 * one TSC every host CPU shares, so the value does not depend on where the
 * vCPU thread runs.  Identity (APIC ids) never comes from CPUID: smp.c.
 */
#include <stdint.h>

#include "cpu.h"

uint64_t rt_tsc_hz(void)
{
	uint32_t a, b, c, d, max;

	cpuid(0, &max, &b, &c, &d);
	if (max >= 0x15) {
		cpuid(0x15, &a, &b, &c, &d);
		if (a && b && c)
			return (uint64_t)c * b / a;
	}
	if (max >= 0x16) {
		cpuid(0x16, &a, &b, &c, &d);
		if (a & 0xffff)
			return (uint64_t)(a & 0xffff) * 1000000;
	}
	cpuid(0x40000000, &max, &b, &c, &d);
	if (max >= 0x40000010 && max < 0x50000000) {
		cpuid(0x40000010, &a, &b, &c, &d);
		if (a)
			return (uint64_t)a * 1000;
	}
	return 0;
}
