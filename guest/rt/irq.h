/*
 * Interrupts for CPL3 tests: the local APIC, the IOAPIC and one counting
 * vector.  Everything except the handler itself runs at CPL3 (LAPIC and
 * IOAPIC are MMIO, mapped with U); the handler (traps.S rt_irq_stub) only
 * counts and EOIs, because CPL0 is slow on the build machines' KVM.
 *
 *   irq_init(vec);            LAPIC on, PIC masked, gates for vec and 0xff
 *   ioapic_route(gsi, vec);   edge, active high, fixed, physical, to us
 *   irq_enable(1);            IF=1 (through a CPL0 service)
 *   ... wait until rt_irq_count moves ...
 */
#ifndef PICOTEST_RT_IRQ_H
#define PICOTEST_RT_IRQ_H

#include <stdint.h>

#define IRQ_SPURIOUS_VECTOR 0xff

/* Incremented by the handler of the counting vector. */
extern volatile uint64_t rt_irq_count;
/* Address the handler writes 0 to (the LAPIC EOI register). */
extern uint64_t rt_lapic_eoi;

/* 0, or -1 if the service refused the vector (not 32..254). */
int irq_init(unsigned vector);
/* Routes GSI gsi to vector on this CPU.  GSIs past the first IOAPIC's
 * last pin go to a second IOAPIC at 0xfec10000 (QEMU microvm's
 * "ioapic2", which holds its virtio-mmio IRQs).  0, or -1 if there is
 * no such pin. */
int ioapic_route(unsigned gsi, unsigned vector);
void ioapic_mask(unsigned gsi);
void irq_enable(int on);

#endif
