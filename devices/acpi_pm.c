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
 * reboot into.  And a GPE0 block (two status bytes, write 1 to clear,
 * then two enable bytes that keep what is written) whose one event is
 * GPE 0, the VM generation ID's (devices/vmgenid.c raises it after a
 * restore).  The SCI (IRQ 9, level) is asserted while any enabled PM1 or
 * GPE event is pending.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "devices.h"
#include "../boot/bytes.h"
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
#define GPE_OFF (PICOVM_PORT_GPE0 - PICOVM_PORT_PM1A_EVT)
#define GPE_HALF (PICOVM_GPE0_LEN / 2)	/* status bytes, then enable */
#define GPE_EVENTS (1u << PICOVM_GPE_VMGENID)	/* the GPEs that exist */
#define PM_PORTS (GPE_OFF + PICOVM_GPE0_LEN)
#define PM_STATE_LEN 8

/* The event registers, byte by byte (one VM per process; any vCPU may
 * access them).  sci_lock orders the SCI level with the registers. */
struct acpi_pm {
	struct machine *m;
	_Atomic uint8_t pm1_enable[2];
	_Atomic uint16_t pm1_status;
	_Atomic uint8_t gpe_enable[GPE_HALF];
	_Atomic uint16_t gpe_status;
	pthread_mutex_t sci_lock;
};
_Static_assert(GPE_HALF == 2, "gpe_status is 16 bits");

static unsigned enable16(_Atomic uint8_t *en)
{
	return atomic_load(&en[0]) | (unsigned)atomic_load(&en[1]) << 8;
}

/* The SCI is asserted while an enabled event is pending. */
static void acpi_pm_sci(struct acpi_pm *p)
{
	pthread_mutex_lock(&p->sci_lock);
	bool on = (atomic_load(&p->pm1_status) & enable16(p->pm1_enable)) ||
		  (atomic_load(&p->gpe_status) & enable16(p->gpe_enable));
	machine_irq_line(p->m, SCI_IRQ, on ? 1 : 0);
	pthread_mutex_unlock(&p->sci_lock);
}

static void acpi_pm_gpe(void *dev, unsigned gpe)
{
	struct acpi_pm *p = dev;

	atomic_fetch_or(&p->gpe_status, (uint16_t)(1u << gpe));
	acpi_pm_sci(p);
}

/* The event register byte at off: an enable byte, or NULL with *sts set
 * to the status word (write 1 to clear) of a status byte and *shift to
 * the byte's place in it; both NULL for the other ports. */
static _Atomic uint8_t *event_byte(struct acpi_pm *p, uint64_t off,
				   _Atomic uint16_t **sts, unsigned *shift)
{
	*sts = NULL;
	if (off < PM1_EN_OFF) {
		*sts = &p->pm1_status, *shift = 8 * (unsigned)off;
		return NULL;
	}
	if (off - PM1_EN_OFF < sizeof(p->pm1_enable))
		return &p->pm1_enable[off - PM1_EN_OFF];
	if (off < GPE_OFF || off >= GPE_OFF + PICOVM_GPE0_LEN)
		return NULL;
	if (off - GPE_OFF < GPE_HALF) {
		*sts = &p->gpe_status, *shift = 8 * (unsigned)(off - GPE_OFF);
		return NULL;
	}
	return &p->gpe_enable[off - GPE_OFF - GPE_HALF];
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
		for (uint32_t i = 0; i < len; i++) {
			_Atomic uint16_t *sts;
			unsigned sh = 0;
			_Atomic uint8_t *en = event_byte(p, off + i, &sts, &sh);
			if (sts)
				data[i] = (uint8_t)(atomic_load(sts) >> sh);
			else if (en)
				data[i] = atomic_load(en);
		}
		return;
	}
	for (uint32_t i = 0; i < len; i++) {
		_Atomic uint16_t *sts;
		unsigned sh = 0;
		_Atomic uint8_t *en = event_byte(p, off + i, &sts, &sh);
		if (sts)	/* status: write 1 to clear */
			atomic_fetch_and(sts, (uint16_t)~((unsigned)data[i] << sh));
		else if (en)
			atomic_store(en, data[i]);
		event_regs |= sts || en;
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
				       PICOVM_PORT_PM1A_EVT, PM_PORTS, acpi_pm_access);
	if (!p)
		return -1;
	p->m = m;
	pthread_mutex_init(&p->sci_lock, NULL);
	m->power_button_dev = p;
	m->power_button = acpi_pm_power_button;
	m->gpe_dev = p;
	m->gpe_raise = acpi_pm_gpe;
	*dev = p;
	return 0;
}

static void acpi_pm_destroy(void *dev)
{
	struct acpi_pm *p = dev;

	if (p)
		pthread_mutex_destroy(&p->sci_lock);
	legacy_free(dev);
}

/* State: PM1 enable (2 bytes), PM1 status, GPE0 status, GPE0 enable (2
 * bytes each, little endian). */
static size_t acpi_pm_save(void *dev, uint8_t *b)
{
	struct acpi_pm *p = dev;

	put_le16(b, (uint16_t)enable16(p->pm1_enable));
	put_le16(b + 2, atomic_load(&p->pm1_status));
	put_le16(b + 4, atomic_load(&p->gpe_status));
	put_le16(b + 6, (uint16_t)enable16(p->gpe_enable));
	return PM_STATE_LEN;
}

static int acpi_pm_restore(void *dev, const uint8_t *b, size_t len)
{
	struct acpi_pm *p = dev;

	/* Only events that exist can be pending. */
	if (len != PM_STATE_LEN || (get_le16(b + 2) & ~PM1_PWRBTN) ||
	    (get_le16(b + 4) & ~GPE_EVENTS))
		return legacy_bad_state("ACPI PM1", len, PM_STATE_LEN);
	for (unsigned i = 0; i < 2; i++) {
		atomic_store(&p->pm1_enable[i], b[i]);
		atomic_store(&p->gpe_enable[i], b[6 + i]);
	}
	atomic_store(&p->pm1_status, get_le16(b + 2));
	atomic_store(&p->gpe_status, get_le16(b + 4));
	acpi_pm_sci(p);		/* a new VM's line starts low */
	return 0;
}

const struct legacy_ops acpi_pm_legacy = {
	.name = "ACPI PM1",
	.create = acpi_pm_create,
	.destroy = acpi_pm_destroy,
	.save = acpi_pm_save,
	.restore = acpi_pm_restore,
};
