/*
 * dsdt N OUT: writes the ACPI tables picovm gives a VM with N virtio
 * devices (boot/acpi.c, the code `picovm run` uses) into a scratch guest
 * RAM, follows RSDP -> XSDT -> FADT -> X_DSDT as a guest does, checks each
 * table's checksum, and writes the DSDT to OUT (for iasl -d, t-acpi.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../boot/boot.h"
#include "../../boot/bytes.h"
#include "../../boot/layout.h"

static const uint8_t *table(const struct guest_mem *m, uint64_t addr,
			    const char *sig)
{
	const uint8_t *t = gmem_ptr(m, addr, 36);

	if (!t || memcmp(t, sig, 4) != 0) {
		fprintf(stderr, "dsdt: no %s at %#llx\n", sig, (unsigned long long)addr);
		exit(1);
	}
	uint32_t len = get_le32(t + 4);
	if (!gmem_ptr(m, addr, len) || byte_checksum(t, len) != 0) {
		fprintf(stderr, "dsdt: %s: bad length or checksum\n", sig);
		exit(1);
	}
	return t;
}

int main(int argc, char **argv)
{
	struct guest_mem m;

	if (argc != 3) {
		fprintf(stderr, "usage: dsdt NVIRTIO OUT\n");
		return 2;
	}
	if (gmem_init(&m, 16 << 20, false) < 0 ||
	    acpi_write(&m, 1, (unsigned)atoi(argv[1])) < 0)
		return 1;
	const uint8_t *rsdp = gmem_ptr(&m, BOOT_ACPI_ADDR, 36);
	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) != 0 || byte_checksum(rsdp, 20) ||
	    byte_checksum(rsdp, 36))
		return fprintf(stderr, "dsdt: bad RSDP\n"), 1;
	const uint8_t *xsdt = table(&m, get_le64(rsdp + 24), "XSDT");
	const uint8_t *fadt = NULL;
	for (uint32_t off = 36; off + 8 <= get_le32(xsdt + 4); off += 8) {
		const uint8_t *t = gmem_ptr(&m, get_le64(xsdt + off), 4);
		if (t && memcmp(t, "FACP", 4) == 0)
			fadt = table(&m, get_le64(xsdt + off), "FACP");
	}
	if (!fadt)
		return fprintf(stderr, "dsdt: no FADT in the XSDT\n"), 1;
	uint64_t at = get_le64(fadt + 140);
	if (get_le32(fadt + 40) != at)
		return fprintf(stderr, "dsdt: DSDT and X_DSDT differ\n"), 1;
	const uint8_t *dsdt = table(&m, at, "DSDT");
	FILE *f = fopen(argv[2], "wb");
	if (!f || fwrite(dsdt, 1, get_le32(dsdt + 4), f) != get_le32(dsdt + 4) ||
	    fclose(f) != 0)
		return perror(argv[2]), 1;
	return 0;
}
