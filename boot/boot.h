/*
 * Loading a kernel: picovm's boot/ folder.
 *
 * Two phases, so that every problem with an image is found before a VM
 * exists (and by `picovm check`):
 *   boot_probe()  opens the kernel and initrd, reads and validates their
 *                 headers (every field bounds- and overflow-checked), and
 *                 decides where everything goes for the configured memory
 *                 size.  Prints "picovm: FILE: reason" and returns -1 on
 *                 any problem.
 *   boot_place()  copies the images into guest RAM and writes the boot
 *                 structures (page tables, GDT, boot_params or
 *                 hvm_start_info, e820 map, MP table); fills *entry with
 *                 the register state for vCPU 0.
 */
#ifndef PICOVM_BOOT_BOOT_H
#define PICOVM_BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "../config/config.h"
#include "../vm/memory.h"

#define BOOT_MAX_SEGMENTS 16
/* Larger kernel images are refused outright. */
#define BOOT_MAX_KERNEL_SIZE (1ULL << 30)
#define HDR_PROBE_SIZE 1024


struct boot_segment {
	uint64_t file_off, paddr, filesz, memsz;
};

struct boot_plan {
	bool acpi;			/* tables at BOOT_ACPI_ADDR */
	const char *cmdline;		/* as the kernel gets it */
	int kernel_fd, initrd_fd;
	enum kernel_format format;	/* resolved: never AUTO */
	uint64_t kernel_size;
	/* ELF: PT_LOAD segments.  bzImage: one segment, the protected-mode
	 * part; setup_hdr holds the raw setup header (from offset 0x1f1). */
	struct boot_segment seg[BOOT_MAX_SEGMENTS];
	unsigned nseg;
	uint8_t setup_hdr[0x290 - 0x1f1];
	uint64_t entry;			/* guest-physical */
	uint64_t kernel_end;		/* first byte above the kernel's memory */
	uint64_t cmdline_max;		/* longest command line the kernel takes */
	uint64_t initrd_size, initrd_addr;
	uint64_t initrd_limit;		/* initrd must end at or below this */
};


int boot_probe(const struct config *c, const char *cmdline,
	       struct boot_plan *p);
int boot_place(const struct config *c, const struct boot_plan *p,
	       struct guest_mem *m, struct boot_entry *e);
void boot_plan_free(struct boot_plan *p);

/* The pieces (one file each). */
int elf_probe(const char *path, int fd, uint64_t size, bool want_pvh,
	      struct boot_plan *p);
bool elf_is_elf(const uint8_t *head, uint64_t size);
bool elf_has_pvh_note(int fd, uint64_t size);
int bzimage_probe(const char *path, int fd, uint64_t size, struct boot_plan *p);
bool bzimage_is_bzimage(const uint8_t *head, uint64_t size);

/* e820 map shared by boot_params and the PVH memory map. */
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 8
unsigned e820_build(const struct guest_mem *m, bool acpi, struct e820_entry *e);

int bootparams_write(const struct config *c, const struct boot_plan *p,
		     struct guest_mem *m);
int pvh_write(const struct config *c, const struct boot_plan *p,
	      struct guest_mem *m);
int x86_write_gdt(struct guest_mem *m);
/* The identity map of the 64-bit entry (a PVH kernel starts with paging
 * off: picovm writes, and the host faults in, none of its six pages). */
int x86_write_pagetables(struct guest_mem *m);
/* The tables, with nvirtio virtio-mmio devices in the DSDT. */
int acpi_write(struct guest_mem *m, unsigned ncpus, unsigned nvirtio);
/* The DSDT's AML (after the table header) into buf: its length, or -1
 * with *why. */
long acpi_dsdt_aml(uint8_t *buf, size_t cap, unsigned nvirtio, const char **why);
/* vmgenid.c: the AML of the VM generation ID's SSDT (without header). */
const uint8_t *vmgenid_ssdt_aml(uint32_t *len);
int mptable_write(struct guest_mem *m, unsigned ncpus, uint32_t cpu_signature,
		  uint32_t cpu_features);

#endif
