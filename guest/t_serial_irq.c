/*
 * serial-irq: the 8250 in interrupt mode, as Linux drives it.  Enables
 * the receive-data interrupt (IER bit 0, MCR OUT2), routes IRQ 4 through
 * the IOAPIC, tells the host it is ready, and counts interrupts while it
 * reads the line the host sends.  Prints
 *   serial-irq: ready
 *   serial-irq: irqs=N len=L cksum=C
 * and exits 0 when at least one interrupt arrived and the line is whole.
 */
#include <stdint.h>

#include "devices/ports.h"
#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/irq.h"

#define COM1 PICOVM_PORT_COM1
#define IRQ_VECTOR 0x44
#define LINE_MAX 256
/* Generous: the host writes right after it sees "ready". */
#define WAIT_TICKS (20ULL * 1000 * 1000 * 1000)

int test_serial_irq(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	char line[LINE_MAX];
	size_t n = 0;

	(void)bi, (void)arg, (void)arglen;
	if (irq_init(IRQ_VECTOR) || ioapic_route(PICOVM_IRQ_COM1, IRQ_VECTOR)) {
		rt_puts("serial-irq: no interrupt route");
		return 1;
	}
	outb(COM1 + 4, 0x0b);		/* MCR: DTR, RTS, OUT2 (IRQ gate) */
	outb(COM1 + 1, 0x01);		/* IER: received data available */
	irq_enable(1);
	rt_puts("serial-irq: ready");
	uint64_t t0 = rdtsc();
	while (n < LINE_MAX && rdtsc() - t0 < WAIT_TICKS) {
		uint64_t c = rt_irq_count;
		while (rt_irq_count == c && rdtsc() - t0 < WAIT_TICKS)
			;		/* the interrupt says there is data */
		while (inb(COM1 + 5) & 1) {
			char ch = (char)inb(COM1);
			if (ch == '\n')
				goto done;
			line[n++] = ch;
			if (n == LINE_MAX)
				break;
		}
	}
done:
	outb(COM1 + 1, 0);
	irq_enable(0);
	ioapic_mask(PICOVM_IRQ_COM1);
	rt_printf("serial-irq: irqs=%llu len=%zu cksum=%u\n",
		  (unsigned long long)rt_irq_count, n, cksum(line, n));
	return rt_irq_count > 0 && n > 0 ? 0 : 1;
}
