/*
 * blk-irq: reads completed by interrupt, not by polling the used ring.
 * The device's IRQ (from its virtio_mmio.device= entry) goes through the
 * IOAPIC (edge) to a vector whose CPL0 handler only counts and EOIs; the
 * test waits at CPL3 for the count to move, then reads InterruptStatus,
 * acknowledges it and only then looks at the used ring.
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/irq.h"
#include "rt/mem.h"
#include "virtio/blk.h"

#define IRQ_VECTOR	0x40
#define READS		4
#define READ_BYTES	4096u

static struct blk blk;

/* One read by interrupt; 0, or -1 with *why set. */
static int irq_read(uint64_t sector, uint8_t *buf, const char **why)
{
	uint64_t c0 = rt_irq_count, t0 = rdtsc(), tag;
	uint32_t isr;
	int st;

	if (blk_submit(&blk, VIRTIO_BLK_T_IN, sector, buf, READ_BYTES, 0) < 0) {
		*why = "ring full";
		return -1;
	}
	vq_kick(&blk.q);
	while (rt_irq_count == c0) {
		if (rdtsc() - t0 > VIRTIO_WAIT_LONG) {
			*why = vq_has_used(&blk.q)
				       ? "completed, but no interrupt arrived"
				       : "no completion and no interrupt";
			return -1;
		}
		cpu_pause();
	}
	isr = vdev_r32(&blk.dev, VIRTIO_MMIO_INTERRUPT_STATUS);
	/* With an edge-triggered pin, a new edge needs the line to drop:
	 * acknowledge before the next request. */
	vdev_w32(&blk.dev, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	if (!(isr & VIRTIO_INT_USED)) {
		*why = "interrupt without the used-buffer bit in InterruptStatus";
		return -1;
	}
	st = blk_wait(&blk, VIRTIO_WAIT_SHORT, &tag);
	if (st != VIRTIO_BLK_S_OK) {
		*why = blk_status_name(st);
		return -1;
	}
	return 0;
}

int test_blk_irq(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static uint8_t *buf;
	const char *why;
	int ok = 1;

	(void)arg, (void)arglen;
	if (blk_open(&blk, bi, 0, &why)) {
		rt_printf("blk-irq: no usable virtio-blk device: %s\n", why);
		return 1;
	}
	if (!buf && !(buf = rt_alloc(READS * READ_BYTES, 4096)))
		return 1;
	if (irq_init(IRQ_VECTOR) || ioapic_route(blk.dev.irq, IRQ_VECTOR)) {
		rt_printf("blk-irq: cannot route IRQ %u\n", blk.dev.irq);
		return 1;
	}
	vq_set_irq(&blk.q, 1);
	irq_enable(1);
	for (unsigned i = 0; i < READS && ok; i++)
		if (irq_read(i * (READ_BYTES / BLK_SECTOR), buf + i * READ_BYTES,
			     &why)) {
			rt_printf("blk-irq: read %u: %s (irqs=%llu)\n", i, why,
				  (unsigned long long)rt_irq_count);
			ok = 0;
		}
	irq_enable(0);
	ioapic_mask(blk.dev.irq);
	if (!ok)
		return 1;
	rt_printf("blk-irq: ok irqs=%llu reads=%u len=%u cksum=%u\n",
		  (unsigned long long)rt_irq_count, READS, READS * READ_BYTES,
		  cksum(buf, READS * READ_BYTES));
	return 0;
}
