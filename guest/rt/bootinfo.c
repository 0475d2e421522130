/*
 * boot_params / hvm_start_info -> struct bootinfo.  Runs at CPL3.
 *
 * Offsets are those of the Linux zero page (arch/x86/include/uapi/asm/
 * bootparam.h) and of Xen's hvm_start_info (public/arch-x86/hvm/
 * start_info.h).  Everything the loader hands us must lie in the identity
 * mapped first 4 GiB; anything else is refused rather than touched.
 */
#include <stdint.h>

#include "layout.h"
#include "rt.h"

#define MAPPED_LIMIT	(4ULL << 30)
#define CMDLINE_MAX	(1u << 20)	/* longest command line we look for */

/* boot_params */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_E820_TABLE		0x2d0
#define BP_E820_ENTRY_SIZE	20
#define BP_SIZE			0x1000

/* hvm_start_info */
#define HVM_START_MAGIC		0x336ec578
#define HVM_MAGIC		0
#define HVM_VERSION		4
#define HVM_NR_MODULES		12
#define HVM_MODLIST_PADDR	16
#define HVM_CMDLINE_PADDR	24
#define HVM_MEMMAP_PADDR	40
#define HVM_MEMMAP_ENTRIES	48
#define HVM_SIZE_V1		56
#define HVM_MOD_SIZE		32	/* paddr, size, cmdline_paddr, reserved */
#define HVM_MEMMAP_ENTRY_SIZE	24	/* addr, size, type, reserved */

static int mapped(uint64_t addr, uint64_t len)
{
	return addr <= MAPPED_LIMIT && len <= MAPPED_LIMIT - addr;
}

static uint32_t ld32(uint64_t addr)
{
	uint32_t v;
	memcpy(&v, (const void *)addr, sizeof(v));
	return v;
}

static uint64_t ld64(uint64_t addr)
{
	uint64_t v;
	memcpy(&v, (const void *)addr, sizeof(v));
	return v;
}

static int set_cmdline(struct bootinfo *bi, uint64_t pa)
{
	uint64_t max;

	if (pa == 0) {
		bi->cmdline = "";
		bi->cmdline_len = 0;
		return 0;
	}
	if (!mapped(pa, 1))
		return -1;
	max = MAPPED_LIMIT - pa;
	if (max > CMDLINE_MAX)
		max = CMDLINE_MAX;
	bi->cmdline = (const char *)pa;
	bi->cmdline_len = strnlen(bi->cmdline, (size_t)max);
	return 0;
}

static int parse_boot_params(struct bootinfo *bi, const char **why)
{
	uint64_t bp = bi->raw;
	unsigned n;

	if (!mapped(bp, BP_SIZE)) {
		*why = "boot_params beyond 4 GiB";
		return -1;
	}
	bi->kind = rt_image_kind;
	if (set_cmdline(bi, ld32(bp + BP_CMD_LINE_PTR) |
			    (uint64_t)ld32(bp + BP_EXT_CMD_LINE_PTR) << 32)) {
		*why = "command line beyond 4 GiB";
		return -1;
	}
	bi->initrd_addr = ld32(bp + BP_RAMDISK_IMAGE) |
			  (uint64_t)ld32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
	bi->initrd_size = ld32(bp + BP_RAMDISK_SIZE) |
			  (uint64_t)ld32(bp + BP_EXT_RAMDISK_SIZE) << 32;
	n = *(const uint8_t *)(bp + BP_E820_ENTRIES);
	if (n > BOOTINFO_MAX_E820)
		n = BOOTINFO_MAX_E820;
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
		bi->e820[i].addr = ld64(e);
		bi->e820[i].size = ld64(e + 8);
		bi->e820[i].type = ld32(e + 16);
	}
	bi->e820_count = n;
	return 0;
}

static int parse_pvh(struct bootinfo *bi, const char **why)
{
	uint64_t si = bi->raw;
	uint32_t version;

	bi->kind = "pvh";
	if (!mapped(si, HVM_SIZE_V1) || ld32(si + HVM_MAGIC) != HVM_START_MAGIC) {
		*why = "no hvm_start_info (bad magic)";
		return -1;
	}
	version = ld32(si + HVM_VERSION);
	if (set_cmdline(bi, ld64(si + HVM_CMDLINE_PADDR))) {
		*why = "command line beyond 4 GiB";
		return -1;
	}
	if (ld32(si + HVM_NR_MODULES) > 0) {
		uint64_t m = ld64(si + HVM_MODLIST_PADDR);

		if (!mapped(m, HVM_MOD_SIZE)) {
			*why = "module list beyond 4 GiB";
			return -1;
		}
		bi->initrd_addr = ld64(m);
		bi->initrd_size = ld64(m + 8);
	}
	if (version >= 1) {
		uint64_t map = ld64(si + HVM_MEMMAP_PADDR);
		uint32_t n = ld32(si + HVM_MEMMAP_ENTRIES);

		if (n > BOOTINFO_MAX_E820)
			n = BOOTINFO_MAX_E820;
		if (n && !mapped(map, (uint64_t)n * HVM_MEMMAP_ENTRY_SIZE)) {
			*why = "memory map beyond 4 GiB";
			return -1;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint64_t e = map + i * HVM_MEMMAP_ENTRY_SIZE;
			bi->e820[i].addr = ld64(e);
			bi->e820[i].size = ld64(e + 8);
			bi->e820[i].type = ld32(e + 16);
		}
		bi->e820_count = n;
	}
	return 0;
}

int bootinfo_parse(struct bootinfo *bi, const char **why)
{
	memset(bi, 0, sizeof(*bi));
	bi->proto = boot_proto;
	bi->raw = boot_ptr;
	bi->cmdline = "";
	if (bi->proto == BOOT_PROTO_PVH)
		return parse_pvh(bi, why);
	if (bi->proto == BOOT_PROTO_BP64 || bi->proto == BOOT_PROTO_BP32)
		return parse_boot_params(bi, why);
	*why = "unknown entry";
	return -1;
}
