/*
 * pit: the PIT as a periodic timer, as a guest calibrating or ticking with
 * it drives it.  Programs channel 0 as a rate generator at about 100 Hz,
 * routes IRQ 0 through the IOAPIC (picovm's MP table: ISA IRQ 0 on pin 0)
 * and waits for PIT_IRQS interrupts.  Prints
 *   pit: irqs=N
 * and exits 0 once they arrived; 1 if the generous wait ran out first.
 * (picovm turns PIT reinjection off: ticks still arrive, missed ones are
 * merged instead of replayed.)
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/irq.h"
#include "../devices/ports.h"

#define PIT_CH0		0x40
#define PIT_MODE	0x43
#define PIT_HZ		1193182u
#define IRQ_VECTOR	0x45
#define PIT_IRQS	5
/* A watchdog, not a measure: 100 Hz ticks arrive in 50 ms; this is minutes
 * of TSC ticks on any host. */
#define WAIT_TICKS (200ULL * 1000 * 1000 * 1000)
/* The same for snappit's restored part: seconds of TSC on any host. */
#define SNAP_WAIT_TICKS (30ULL * 1000 * 1000 * 1000)

/* IRQ 0 routed, channel 0 a rate generator at about 100 Hz; -1 after
 * printing (who: the test's name). */
static int pit_start(const char *who)
{
	uint16_t div = (uint16_t)(PIT_HZ / 100);

	if (irq_init(IRQ_VECTOR) || ioapic_route(0, IRQ_VECTOR)) {
		rt_printf("%s: no interrupt route\n", who);
		return -1;
	}
	outb(PIT_MODE, 0x34);		/* channel 0, lo/hi byte, mode 2 */
	outb(PIT_CH0, (uint8_t)div);
	outb(PIT_CH0, (uint8_t)(div >> 8));
	return 0;
}

/* Interrupts on until rt_irq_count reaches n or ticks of TSC passed; one
 * more may land before they are off again. */
static void wait_irqs(uint64_t n, uint64_t ticks)
{
	irq_enable(1);
	uint64_t t0 = rdtsc();
	while (rt_irq_count < n && rdtsc() - t0 < ticks)
		;
	irq_enable(0);
}

/* IRQ 0 masked, channel 0 a one-shot that stops. */
static void pit_stop(void)
{
	ioapic_mask(0);
	outb(PIT_MODE, 0x30);		/* channel 0, mode 0: one shot, stops */
}

int test_pit(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	if (pit_start("pit") < 0)
		return 1;
	wait_irqs(PIT_IRQS, WAIT_TICKS);
	pit_stop();
	rt_printf("pit: irqs=%llu\n", (unsigned long long)rt_irq_count);
	return rt_irq_count >= PIT_IRQS ? 0 : 1;
}

/*
 * snappit: the PIT ticking across a snapshot.  Starts channel 0 as test_pit
 * does, waits for 2 interrupts, writes the snapshot port (0x512), then,
 * without touching the PIT again, counts PIT_IRQS more: in a restored VM
 * they come only if picovm restored the PIT's state (a fresh PIT does not
 * count) and its interrupt route.  Prints
 *   snappit: restores=A->B irqs=N
 * (A, B: the snapshot port's restore count before and after the write),
 * exits 0 when N >= PIT_IRQS, 1 when the watchdog ran out first.
 */
int test_snap_pit(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	if (pit_start("snappit") < 0)
		return 1;
	wait_irqs(2, SNAP_WAIT_TICKS);
	uint8_t r0 = inb(PICOVM_PORT_SNAPSHOT);
	outb(PICOVM_PORT_SNAPSHOT, 1);
	uint8_t r1 = inb(PICOVM_PORT_SNAPSHOT);
	rt_irq_count = 0;
	wait_irqs(PIT_IRQS, SNAP_WAIT_TICKS);
	pit_stop();
	rt_printf("snappit: restores=%u->%u irqs=%llu\n", r0, r1,
		  (unsigned long long)rt_irq_count);
	return rt_irq_count >= PIT_IRQS ? 0 : 1;
}
