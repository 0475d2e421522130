/*
 * The ACPI fixed hardware picovm has (boot/acpi.c describes it): a PM1a
 * event block whose one event is the power button (PWRBTN_STS, raised by
 * `picovm ctl NAME stop`: an SCI on IRQ 9 while PWRBTN_EN is set; the
 * status bit is cleared by writing 1 to it, as on hardware; the enable
 * register keeps what is written, as hardware does: ACPICA writes GBL_EN
 * and reads it back to see whether the global lock exists, and complains
 * at every boot if the bit does not stick), a PM1a control block whose
 * SLP_EN with SLP_TYP 5 (\_S5, soft off) ends the VM with status 0 (what
 * Linux's `poweroff` does), and a reset register (reboot=acpi, Linux's
 * first choice) that ends it the same way: a microVM has nothing to
 * reboot into.
 */
#include <stdatomic.h>
#include <string.h>

#include "devices.h"
#include "ports.h"
#include "../vm/machine.h"

#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x1c00
#define PM1_SLP_EN 0x2000
#define SLP_TYP_S5 5
#define PM1_EN_OFF 2		/* enable register: 2nd half of PM1a_EVT */
#define PM1_PWRBTN 0x0100	/* PWRBTN_STS / PWRBTN_EN */
#define SCI_IRQ 9		/* the FADT's SCI_INT (boot/acpi.c) */

/* The PM1a enable register, byte by byte (one VM per process; any vCPU
 * may access it). */
struct acpi_pm {
	struct machine *m;
	_Atomic uint8_t pm1_enable[2];
	_Atomic uint16_t pm1_status;
};

/* The SCI is asserted while an enabled event is pending. */
static void acpi_pm_sci(struct acpi_pm *p)
{
	unsigned en = atomic_load(&p->pm1_enable[0]) |
		      (unsigned)atomic_load(&p->pm1_enable[1]) << 8;

	machine_irq_line(p->m, SCI_IRQ, (atomic_load(&p->pm1_status) & en) ? 1 : 0);
}

static void acpi_pm_power_button(void *dev)
{
	struct acpi_pm *p = dev;

	atomic_fetch_or(&p->pm1_status, PM1_PWRBTN);
	acpi_pm_sci(p);
}

static void acpi_pm_access(void *opaque, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	struct acpi_pm *p = opaque;
	uint16_t port = (uint16_t)(PICOVM_PORT_PM1A_EVT + off);
	uint32_t v = 0;
	bool event_regs = false;	/* touched status or enable */

	if (!is_write) {
		/* The control block reads SCI_EN: always in ACPI mode, there
		 * is no SMI_CMD to switch. */
		if (port == PICOVM_PORT_PM1A_CNT)
			v = PM1_SCI_EN;
		memset(data, 0, len);
		memcpy(data, &v, len < 4 ? len : 4);
		/* Status and enable byte by byte: any access width. */
		uint16_t sts = atomic_load(&p->pm1_status);
		for (uint32_t i = 0; i < len; i++) {
			if (off + i < PM1_EN_OFF)
				data[i] = (uint8_t)(sts >> (8 * (off + i)));
			else if (off + i - PM1_EN_OFF < sizeof(p->pm1_enable))
				data[i] = atomic_load(&p->pm1_enable[off + i - PM1_EN_OFF]);
		}
		return;
	}
	for (uint32_t i = 0; i < len; i++) {
		if (off + i < PM1_EN_OFF) {
			/* Status: write 1 to clear. */
			atomic_fetch_and(&p->pm1_status,
					 (uint16_t)~((unsigned)data[i] << (8 * (off + i))));
			event_regs = true;
		} else if (off + i - PM1_EN_OFF < sizeof(p->pm1_enable)) {
			atomic_store(&p->pm1_enable[off + i - PM1_EN_OFF], data[i]);
			event_regs = true;
		}
	}
	memcpy(&v, data, len < 4 ? len : 4);
	if (event_regs)
		acpi_pm_sci(p);
	else if (port == PICOVM_PORT_PM1A_CNT && len >= 2 && (v & PM1_SLP_EN) &&
		 ((v & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT) == SLP_TYP_S5)
		machine_stop(p->m, EXIT_VM_OK, NULL);
	else if (port == PICOVM_PORT_ACPI_RESET && (v & 0xff) == 1)
		machine_stop(p->m, EXIT_VM_OK, NULL);
}

static int acpi_pm_create(struct machine *m, unsigned flags, void **dev)
{
	if (!(flags & LEGACY_ACPI))
		return 0;
	struct acpi_pm *p = legacy_new(m, "ACPI PM1", sizeof(*p),
				       PICOVM_PORT_PM1A_EVT, PICOVM_PORT_ACPI_RESET -
				       PICOVM_PORT_PM1A_EVT + 1, acpi_pm_access);
	if (!p)
		return -1;
	p->m = m;
	m->power_button_dev = p;
	m->power_button = acpi_pm_power_button;
	*dev = p;
	return 0;
}

static size_t acpi_pm_save(void *dev, uint8_t *b)
{
	struct acpi_pm *p = dev;

	b[0] = atomic_load(&p->pm1_enable[0]);
	b[1] = atomic_load(&p->pm1_enable[1]);
	return 2;
}

static int acpi_pm_restore(void *dev, const uint8_t *b, size_t len)
{
	struct acpi_pm *p = dev;

	if (len != 2)
		return legacy_bad_state("ACPI PM1", len, 2);
	atomic_store(&p->pm1_enable[0], b[0]);
	atomic_store(&p->pm1_enable[1], b[1]);
	return 0;
}

const struct legacy_ops acpi_pm_legacy = {
	.name = "ACPI PM1",
	.create = acpi_pm_create,
	.destroy = legacy_free,
	.save = acpi_pm_save,
	.restore = acpi_pm_restore,
};
