/* The small legacy and picovm-specific devices, one file each. */
#ifndef PICOVM_DEVICES_DEVICES_H
#define PICOVM_DEVICES_DEVICES_H

struct machine;
struct i8042;

/* devices/i8042.c: reset through the keyboard controller. */
struct i8042 *i8042_create(struct machine *m);
void i8042_destroy(struct i8042 *k);

/* devices/debugport.c: the exit port and the boot-timer port (ports.h). */
int debugport_attach(struct machine *m);

/* devices/pvpanic.c: panic notification (port 0x505, like QEMU's). */
int pvpanic_attach(struct machine *m);

/* devices/acpi_pm.c: ACPI PM1a blocks and reset register (poweroff). */
int acpi_pm_attach(struct machine *m);

/* devices/rtc.c: a read-only CMOS clock with the host's time. */
int rtc_attach(struct machine *m);

#endif
