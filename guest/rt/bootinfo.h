/*
 * What the loader told us, whichever way we were entered: the Linux
 * boot_params (64-bit ELF or bzImage entry) and the PVH hvm_start_info
 * are both reduced to struct bootinfo by bootinfo_parse() (bootinfo.c).
 */
#ifndef PICOTEST_RT_BOOTINFO_H
#define PICOTEST_RT_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#define BOOTINFO_MAX_E820 128	/* boot_params holds at most 128 */
#define E820_RAM 1

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct bootinfo {
	unsigned proto;		/* BOOT_PROTO_* (layout.h) */
	const char *kind;	/* "elf", "bzimage" or "pvh" */
	uint64_t raw;		/* physical address of boot_params/start_info */
	const char *cmdline;	/* never NULL ("" when there is none) */
	size_t cmdline_len;	/* bytes before the NUL */
	uint64_t initrd_addr;
	uint64_t initrd_size;	/* 0: no initrd */
	unsigned e820_count;
	struct e820_entry e820[BOOTINFO_MAX_E820];
};

/* Set by the entry code (head.S). */
extern uint64_t boot_ptr;
extern uint32_t boot_proto;
/* TSC at the entry (after clearing .bss) and at the first CPL3 C code:
 * the difference is what the CPL0 start-up costs. */
extern uint64_t boot_tsc, user_tsc;
/* The image's name for a non-PVH entry, compiled in (bootkind.c). */
extern const char rt_image_kind[];

/* Fills *bi from boot_ptr/boot_proto.  Returns 0, or -1 with *why set
 * when the structure is unusable (bad magic, out of the mapped 4 GiB). */
int bootinfo_parse(struct bootinfo *bi, const char **why);

#endif
