/*
 * Where picovm puts things in guest memory before the first instruction.
 * Everything of picovm's lives below 1 MiB; kernels load at or above it.
 *
 *   0x000500  GDT (boot segments, see boot/x86.c)
 *   0x006000  hvm_start_info, module list and memory map (PVH entry)
 *   0x007000  boot_params, the Linux "zero page" (64-bit and bzImage entry)
 *   0x008000  boot stack (top 0x8ff0)
 *   0x009000  PML4, PDPT and four page directories: identity map of the
 *             first 4 GiB with 2 MiB pages (64-bit entry only: a PVH
 *             kernel starts with paging off and gets none)
 *   0x020000  kernel command line (up to 64 KiB)
 *   0x09e000  MP configuration table (room for 254 vCPUs: 5.3 KiB)
 *   0x09fc00  MP floating pointer, in the last KiB of base memory where
 *             the MP spec says to look; 0x9e000-0xa0000 is reserved in
 *             the e820 map
 *   0x0e0000  ACPI tables, RSDP first (acpi = on; reserved in the e820 map)
 *   0x0ef000  VM generation ID, 16 bytes (acpi = on; PICOVM_VMGENID_ADDR
 *             in devices/ports.h, within the reserved ACPI area)
 *   0x100000  kernel (ELF: at its physical addresses, which must be >= 1 MiB)
 *   top       initrd, as high as the kernel allows
 */
#ifndef PICOVM_BOOT_LAYOUT_H
#define PICOVM_BOOT_LAYOUT_H

#define BOOT_GDT_ADDR		0x500ULL
#define BOOT_PVH_INFO_ADDR	0x6000ULL
#define BOOT_PVH_MODLIST_ADDR	0x6040ULL
#define BOOT_PVH_MEMMAP_ADDR	0x6080ULL
#define BOOT_PVH_MEMMAP_MAX	32
#define BOOT_PARAMS_ADDR	0x7000ULL
#define BOOT_STACK_TOP		0x8ff0ULL
#define BOOT_PML4_ADDR		0x9000ULL
#define BOOT_PDPT_ADDR		0xa000ULL
#define BOOT_PD_ADDR		0xb000ULL	/* four pages */
#define BOOT_CMDLINE_ADDR	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL
#define BOOT_MPTABLE_ADDR	0x9e000ULL	/* start of the reserved area */
#define BOOT_MPF_ADDR		0x9fc00ULL
#define BOOT_EBDA_END		0xa0000ULL
#define BOOT_ACPI_ADDR		0xe0000ULL
#define BOOT_ACPI_SIZE		0x10000ULL
#define BOOT_KERNEL_MIN		0x100000ULL

/* GDT selectors: the Linux boot protocol's __BOOT_CS / __BOOT_DS. */
#define BOOT_SEL_CODE32		0x08
#define BOOT_SEL_CODE64		0x10
#define BOOT_SEL_DATA		0x18
#define BOOT_SEL_TSS		0x20

#define LAPIC_ADDR		0xfee00000ULL
#define IOAPIC_ADDR		0xfec00000ULL

#endif
