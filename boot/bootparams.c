/* The Linux "zero page" (struct boot_params) for the 64-bit entry of an ELF
 * vmlinux or a bzImage.  Offsets are those of arch/x86/include/uapi/asm/
 * bootparam.h, written field by field. */
#include <string.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"

#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1
#define BP_BOOT_FLAG		0x1fe
#define BP_HDR_MAGIC		0x202
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_KERNEL_ALIGNMENT	0x230
#define BP_CMDLINE_SIZE		0x238
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			4096

int bootparams_write(const struct config *c, const struct boot_plan *p,
		     struct guest_mem *m)
{
	struct e820_entry map[E820_MAX];
	uint8_t *bp = gmem_ptr(m, BOOT_PARAMS_ADDR, BP_SIZE);

	if (!bp)
		return -1;
	memset(bp, 0, BP_SIZE);
	if (p->format == KERNEL_FORMAT_BZIMAGE) {
		memcpy(bp + BP_HDR, p->setup_hdr, sizeof(p->setup_hdr));
	} else {
		/* A vmlinux has no setup header; give it the fields a
		 * 64-bit entry reads. */
		put_le16(bp + BP_BOOT_FLAG, 0xaa55);
		memcpy(bp + BP_HDR_MAGIC, "HdrS", 4);
		put_le16(bp + BP_VERSION, 0x020f);
		put_le32(bp + BP_KERNEL_ALIGNMENT, 0x1000000);
		put_le32(bp + BP_CMDLINE_SIZE, (uint32_t)p->cmdline_max);
	}
	bp[BP_TYPE_OF_LOADER] = 0xff;	/* "undefined" boot loader */
	put_le32(bp + BP_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, 0);
	if (p->initrd_fd >= 0) {
		put_le32(bp + BP_RAMDISK_IMAGE, (uint32_t)p->initrd_addr);
		put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_addr >> 32));
		put_le32(bp + BP_RAMDISK_SIZE, (uint32_t)p->initrd_size);
		put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_size >> 32));
	}
	if (p->acpi)
		put_le64(bp + BP_ACPI_RSDP_ADDR, BOOT_ACPI_ADDR);
	unsigned n = e820_build(m, p->acpi, map);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		put_le64(e, map[i].addr);
		put_le64(e + 8, map[i].size);
		put_le32(e + 16, map[i].type);
	}
	(void)c;
	return 0;
}
