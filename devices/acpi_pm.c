/*
 * The ACPI fixed hardware picovm has (boot/acpi.c describes it): a PM1a
 * event block that never raises an event, a PM1a control block whose
 * SLP_EN with SLP_TYP 5 (\_S5, soft off) ends the VM with status 0 (what
 * Linux's `poweroff` does), and a reset register (reboot=acpi, Linux's
 * first choice) that ends it the same way: a microVM has nothing to
 * reboot into.
 */
#include <string.h>

#include "devices.h"
#include "ports.h"
#include "../vm/vm.h"

#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x1c00
#define PM1_SLP_EN 0x2000
#define SLP_TYP_S5 5

static void acpi_pm_access(void *opaque, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	uint16_t port = (uint16_t)(PICOVM_PORT_PM1A_EVT + off);
	uint32_t v = 0;

	if (!is_write) {
		/* Status and enable read 0; the control block reads SCI_EN:
		 * always in ACPI mode, there is no SMI_CMD to switch. */
		if (port == PICOVM_PORT_PM1A_CNT)
			v = PM1_SCI_EN;
		memset(data, 0, len);
		memcpy(data, &v, len < 4 ? len : 4);
		return;
	}
	memcpy(&v, data, len < 4 ? len : 4);
	if (port == PICOVM_PORT_PM1A_CNT && len >= 2 && (v & PM1_SLP_EN) &&
	    ((v & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT) == SLP_TYP_S5)
		vm_stop(vm, EXIT_VM_OK, NULL);
	else if (port == PICOVM_PORT_ACPI_RESET && (v & 0xff) == 1)
		vm_stop(vm, EXIT_VM_OK, NULL);
}

int acpi_pm_attach(struct vm *vm)
{
	return bus_add(&vm->pio, PICOVM_PORT_PM1A_EVT,
		       PICOVM_PORT_ACPI_RESET - PICOVM_PORT_PM1A_EVT + 1,
		       acpi_pm_access, vm);
}
