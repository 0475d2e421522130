/*
 * bzImage through the Linux boot protocol (Documentation/arch/x86/boot.rst):
 * the setup header is validated, the protected-mode part is loaded at
 * 1 MiB and entered at its 64-bit entry (offset 0x200), so picovm needs a
 * kernel with protocol 2.12 or newer that sets XLF_KERNEL_64.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"
#include "../vm/log.h"

/* Offsets into the first sectors of the image (= into boot_params). */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_LOADFLAGS		0x211
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_INIT_SIZE		0x260
#define HDR_END			0x290	/* beyond every field we read */

#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01
#define BZ_LOAD_ADDR		0x100000ULL
#define BZ_ENTRY64_OFFSET	0x200

bool bzimage_is_bzimage(const uint8_t *head, uint64_t size)
{
	return size >= HDR_MAGIC + 4 && get_le16(head + HDR_BOOT_FLAG) == 0xaa55 &&
	       memcmp(head + HDR_MAGIC, "HdrS", 4) == 0;
}

int bzimage_probe(const char *path, int fd, uint64_t size, struct boot_plan *p)
{
	uint8_t h[HDR_END];

	if (size < HDR_END || pread_full(fd, h, sizeof(h), 0) < 0) {
		log_err("%s: truncated bzImage (%llu bytes, shorter than the "
			"setup header)", path, (unsigned long long)size);
		return -1;
	}
	if (!bzimage_is_bzimage(h, size)) {
		log_err("%s: not a bzImage (no 0xaa55 boot flag and \"HdrS\" "
			"setup header)", path);
		return -1;
	}
	uint16_t version = get_le16(h + HDR_VERSION);
	if (version < 0x020c) {
		log_err("%s: Linux boot protocol %u.%02u is too old; picovm needs "
			"2.12 or newer (64-bit entry)", path, version >> 8,
			version & 0xff);
		return -1;
	}
	if (!(h[HDR_XLOADFLAGS] & XLF_KERNEL_64)) {
		log_err("%s: kernel has no 64-bit entry point (XLF_KERNEL_64 "
			"not set); picovm boots 64-bit kernels only", path);
		return -1;
	}
	if (!(h[HDR_LOADFLAGS] & LOADED_HIGH)) {
		log_err("%s: not a bzImage (zImage loading low is unsupported)",
			path);
		return -1;
	}
	unsigned sects = h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4;
	uint64_t setup_size = ((uint64_t)sects + 1) * 512;
	if (setup_size >= size ||
	    size - setup_size <= BZ_ENTRY64_OFFSET) {
		log_err("%s: truncated bzImage: %llu bytes, but the setup part "
			"alone is %llu", path, (unsigned long long)size,
			(unsigned long long)setup_size);
		return -1;
	}
	uint64_t payload = size - setup_size;
	uint64_t need = get_le32(h + HDR_INIT_SIZE);
	if (need < payload)
		need = payload;

	/* Header length as the kernel states it: the jump at 0x200 skips it. */
	uint64_t hdr_end = HDR_MAGIC + (uint64_t)h[HDR_JUMP + 1];
	if (hdr_end > HDR_END)
		hdr_end = HDR_END;
	memset(p->setup_hdr, 0, sizeof(p->setup_hdr));
	memcpy(p->setup_hdr, h + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);

	p->nseg = 1;
	p->seg[0] = (struct boot_segment){ setup_size, BZ_LOAD_ADDR, payload, need };
	p->kernel_end = BZ_LOAD_ADDR + need;
	p->entry = BZ_LOAD_ADDR + BZ_ENTRY64_OFFSET;
	p->cmdline_max = get_le32(h + HDR_CMDLINE_SIZE);
	p->initrd_limit = (uint64_t)get_le32(h + HDR_INITRD_ADDR_MAX) + 1;
	return 0;
}
