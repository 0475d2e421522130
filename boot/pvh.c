/* PVH boot: struct hvm_start_info (Xen's arch-x86/hvm/start_info.h,
 * version 1) with the command line, the initrd as module 0 and the memory
 * map, written field by field. */
#include <string.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"

#define HVM_START_MAGIC 0x336ec578
#define SI_SIZE 56
#define MOD_SIZE 32
#define MEMMAP_ENTRY_SIZE 24

int pvh_write(const struct config *c, const struct boot_plan *p,
	      struct guest_mem *m)
{
	struct e820_entry map[E820_MAX];
	unsigned n = e820_build(m, p->acpi, map);
	uint8_t *si = gmem_ptr(m, BOOT_PVH_INFO_ADDR, SI_SIZE);
	uint8_t *mod = gmem_ptr(m, BOOT_PVH_MODLIST_ADDR, MOD_SIZE);
	uint8_t *mm = gmem_ptr(m, BOOT_PVH_MEMMAP_ADDR, MEMMAP_ENTRY_SIZE * n);

	if (!si || !mod || !mm)
		return -1;
	memset(si, 0, SI_SIZE);
	put_le32(si + 0, HVM_START_MAGIC);
	put_le32(si + 4, 1);				/* version */
	put_le64(si + 24, BOOT_CMDLINE_ADDR);		/* cmdline_paddr */
	put_le64(si + 32, p->acpi ? BOOT_ACPI_ADDR : 0);	/* rsdp_paddr */
	put_le64(si + 40, BOOT_PVH_MEMMAP_ADDR);	/* memmap_paddr */
	put_le32(si + 48, n);				/* memmap_entries */
	if (p->initrd_fd >= 0) {
		put_le32(si + 12, 1);			/* nr_modules */
		put_le64(si + 16, BOOT_PVH_MODLIST_ADDR);
		memset(mod, 0, MOD_SIZE);
		put_le64(mod, p->initrd_addr);
		put_le64(mod + 8, p->initrd_size);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = mm + MEMMAP_ENTRY_SIZE * i;
		put_le64(e, map[i].addr);
		put_le64(e + 8, map[i].size);
		put_le32(e + 16, map[i].type);
		put_le32(e + 20, 0);
	}
	(void)c;
	return 0;
}
