/*
 * mkbzimage: wraps a picotest ELF into a Linux boot protocol image
 * ("bzImage"), so that picovm's bzImage loader can be tested without a
 * Linux kernel.  Host tool.
 *
 *   mkbzimage IN.elf OUT.bzImage
 *
 * IN.elf must be linked at 1 MiB (lowest PT_LOAD p_paddr == 0x100000),
 * enter at 0x100200 (the 64-bit entry, like Linux's startup_64), and carry
 * a kernel_info block ("LToP") at payload offset KERNEL_INFO_OFFSET.  The
 * output is the real-mode part -- boot sector and setup sectors holding
 * the setup header -- followed by the flat protected-mode payload (the
 * PT_LOAD file contents laid out by physical address).
 *
 * Field offsets and meanings: Documentation/arch/x86/boot.rst and
 * arch/x86/include/uapi/asm/bootparam.h.  The real-mode entry (0x200) is
 * a stub that exits with status 96 through picovm's exit port (and QEMU's
 * isa-debug-exit at 0xf4): picotest has no real-mode setup code; only the
 * 32-bit (code32_start, %esi = boot_params) and 64-bit entries work.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_ADDR		0x100000u
#define ENTRY64_OFFSET		0x200u
#define KERNEL_INFO_OFFSET	0x100u
#define SETUP_SECTS		4u
#define SETUP_SIZE		((SETUP_SECTS + 1) * 512u)
#define MAX_INPUT		(64u << 20)
#define PAGE			4096u

/* setup_header fields (offsets in the image / in boot_params) */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_SYSSIZE		0x1f4
#define HDR_VID_MODE		0x1fa
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_HEADER		0x202
#define HDR_VERSION		0x206
#define HDR_START_SYS_SEG	0x20c
#define HDR_KERNEL_VERSION	0x20e
#define HDR_LOADFLAGS		0x211
#define HDR_SETUP_MOVE_SIZE	0x212
#define HDR_CODE32_START	0x214
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_MIN_ALIGNMENT	0x235
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define HDR_KERNEL_INFO_OFFSET	0x268
#define HDR_END			0x26c

#define BOOT_FLAG		0xaa55
#define HDRS_MAGIC		0x53726448u	/* "HdrS" */
#define PROTOCOL_VERSION	0x020f
#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x0001
#define CMDLINE_SIZE		2047u
#define INITRD_ADDR_MAX		0x7fffffffu

/* Real-mode stub, placed right after the header (HDR_END). */
#define STUB_OFFSET		0x280
#define VERSION_OFFSET		0x2a0
#define REALMODE_EXIT_STATUS	96

/* ELF64 (only what is needed; host <elf.h> is avoided on purpose so the
 * checks below are explicit) */
