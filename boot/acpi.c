/*
 * Minimal ACPI tables, so that a guest can power the VM off (and reset it)
 * the standard way: RSDP -> XSDT -> FADT (-> FACS, DSDT) and MADT.
 *
 *  - FADT: a PM1a event block and control block at PICOVM_PORT_PM1A_EVT /
 *    _CNT (devices/acpi_pm.c emulates them), SMI_CMD = 0 (always in ACPI
 *    mode), no PM timer, the reset register at PICOVM_PORT_ACPI_RESET.
 *  - DSDT: \_S5 (soft off), SLP_TYP 5: writing SLP_EN with it to
 *    PM1a_CNT ends the VM with status 0; the pvpanic device (QEMU0001
 *    at port 0x505, devices/pvpanic.c); one LNRO0005 device per
 *    virtio-mmio device, in the device list's order (vm/vdevs.h), built
 *    with the AML writer (aml.h).
 *  - MADT: one local APIC per vCPU, the IOAPIC, LINT1 as NMI.
 *  - SSDT: the VM generation ID device (boot/vmgenid.c), with the FADT's
 *    GPE0 block at PICOVM_PORT_GPE0 for its notification.
 * All in the BIOS area below 1 MiB (reserved in the e820 map); the RSDP
 * is also handed over in boot_params / hvm_start_info.
 */
#include <stdio.h>
#include <string.h>

#include "aml.h"
#include "boot.h"
#include "bytes.h"
#include "layout.h"
#include "../devices/ports.h"
#include "../virtio/mmio.h"
#include "../vm/log.h"

#define SDT_HDR 36
#define FADT_LEN 276
#define FACS_LEN 64
#define SCI_IRQ 9
#define DSDT_AML_MAX 4096	/* 16 virtio devices take about 1 KiB */

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "PICOVM", 6);		/* OEM id */
	memcpy(t + 16, "PICOVMTB", 8);		/* OEM table id */
	put_le32(t + 24, 1);			/* OEM revision */
	memcpy(t + 28, "PCVM", 4);		/* creator id */
	put_le32(t + 32, 1);
}

static void sdt_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = byte_checksum(t, len);
}

/* A Generic Address Structure for len bytes of I/O space at port. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits)
{
	g[0] = 1;		/* system I/O */
	g[1] = bits;
	g[2] = 0;
	g[3] = bits == 8 ? 1 : bits == 16 ? 2 : 3;	/* access size */
	put_le64(g + 4, port);
}

/*
 * The DSDT's AML:
 *
 *   Name (_S5, Package () { 5, 5, 0, 0 })
 *   Scope (\_SB) {
 *       Device (PEVT) {                     // pvpanic, as QEMU names it
 *           Name (_HID, "QEMU0001")
 *           Name (_CRS, ResourceTemplate () { IO (Decode16, 0x505, 0x505, 1, 1) })
 *           Name (_STA, 0x0F)               // present, enabled, shown, works
 *       }
 *       Device (VRnn) {                     // virtio-mmio device nn (hex)
 *           Name (_HID, "LNRO0005")         // what Linux's virtio_mmio matches
 *           Name (_UID, nn)
 *           Name (_CRS, ResourceTemplate () {
 *               Memory32Fixed (ReadWrite, window, 0x1000)
 *               Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { irq }
 *           })
 *       }
 *       ...                                 // one per device, in list order
 *   }
 *
 * The windows are the DSDT's (virtio_mmio_window(i, true)): see
 * virtio/mmio.h for why they are not the command line's.
 */
