/*
 * The legacy and picovm-specific devices, one file each, all with the same
 * lifecycle: create (registers its ports on the machine's port bus; its
 * state lives in its own struct, nothing in file statics) and destroy.
 * The assembly code (vm/vmm.c) lists them in one table.
 */
#ifndef PICOVM_DEVICES_DEVICES_H
#define PICOVM_DEVICES_DEVICES_H

#include <stdint.h>

#include "chardev.h"
#include "../vm/bus.h"

struct machine;

/* What the configuration says about the legacy devices (flags). */
#define LEGACY_ACPI 0x1			/* acpi = on: PM1/GPE0, VM generation ID */
#define LEGACY_SERIAL_DISCARD 0x2	/* UART output goes nowhere */
#define LEGACY_SERIAL1 0x4		/* serial.1: COM2 exists */

struct legacy_ops {
	const char *name;
	/* Makes the device on m; *dev stays NULL when flags leave it out.
	 * Returns -1 after printing why. */
	int (*create)(struct machine *m, unsigned flags, void **dev);
	void (*destroy)(void *dev);	/* NULL included */
	/* Optional: the guest console it offers the host side. */
	struct chardev (*chardev)(void *dev);
	/* Optional: the guest-visible state, for snapshots (vm/snapshot.c),
	 * taken with every vCPU paused.  save writes at most
	 * LEGACY_STATE_MAX bytes to buf and returns how many; restore gets
	 * bytes from a file (untrusted): it checks each value and returns
	 * -1 after printing why.  Neither is called for an absent device. */
	size_t (*save)(void *dev, uint8_t *buf);
	int (*restore)(void *dev, const uint8_t *buf, size_t len);
	/* Optional: called once after a restore, when every device's state
	 * is back and before any vCPU runs (vm/restore.c). */
	void (*restored)(void *dev);
};

#define LEGACY_STATE_MAX 64
/* legacy.c: restore's common refusal (wrong length or a bad value). */
int legacy_bad_state(const char *name, size_t len, size_t want);

extern const struct legacy_ops serial_legacy;	/* serial.c: 8250 UART, COM1 */
extern const struct legacy_ops serial1_legacy;	/* serial.c: COM2 (serial.1) */
extern const struct legacy_ops i8042_legacy;	/* i8042.c: reset */
/* debugport.c: the exit port and the boot-timer port (ports.h). */
extern const struct legacy_ops debugport_legacy;
/* pvpanic.c: panic notification (port 0x505, like QEMU's). */
extern const struct legacy_ops pvpanic_legacy;
/* acpi_pm.c: ACPI PM1a blocks and reset register (poweroff). */
extern const struct legacy_ops acpi_pm_legacy;
/* rtc.c: a read-only CMOS clock with the host's time. */
extern const struct legacy_ops rtc_legacy;
/* vmgenid.c: the VM generation ID (acpi = on; new at every start, GPE 0
 * after a restore). */
extern const struct legacy_ops vmgenid_legacy;

/* legacy.c, for the devices: allocates size zeroed bytes and registers
 * [base, base+len) on m's port bus for fn(state); NULL after printing. */
void *legacy_new(struct machine *m, const char *name, size_t size,
		 uint16_t base, uint16_t len, bus_fn fn);
/* Frees what legacy_new() returned (the bus keeps no reference once the
 * vCPUs are gone). */
void legacy_free(void *dev);

#endif
