/*
 * Port I/O from CPL3 when IOPL=3 is not honoured (CPL0).
 *
 * User code runs with RFLAGS.IOPL=3, which on ordinary KVM (and TCG) lets
 * in/out execute natively at CPL3.  The nested, page-table based KVM of
 * the build machines ignores the guest's IOPL for user mode: every in/out
 * at CPL3 raises #GP(0).  rt_trap() hands such a #GP here; if the
 * faulting instruction is a non-string in/out, it is performed at CPL0 on
 * the user's behalf and the user resumes after it.  rt_io_trapped counts
 * these, so the runtime can switch its hot paths (serial.c) to batched
 * services that cost one trap per buffer instead of two per byte.
 *
 * Measured here (2.1 GHz TSC): a trapped inb ~64 us, an int3 service
 * round trip ~38 us, a CPL3 LAPIC MMIO read ~6 us.
 */
#include <stdint.h>

#include "cpu.h"
#include "rt.h"

volatile uint64_t rt_io_trapped;

/* Performs the I/O for the frame's registers; returns 0 if the bytes at
 * RIP are not an in/out we handle. */
int rt_emulate_io(struct trap_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->rip;
	unsigned len = 0, size = 4;
	uint16_t port;
	uint8_t op;
	uint32_t v;

	if (f->rip > (4ULL << 30) - 16)
		return 0;
	if (ip[0] == 0x66) {
		size = 2;
		len = 1;
	}
	op = ip[len++];
	switch (op) {
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:
		port = ip[len++];
		break;
	case 0xec: case 0xed: case 0xee: case 0xef:
		port = (uint16_t)f->rdx;
		break;
	default:
		return 0;
	}
	if (!(op & 1))
		size = 1;
	if (op & 2) {	/* out */
		v = (uint32_t)f->rax;
		if (size == 1)
			__asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port));
		else if (size == 2)
			__asm__ volatile("outw %w0, %w1" : : "a"(v), "Nd"(port));
		else
			__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port));
	} else if (size == 1) {
		uint8_t b;
		__asm__ volatile("inb %w1, %0" : "=a"(b) : "Nd"(port));
		f->rax = (f->rax & ~0xffULL) | b;
	} else if (size == 2) {
		uint16_t w;
		__asm__ volatile("inw %w1, %0" : "=a"(w) : "Nd"(port));
		f->rax = (f->rax & ~0xffffULL) | w;
	} else {
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
		f->rax = v;	/* 32-bit results zero-extend */
	}
	f->rip += len;
	rt_io_trapped++;
	return 1;
}