#define EI_NIDENT	16
#define PT_LOAD		1
#define EM_X86_64	62

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put8(uint8_t *b, size_t off, uint8_t v)
{
	b[off] = v;
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	put32(b, off, (uint32_t)v);
	put32(b, off + 4, (uint32_t)(v >> 32));
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return -errno;
	buf = malloc(MAX_INPUT + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, MAX_INPUT + 1, f);
	if (ferror(f) || n > MAX_INPUT) {
		int err = ferror(f) ? -EIO : -EFBIG;

		free(buf);
		fclose(f);
		return err;
	}
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

struct payload {
	uint8_t *data;		/* file bytes, laid out from LOAD_ADDR */
	uint64_t file_size;	/* end of the last file byte - LOAD_ADDR */
	uint64_t mem_size;	/* end of the last memory byte - LOAD_ADDR */
};

/* Checks the ELF and lays its PT_LOAD segments out flat.  Returns NULL
 * on success or a message. */
static const char *flatten(const uint8_t *elf, size_t len, struct payload *p)
{
	uint64_t phoff, entry, lowest = UINT64_MAX;
	uint16_t phnum, phentsize;

	memset(p, 0, sizeof(*p));
	if (len < 64 || memcmp(elf, "\177ELF", 4))
		return "not an ELF file";
	if (elf[4] != 2 || elf[5] != 1 || get16(elf + 18) != EM_X86_64)
		return "not a little-endian x86-64 ELF64 file";
	entry = get64(elf + 24);
	phoff = get64(elf + 32);
	phentsize = get16(elf + 54);
	phnum = get16(elf + 56);
	if (phentsize != 56 || phnum == 0 || phoff > len ||
	    (uint64_t)phnum * phentsize > len - phoff)
		return "bad program header table";

	for (int pass = 0; pass < 2; pass++) {
		for (uint16_t i = 0; i < phnum; i++) {
			const uint8_t *ph = elf + phoff + (uint64_t)i * phentsize;
			uint64_t off = get64(ph + 8), pa = get64(ph + 24);
			uint64_t fsz = get64(ph + 32), msz = get64(ph + 40);
			uint64_t fend, mend;

			if (get32(ph) != PT_LOAD || msz == 0)
				continue;
			if (fsz > msz || off > len || fsz > len - off ||
			    pa < LOAD_ADDR ||
			    __builtin_add_overflow(pa - LOAD_ADDR, msz, &mend) ||
			    mend > MAX_INPUT)
				return "PT_LOAD segment out of bounds";
			fend = pa - LOAD_ADDR + fsz;
			if (pass == 0) {
				if (pa < lowest)
					lowest = pa;
				if (fsz && fend > p->file_size)
					p->file_size = fend;
				if (mend > p->mem_size)
					p->mem_size = mend;
			} else {
				memcpy(p->data + (pa - LOAD_ADDR), elf + off,
				       (size_t)fsz);
			}
		}
		if (pass == 0) {
			if (lowest != LOAD_ADDR)
				return "lowest PT_LOAD is not at 0x100000";
			if (entry != LOAD_ADDR + ENTRY64_OFFSET)
				return "entry point is not 0x100200";
			if (p->file_size < KERNEL_INFO_OFFSET + 16)
				return "payload too small";
			p->data = calloc(1, (size_t)p->file_size);
			if (!p->data)
				return "out of memory";
		}
	}
	if (memcmp(p->data + KERNEL_INFO_OFFSET, "LToP", 4))
		return "no kernel_info (\"LToP\") at payload offset 0x100";
	return NULL;
}

static void make_setup(uint8_t *s, const struct payload *p)
{
	static const char version[] = "picotest";
	/* cli; mov $status,%al; mov $0x510,%dx; out %al,%dx;
	 * out %al,$0xf4 (QEMU's isa-debug-exit); 1: hlt; jmp 1b */
	static const uint8_t stub[] = {
		0xfa, 0xb0, REALMODE_EXIT_STATUS, 0xba, 0x10, 0x05, 0xee,
		0xe6, 0xf4, 0xf4, 0xeb, 0xfd,
	};
	uint64_t init_size = (p->mem_size + PAGE - 1) / PAGE * PAGE;

	memset(s, 0, SETUP_SIZE);
	put8(s, HDR_SETUP_SECTS, SETUP_SECTS);
	put32(s, HDR_SYSSIZE, (uint32_t)((p->file_size + 15) / 16));
	put16(s, HDR_VID_MODE, 0xffff);
	put16(s, HDR_BOOT_FLAG, BOOT_FLAG);
	/* jmp short from 0x202 to the stub */
	put8(s, HDR_JUMP, 0xeb);
	put8(s, HDR_JUMP + 1, (uint8_t)(STUB_OFFSET - (HDR_JUMP + 2)));
	put32(s, HDR_HEADER, HDRS_MAGIC);
	put16(s, HDR_VERSION, PROTOCOL_VERSION);
	put16(s, HDR_START_SYS_SEG, 0x1000);
	put16(s, HDR_KERNEL_VERSION, VERSION_OFFSET - 0x200);
	put8(s, HDR_LOADFLAGS, LOADED_HIGH);
	put16(s, HDR_SETUP_MOVE_SIZE, 0x8000);
	put32(s, HDR_CODE32_START, LOAD_ADDR);
	put32(s, HDR_INITRD_ADDR_MAX, INITRD_ADDR_MAX);
	/* Not relocatable: loaded at pref_address, which is 1 MiB aligned. */
	put32(s, HDR_KERNEL_ALIGNMENT, LOAD_ADDR);
	put8(s, HDR_RELOCATABLE, 0);
	put8(s, HDR_MIN_ALIGNMENT, 20);
	put16(s, HDR_XLOADFLAGS, XLF_KERNEL_64);
	put32(s, HDR_CMDLINE_SIZE, CMDLINE_SIZE);
	put64(s, HDR_PREF_ADDRESS, LOAD_ADDR);
	put32(s, HDR_INIT_SIZE, (uint32_t)init_size);
	put32(s, HDR_KERNEL_INFO_OFFSET, KERNEL_INFO_OFFSET);
	memcpy(s + STUB_OFFSET, stub, sizeof(stub));
	memcpy(s + VERSION_OFFSET, version, sizeof(version));
}

static int write_image(const char *path, const uint8_t *setup,
		       const struct payload *p)
{
	FILE *f = fopen(path, "wb");
	int err = 0;

	if (!f)
		return -errno;
	if (fwrite(setup, 1, SETUP_SIZE, f) != SETUP_SIZE ||
	    fwrite(p->data, 1, (size_t)p->file_size, f) != p->file_size)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int main(int argc, char **argv)
{
	uint8_t setup[SETUP_SIZE];
	struct payload p;
	uint8_t *elf = NULL;
	size_t len = 0;
	const char *why;
	int err;

	_Static_assert(HDR_END <= STUB_OFFSET && STUB_OFFSET + 16 <= VERSION_OFFSET &&
		       VERSION_OFFSET + 16 <= SETUP_SIZE, "setup layout");
	if (argc != 3) {
		fprintf(stderr, "usage: mkbzimage IN.elf OUT.bzImage\n");
		return 2;
	}
	err = read_file(argv[1], &elf, &len);
	if (err) {
		fprintf(stderr, "mkbzimage: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	why = flatten(elf, len, &p);
	free(elf);
	if (why) {
		fprintf(stderr, "mkbzimage: %s: %s\n", argv[1], why);
		free(p.data);
		return 1;
	}
	if (p.mem_size > UINT32_MAX) {
		fprintf(stderr, "mkbzimage: %s: image too large\n", argv[1]);
		free(p.data);
		return 1;
	}
	make_setup(setup, &p);
	err = write_image(argv[2], setup, &p);
	free(p.data);
	if (err) {
		fprintf(stderr, "mkbzimage: %s: %s\n", argv[2], strerror(-err));
		remove(argv[2]);
		return 1;
	}
	return 0;
}
