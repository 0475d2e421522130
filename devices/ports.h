/*
 * picovm's own I/O ports: the contract between picovm and any guest that
 * wants to talk to it without a device driver.  This header is also
 * compiled into the freestanding test guests, so it must stay plain C with
 * nothing but macros.
 *
 * PICOVM_PORT_EXIT      one byte written (OUT imm8/dx, AL) ends the VM;
 *                       `picovm run` exits with that byte as its status.
 *                       Wider writes use their low byte.
 * PICOVM_PORT_BOOTTIME  any write: picovm logs the time since it was
 *                       started, once (first write only).
 *
 * PICOVM_PORT_SNAPSHOT  any write: picovm snapshots the VM into
 *                       `snapshot.path` (ignored, and logged once, without
 *                       it); the writing vCPU continues after the write
 *                       once the snapshot is taken (snapshot.after =
 *                       continue) or in the restored VM.
 *
 * These ports read as 0xff.
 *
 * PICOVM_PORT_PVPANIC   QEMU's pvpanic port (devices/pvpanic.c): reads the
 *                       supported events (0x03); a write with bit 0
 *                       (PANICKED) ends the VM with status 122 (the guest
 *                       kernel panicked), bit 1 (CRASH_LOADED) is logged.
 *
 * The legacy ports picovm also emulates:
 *   0x3f8-0x3ff  8250 UART (COM1), IRQ 4
 *   0x2f8-0x2ff  8250 UART (COM2), IRQ 3, only with serial.1 (kgdb)
 *   0x60, 0x64   i8042 (command 0xfe on 0x64 resets, i.e. ends, the VM)
 */
#ifndef PICOVM_DEVICES_PORTS_H
#define PICOVM_DEVICES_PORTS_H

#define PICOVM_PORT_EXIT     0x510
#define PICOVM_PORT_BOOTTIME 0x511
#define PICOVM_PORT_SNAPSHOT 0x512
#define PICOVM_PORT_PVPANIC  0x505

/* ACPI (acpi = on): PM1a event block (4 bytes), PM1a control block (2
 * bytes; SLP_EN with SLP_TYP 5 powers off), reset register (write 1). */
#define PICOVM_PORT_PM1A_EVT   0x600
#define PICOVM_PORT_PM1A_CNT   0x604
#define PICOVM_PORT_ACPI_RESET 0x608

#define PICOVM_PORT_RTC      0x70	/* index; 0x71 data: CMOS clock */
#define PICOVM_PORT_COM1     0x3f8
#define PICOVM_IRQ_COM1      4
#define PICOVM_PORT_COM2     0x2f8
#define PICOVM_IRQ_COM2      3
#define PICOVM_PORT_I8042_DATA 0x60
#define PICOVM_PORT_I8042_CMD  0x64

#endif
