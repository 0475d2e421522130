/*
 * LAPIC and IOAPIC set-up for irq.h (CPL3).
 */
#include <stdint.h>

#include "io.h"
#include "irq.h"
#include "layout.h"
#include "rt.h"
#include "smp.h"

#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define SVR_ENABLE	0x100

#define IOAPIC_BASE	0xfec00000u
#define IOAPIC2_BASE	0xfec10000u
#define IOAPIC_SEL	0x00
#define IOAPIC_WIN	0x10
#define IOAPIC_VER	0x01
#define IOAPIC_RED(n)	(0x10 + 2 * (n))
#define RED_MASKED	0x10000u

#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1

volatile uint64_t rt_irq_count;
uint64_t rt_lapic_eoi;
static uint64_t lapic = LAPIC_DEFAULT_BASE;

static uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
	mmio_write32(base + IOAPIC_SEL, reg);
	return mmio_read32(base + IOAPIC_WIN);
}

static void ioapic_write(uint64_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base + IOAPIC_SEL, reg);
	mmio_write32(base + IOAPIC_WIN, v);
}

int irq_init(unsigned vector)
{
	rt_lapic_eoi = lapic + LAPIC_EOI;
	/* The 8259s may have been left unmasked with their vectors on the
	 * exceptions (base 8); nothing here wants them. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	if (rt_syscall3(SYS_IRQ_GATE, vector, IRQ_GATE_COUNT, 0) ||
	    rt_syscall3(SYS_IRQ_GATE, IRQ_SPURIOUS_VECTOR, IRQ_GATE_SPURIOUS, 0))
		return -1;
	mmio_write32(lapic + LAPIC_TPR, 0);
	mmio_write32(lapic + LAPIC_SVR, SVR_ENABLE | IRQ_SPURIOUS_VECTOR);
	return 0;
}

/* Which IOAPIC holds gsi, and the pin on it; 0 if none does. */
static uint64_t ioapic_of(unsigned gsi, unsigned *pin)
{
	unsigned pins = ((ioapic_read(IOAPIC_BASE, IOAPIC_VER) >> 16) & 0xff) + 1;

	if (gsi < pins) {
		*pin = gsi;
		return IOAPIC_BASE;
	}
	/* Absent, the second IOAPIC's window reads as all ones. */
	if (ioapic_read(IOAPIC2_BASE, IOAPIC_VER) == 0xffffffffu)
		return 0;
	*pin = gsi - pins;
	if (*pin > ((ioapic_read(IOAPIC2_BASE, IOAPIC_VER) >> 16) & 0xff))
		return 0;
	return IOAPIC2_BASE;
}

int ioapic_route(unsigned gsi, unsigned vector)
{
	unsigned pin;
	uint64_t base = ioapic_of(gsi, &pin);
	uint32_t apic_id = mmio_read32(lapic + LAPIC_ID) >> 24;

	if (!base)
		return -1;
	/* Destination first, then the low word, which unmasks: edge,
	 * active high, fixed delivery, physical destination. */
	ioapic_write(base, IOAPIC_RED(pin) + 1, apic_id << 24);
	ioapic_write(base, IOAPIC_RED(pin), vector & 0xff);
	return 0;
}

void ioapic_mask(unsigned gsi)
{
	unsigned pin;
	uint64_t base = ioapic_of(gsi, &pin);

	if (base)
		ioapic_write(base, IOAPIC_RED(pin), RED_MASKED);
}

void irq_enable(int on)
{
	rt_syscall(SYS_SET_IF, (uint64_t)on);
}
