/*
 * CPU helpers and the trap frame.  Functions marked CPL0 fault (#GP) at
 * CPL3; the rest work at either level.
 */
#ifndef PICOTEST_RT_CPU_H
#define PICOTEST_RT_CPU_H

#include <stdint.h>

/* What traps.S pushes, lowest address first.  rt_trap() may change the
 * saved registers (services return their result in rax). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

/* ioemu.c (CPL0): performs the in/out a #GP(0) from CPL3 stopped at;
 * returns 0 if the instruction is not one. */
int rt_emulate_io(struct trap_frame *f);

/* desc.c (CPL0): installs an interrupt gate (DPL0) for vec -> fn. */
void rt_set_gate(unsigned vec, uint64_t fn);

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline unsigned cpu_cpl(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3u;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

/* tsc.c: the TSC rate from CPUID leaf 0x15 (crystal ratio), 0x16 (base
 * MHz) or the hypervisor timing leaf 0x40000010 (kHz, VMware convention;
 * QEMU and others fill it); 0 if none tells.  Calibrating against the PIT
 * would need trapped port I/O. */
uint64_t rt_tsc_hz(void);

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}

/* CPL0 */
static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

/* CPL0 */
static inline void lidt(const struct desc_ptr *p)
{
	__asm__ volatile("lidt %0" : : "m"(*p) : "memory");
}

/* CPL0 */
static inline void ltr(uint16_t sel)
{
	__asm__ volatile("ltr %0" : : "r"(sel) : "memory");
}

/* CPL0 */
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

#endif
