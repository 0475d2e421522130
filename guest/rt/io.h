/*
 * Port I/O and MMIO accessors.  Port I/O works at CPL3 because the
 * runtime runs user code with IOPL=3 -- natively on ordinary KVM and TCG,
 * trapped and emulated at CPL0 (ioemu.c) where the hypervisor ignores
 * IOPL, so prefer the batched helpers in rt.h for bulk transfers.  MMIO
 * works at CPL3 because the whole identity map has the U bit.  Every MMIO access is exactly one
 * instruction of the named width (volatile), and the compiler may not
 * move memory accesses across it, so a device driver can rely on program
 * order for its ring writes and doorbells.
 */
#ifndef PICOTEST_RT_IO_H
#define PICOTEST_RT_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint8_t mmio_read8(uint64_t addr)
{
	uint8_t v;
	__asm__ volatile("movb %1, %0"
			 : "=q"(v) : "m"(*(volatile uint8_t *)addr) : "memory");
	return v;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
	uint16_t v;
	__asm__ volatile("movw %1, %0"
			 : "=r"(v) : "m"(*(volatile uint16_t *)addr) : "memory");
	return v;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	uint32_t v;
	__asm__ volatile("movl %1, %0"
			 : "=r"(v) : "m"(*(volatile uint32_t *)addr) : "memory");
	return v;
}

static inline uint64_t mmio_read64(uint64_t addr)
{
	uint64_t v;
	__asm__ volatile("movq %1, %0"
			 : "=r"(v) : "m"(*(volatile uint64_t *)addr) : "memory");
	return v;
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
	__asm__ volatile("movb %1, %0"
			 : "=m"(*(volatile uint8_t *)addr) : "q"(v) : "memory");
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
	__asm__ volatile("movw %1, %0"
			 : "=m"(*(volatile uint16_t *)addr) : "r"(v) : "memory");
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("movl %1, %0"
			 : "=m"(*(volatile uint32_t *)addr) : "r"(v) : "memory");
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
	__asm__ volatile("movq %1, %0"
			 : "=m"(*(volatile uint64_t *)addr) : "r"(v) : "memory");
}

/* Orders plain memory accesses (shared rings) against each other and
 * against MMIO; x86 is strongly ordered except store->load. */
static inline void mb(void)
{
	__asm__ volatile("mfence" : : : "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

#endif