long acpi_dsdt_aml(uint8_t *buf, size_t cap, unsigned nvirtio, const char **why)
{
	struct aml a;
	uint8_t res[32];
	size_t n;
	char name[5];

	aml_init(&a, buf, cap);
	aml_name(&a, "_S5");
	aml_package(&a, 4);
	aml_integer(&a, 5);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	aml_scope(&a, "\\_SB");
	aml_device(&a, "PEVT");
	aml_name(&a, "_HID");
	aml_string(&a, "QEMU0001");
	aml_name(&a, "_CRS");
	n = aml_res_io(res, PICOVM_PORT_PVPANIC, 1);
	n += aml_res_end(res + n);
	aml_buffer(&a, res, n);
	aml_name(&a, "_STA");
	aml_integer(&a, 0x0f);
	aml_close(&a);
	for (unsigned i = 0; i < nvirtio && i < VIRTIO_MMIO_MAX_DEVICES; i++) {
		snprintf(name, sizeof(name), "VR%02X", i);
		aml_device(&a, name);
		aml_name(&a, "_HID");
		aml_string(&a, "LNRO0005");
		aml_name(&a, "_UID");
		aml_integer(&a, i);
		aml_name(&a, "_CRS");
		n = aml_res_mem32(res, (uint32_t)virtio_mmio_window(i, true),
				  (uint32_t)VIRTIO_MMIO_SIZE);
		n += aml_res_irq(res + n, virtio_mmio_irq(i));
		n += aml_res_end(res + n);
		aml_buffer(&a, res, n);
		aml_close(&a);
	}
	aml_close(&a);
	if (nvirtio > VIRTIO_MMIO_MAX_DEVICES)
		a.error = "more virtio devices than windows";
	return aml_finish(&a, why);
}

