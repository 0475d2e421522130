/*
 * devices/acpi_pm.c without KVM: the GPE0 block (status write 1 to clear,
 * enable keeps what is written), the SCI level it drives (IRQ 9, recorded
 * by the machine_irq_line() stub below), GPE raising, and its snapshot
 * state: saved and restored whole, a record of the wrong size or with a
 * pending event that does not exist refused.
 */
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "../../devices/devices.h"
#include "../../devices/ports.h"
#include "../../vm/log.h"
#include "../../vm/machine.h"

static int sci = -1;		/* the last level set on IRQ 9 */

int machine_irq_line(struct machine *m, unsigned irq, int level)
{
	(void)m;
	if (irq == 9)
		sci = level;
	return 0;
}

void machine_stop(struct machine *m, int status, const char *fmt, ...)
{
	(void)m, (void)status, (void)fmt;
}

void log_err(const char *fmt, ...)
{
	(void)fmt;
}

static struct machine m;

static void outb(uint16_t port, uint8_t v)
{
	bus_access(&m.pio, port, &v, 1, true);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	bus_access(&m.pio, port, &v, 1, false);
	return v;
}

int main(void)
{
	void *dev = NULL;
	const uint16_t sts = PICOVM_PORT_GPE0, en = PICOVM_PORT_GPE0 + 2;
	uint8_t st[LEGACY_STATE_MAX], bad[LEGACY_STATE_MAX];

	check("create", acpi_pm_legacy.create(&m, LEGACY_ACPI, &dev) == 0 && dev &&
	      m.gpe_raise && m.gpe_dev == dev, "no device or no GPE hook");
	if (!dev)
		return 1;
	check("GPE0 reads 0 at start", inb(sts) == 0 && inb(en) == 0 &&
	      inb(sts + 1) == 0 && inb(en + 1) == 0, "sts %x en %x", inb(sts), inb(en));
	m.gpe_raise(m.gpe_dev, PICOVM_GPE_VMGENID);
	check("a raised GPE sets its status bit", inb(sts) == 1, "sts %x", inb(sts));
	check("no SCI while the GPE is disabled", sci == 0, "sci %d", sci);
	outb(en, 1);
	check("enable keeps what is written", inb(en) == 1, "en %x", inb(en));
	check("enabling a pending GPE asserts the SCI", sci == 1, "sci %d", sci);
	size_t n = acpi_pm_legacy.save(dev, st);
	check("state: 8 bytes", n == 8, "%zu bytes", n);
	outb(sts, 0);
	check("writing 0 to the status clears nothing", inb(sts) == 1 && sci == 1,
	      "sts %x sci %d", inb(sts), sci);
	outb(sts, 1);
	check("writing 1 clears the status and drops the SCI", inb(sts) == 0 && sci == 0,
	      "sts %x sci %d", inb(sts), sci);
	check("restore of the saved state", acpi_pm_legacy.restore(dev, st, n) == 0,
	      "refused");
	check("restore brings back status, enable and the SCI",
	      inb(sts) == 1 && inb(en) == 1 && sci == 1, "sts %x en %x sci %d",
	      inb(sts), inb(en), sci);
	check("restore of 2 bytes (a version-1 record) refused",
	      acpi_pm_legacy.restore(dev, st, 2) < 0, "accepted");
	check("restore of 9 bytes refused", acpi_pm_legacy.restore(dev, st, 9) < 0,
	      "accepted");
	memcpy(bad, st, n);
	bad[4] |= 2;		/* GPE 1: no such event */
	check("restore with a GPE pending that does not exist refused",
	      acpi_pm_legacy.restore(dev, bad, n) < 0, "accepted");
	memcpy(bad, st, n);
	bad[2] |= 1;		/* PM1 TMR_STS: no timer */
	check("restore with a PM1 event pending that does not exist refused",
	      acpi_pm_legacy.restore(dev, bad, n) < 0, "accepted");
	acpi_pm_legacy.destroy(dev);
	return check_failures ? 1 : 0;
}
