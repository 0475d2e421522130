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
 *                       continue) or in the restored VM.  A byte read
 *                       gives the number of restores the VM has been
 *                       through, mod 256 (0 after a boot; saved with a
 *                       snapshot, plus 1 in each restore of it): read
 *                       before and after the write, it tells a restored
 *                       VM from one that runs on.
 *
 * The exit and boot-timer ports read as 0xff.
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
 * bytes; SLP_EN with SLP_TYP 5 powers off), reset register (write 1),
 * GPE0 block (4 bytes: 2 status, write 1 to clear, then 2 enable; GPE 0
 * is the VM generation ID's, raised once after each restore). */
#define PICOVM_PORT_PM1A_EVT   0x600
#define PICOVM_PORT_PM1A_CNT   0x604
#define PICOVM_PORT_ACPI_RESET 0x608
#define PICOVM_PORT_GPE0       0x60c
#define PICOVM_GPE0_LEN        4
#define PICOVM_GPE_VMGENID     0

/* The VM generation ID (acpi = on): 16 bytes of guest memory in the
 * e820-reserved ACPI area, random at every start of picovm (a boot or a
 * restore); the SSDT's \_SB.VGEN.ADDR says where. */
#define PICOVM_VMGENID_ADDR    0xef000
#define PICOVM_VMGENID_LEN     16

#define PICOVM_PORT_RTC      0x70	/* index; 0x71 data: CMOS clock */
#define PICOVM_PORT_COM1     0x3f8
#define PICOVM_IRQ_KBD       1
#define PICOVM_IRQ_COM1      4
#define PICOVM_PORT_COM2     0x2f8
#define PICOVM_IRQ_COM2      3
#define PICOVM_PORT_I8042_DATA 0x60
#define PICOVM_PORT_I8042_CMD  0x64

#endif
