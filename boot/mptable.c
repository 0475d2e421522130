/*
 * Intel MultiProcessor Specification 1.4 tables, so that a guest finds its
 * vCPUs, the IOAPIC and the ISA interrupt routing without ACPI.  The
 * floating pointer is in the last KiB of base memory, one of the places
 * the spec tells an OS to search; the configuration table (20 bytes per
 * CPU: 5.3 KiB for 254) below it.  Both are in the e820's reserved area.
 */
#include <string.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"

#define MPC_HDR_SIZE 44
#define MPC_CPU_SIZE 20
#define MPC_SMALL_SIZE 8
/* All 24 IOAPIC pins: ISA IRQs 0-15 and the virtio-mmio lines above. */
#define MP_ISA_IRQS 24
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11

int mptable_write(struct guest_mem *m, unsigned ncpus, uint32_t cpu_signature,
		  uint32_t cpu_features)
{
	/* floating pointer + header + CPUs + bus + IOAPIC + 24 IRQs + 2 LINTs */
	size_t nent = ncpus + 1 + 1 + MP_ISA_IRQS + 2;
	size_t tlen = MPC_HDR_SIZE + ncpus * MPC_CPU_SIZE +
		      (nent - ncpus) * MPC_SMALL_SIZE;
	uint8_t ioapic_id = (uint8_t)ncpus;	/* the first id after the CPUs */

	if (tlen > BOOT_MPF_ADDR - BOOT_MPTABLE_ADDR)
		return -1;
	uint8_t *mpf = gmem_ptr(m, BOOT_MPF_ADDR, 16);
	uint8_t *t = gmem_ptr(m, BOOT_MPTABLE_ADDR, tlen);
	if (!mpf || !t)
		return -1;
	uint8_t *e = t + MPC_HDR_SIZE;
	memset(mpf, 0, 16);
	memset(t, 0, tlen);

	memcpy(mpf, "_MP_", 4);
	put_le32(mpf + 4, (uint32_t)BOOT_MPTABLE_ADDR);
	mpf[8] = 1;			/* length in 16-byte units */
	mpf[9] = 4;			/* spec revision 1.4 */

	for (unsigned i = 0; i < ncpus; i++, e += MPC_CPU_SIZE) {
		e[0] = 0;		/* processor */
		e[1] = (uint8_t)i;	/* local APIC id = vCPU index */
		e[2] = APIC_VERSION;
		e[3] = (uint8_t)(1 | (i == 0 ? 2 : 0));	/* enabled, BSP */
		put_le32(e + 4, cpu_signature);
		put_le32(e + 8, cpu_features);
	}
	e[0] = 1;			/* bus 0: ISA */
	memcpy(e + 2, "ISA   ", 6);
	e += MPC_SMALL_SIZE;
	e[0] = 2;			/* IOAPIC */
	e[1] = ioapic_id;
	e[2] = IOAPIC_VERSION;
	e[3] = 1;			/* enabled */
	put_le32(e + 4, (uint32_t)IOAPIC_ADDR);
	e += MPC_SMALL_SIZE;
	/* IRQ n arrives at IOAPIC pin n: KVM's default GSI routing. */
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++, e += MPC_SMALL_SIZE) {
		e[0] = 3;		/* I/O interrupt assignment */
		e[1] = 0;		/* INT */
		e[4] = 0;		/* source bus */
		e[5] = irq;
		e[6] = ioapic_id;
		e[7] = irq;
	}
	/* LINT0 takes the 8259's ExtINT, LINT1 NMIs, on every local APIC. */
	e[0] = 4; e[1] = 3; e[5] = 0; e[6] = 0xff; e[7] = 0;
	e += MPC_SMALL_SIZE;
	e[0] = 4; e[1] = 1; e[5] = 0; e[6] = 0xff; e[7] = 1;

	memcpy(t, "PCMP", 4);
	put_le16(t + 4, (uint16_t)tlen);
	t[6] = 4;
	memcpy(t + 8, "PICOVM  ", 8);
	memcpy(t + 16, "MICROVM     ", 12);
	put_le16(t + 34, (uint16_t)nent);
	put_le32(t + 36, (uint32_t)LAPIC_ADDR);
	t[7] = byte_checksum(t, tlen);
	mpf[10] = byte_checksum(mpf, 16);
	return 0;
}
