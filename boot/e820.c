/* The guest's physical memory map, as both boot_params and PVH hand it to
 * the kernel. */
#include "boot.h"
#include "layout.h"

unsigned e820_build(const struct guest_mem *m, bool acpi, struct e820_entry *e)
{
	unsigned n = 0;

	/* Base memory up to the MP tables, which the kernel must not reuse. */
	e[n++] = (struct e820_entry){ 0, BOOT_MPTABLE_ADDR, E820_RAM };
	e[n++] = (struct e820_entry){ BOOT_MPTABLE_ADDR,
				      BOOT_EBDA_END - BOOT_MPTABLE_ADDR,
				      E820_RESERVED };
	/* 640 KiB - 1 MiB is the legacy VGA/BIOS hole: not RAM to the guest;
	 * the ACPI tables there are reserved. */
	if (acpi)
		e[n++] = (struct e820_entry){ BOOT_ACPI_ADDR, BOOT_ACPI_SIZE,
					      E820_RESERVED };
	if (m->low_size > BOOT_KERNEL_MIN)
		e[n++] = (struct e820_entry){ BOOT_KERNEL_MIN,
					      m->low_size - BOOT_KERNEL_MIN,
					      E820_RAM };
	if (m->high_size)
		e[n++] = (struct e820_entry){ MEM_HIGH_START, m->high_size,
					      E820_RAM };
	return n;
}