int acpi_write(struct guest_mem *m, unsigned ncpus, unsigned nvirtio)
{
	uint8_t dsdt_aml[DSDT_AML_MAX];
	const char *why;
	long aml_len = acpi_dsdt_aml(dsdt_aml, sizeof(dsdt_aml), nvirtio, &why);

	if (aml_len < 0) {
		log_err("cannot write the DSDT: %s", why);
		return -1;
	}
	uint64_t rsdp = BOOT_ACPI_ADDR, xsdt = rsdp + 64, fadt = xsdt + 64,
		 facs = (fadt + FADT_LEN + 63) & ~63ULL, dsdt = facs + FACS_LEN,
		 madt = (dsdt + SDT_HDR + (uint64_t)aml_len + 15) & ~15ULL;
	uint32_t madt_len = SDT_HDR + 8 + 8 * ncpus + 12 + 6, ssdt_len;
	const uint8_t *ssdt_aml = vmgenid_ssdt_aml(&ssdt_len);
	uint64_t ssdt = (madt + madt_len + 15) & ~15ULL;
	uint64_t end = ssdt + SDT_HDR + ssdt_len;
	uint8_t *base = gmem_ptr(m, rsdp, end - rsdp);

	/* The tables end below the VM generation ID's page. */
	if (!base || end > PICOVM_VMGENID_ADDR)
		return -1;
	memset(base, 0, end - rsdp);
#define AT(a) (base + ((a) - rsdp))
	uint8_t *p = AT(rsdp);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "PICOVM", 6);
	p[15] = 2;				/* ACPI 2.0+ */
	put_le32(p + 16, 0);			/* no RSDT: XSDT only */
	put_le32(p + 20, 36);
	put_le64(p + 24, xsdt);
	p[8] = byte_checksum(p, 20);
	p[32] = byte_checksum(p, 36);

	p = AT(xsdt);
	sdt_header(p, "XSDT", SDT_HDR + 24, 1);
	put_le64(p + SDT_HDR, fadt);
	put_le64(p + SDT_HDR + 8, madt);
	put_le64(p + SDT_HDR + 16, ssdt);
	sdt_finish(p, SDT_HDR + 24);

	p = AT(fadt);
	sdt_header(p, "FACP", FADT_LEN, 6);
	put_le32(p + 36, (uint32_t)facs);		/* FIRMWARE_CTRL */
	put_le32(p + 40, (uint32_t)dsdt);		/* DSDT */
	put_le16(p + 46, SCI_IRQ);			/* SCI_INT */
	put_le32(p + 48, 0);				/* SMI_CMD: none */
	put_le32(p + 56, PICOVM_PORT_PM1A_EVT);		/* PM1a_EVT_BLK */
	put_le32(p + 64, PICOVM_PORT_PM1A_CNT);		/* PM1a_CNT_BLK */
	p[88] = 4;					/* PM1_EVT_LEN */
	p[89] = 2;					/* PM1_CNT_LEN */
	put_le32(p + 80, PICOVM_PORT_GPE0);		/* GPE0_BLK */
	p[92] = PICOVM_GPE0_LEN;			/* GPE0_BLK_LEN */
	/* Flags: WBINVD, PROC_C1, SLP_BUTTON (none), RESET_REG_SUP. */
	put_le32(p + 112, (1U << 0) | (1U << 2) | (1U << 5) | (1U << 10));
	gas_io(p + 116, PICOVM_PORT_ACPI_RESET, 8);	/* RESET_REG */
	p[128] = 1;					/* RESET_VALUE */
	put_le16(p + 129, 0);				/* ARM boot arch */
	p[131] = 0;					/* minor version */
	put_le64(p + 132, facs);			/* X_FIRMWARE_CTRL */
	put_le64(p + 140, dsdt);			/* X_DSDT */
	gas_io(p + 148, PICOVM_PORT_PM1A_EVT, 32);	/* X_PM1a_EVT_BLK */
	gas_io(p + 172, PICOVM_PORT_PM1A_CNT, 16);	/* X_PM1a_CNT_BLK */
	gas_io(p + 220, PICOVM_PORT_GPE0, 8 * PICOVM_GPE0_LEN); /* X_GPE0_BLK */
	p[220 + 3] = 1;					/* byte access */
	/* IAPC_BOOT_ARCH (offset 109): no VGA, no CMOS RTC probing, no
	 * legacy devices beyond what the MADT/MP tables and cmdline say. */
	put_le16(p + 109, (1U << 2) | (1U << 5));
	sdt_finish(p, FADT_LEN);

	p = AT(facs);
	memcpy(p, "FACS", 4);
	put_le32(p + 4, FACS_LEN);
	p[32] = 2;					/* version */

	p = AT(dsdt);
	sdt_header(p, "DSDT", SDT_HDR + (uint32_t)aml_len, 2);
	memcpy(p + SDT_HDR, dsdt_aml, (size_t)aml_len);
	sdt_finish(p, SDT_HDR + (uint32_t)aml_len);

	p = AT(madt);
	sdt_header(p, "APIC", madt_len, 4);
	put_le32(p + 36, (uint32_t)LAPIC_ADDR);
	put_le32(p + 40, 1);				/* PCAT_COMPAT: 8259s */
	uint8_t *e = p + 44;
	for (unsigned i = 0; i < ncpus; i++, e += 8) {
		e[0] = 0;				/* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;			/* ACPI processor id */
		e[3] = (uint8_t)i;			/* APIC id */
		put_le32(e + 4, 1);			/* enabled */
	}
	e[0] = 1;					/* IOAPIC */
	e[1] = 12;
	e[2] = (uint8_t)ncpus;				/* as in the MP table */
	put_le32(e + 4, (uint32_t)IOAPIC_ADDR);
	put_le32(e + 8, 0);				/* GSI base */
	e += 12;
	e[0] = 4;					/* local APIC NMI */
	e[1] = 6;
	e[2] = 0xff;					/* all processors */
	put_le16(e + 3, 0);
	e[5] = 1;					/* LINT1 */
	sdt_finish(p, madt_len);

	p = AT(ssdt);
	sdt_header(p, "SSDT", SDT_HDR + ssdt_len, 2);
	memcpy(p + 16, "VMGENID ", 8);			/* OEM table id */
	memcpy(p + SDT_HDR, ssdt_aml, ssdt_len);
	sdt_finish(p, SDT_HDR + ssdt_len);
#undef AT
	return 0;
}
