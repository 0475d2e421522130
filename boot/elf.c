/*
 * ELF kernels: an ELF64 x86-64 vmlinux entered through the 64-bit boot
 * protocol at e_entry, or an ELF64 or ELF32 (i386) file entered through
 * PVH at the address in its Xen XEN_ELFNOTE_PHYS32_ENTRY note (as QEMU
 * boots them).  Every header field is checked against the
 * file size with overflow-checked arithmetic before it is used.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"
#include "../vm/log.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define ELF_MAX_PHDRS 64
#define ELF_MAX_NOTES_SIZE 65536

bool elf_is_elf(const uint8_t *head, uint64_t size)
{
	return size >= 4 && memcmp(head, ELFMAG, SELFMAG) == 0;
}

/* What picovm needs of an ELF header, whatever its class. */
struct elf_head {
	bool is32;		/* ELFCLASS32 (EM_386): PVH only */
	uint64_t entry;
};

static void elf_widen(const Elf32_Phdr *p32, Elf64_Phdr *p)
{
	*p = (Elf64_Phdr){ .p_type = p32->p_type, .p_flags = p32->p_flags,
			   .p_offset = p32->p_offset, .p_vaddr = p32->p_vaddr,
			   .p_paddr = p32->p_paddr, .p_filesz = p32->p_filesz,
			   .p_memsz = p32->p_memsz, .p_align = p32->p_align };
}

/* Reads and checks the ELF and program headers of a 64-bit x86-64 or a
 * 32-bit i386 file; a 32-bit file's program headers are widened to
 * Elf64_Phdr.  Returns the number of program headers, or -1 (after
 * printing why, unless path is NULL: a quiet probe). */
#define ELF_ERR(...) do { if (path) log_err(__VA_ARGS__); return -1; } while (0)
static int elf_read_headers(const char *path, int fd, uint64_t size,
			    struct elf_head *h, Elf64_Phdr *ph)
{
	uint8_t id[EI_NIDENT];
	union { Elf64_Ehdr e64; Elf32_Ehdr e32; } eh;
	uint64_t phoff;
	unsigned phnum, phentsize, want_ent;
	uint16_t machine, type;

	if (size < sizeof(eh.e32) || pread_full(fd, id, sizeof(id), 0) < 0)
		ELF_ERR("%s: truncated ELF file (%llu bytes, shorter than an "
			"ELF header)", path, (unsigned long long)size);
	if (memcmp(id, ELFMAG, SELFMAG) != 0)
		ELF_ERR("%s: not an ELF file", path);
	if (id[EI_CLASS] != ELFCLASS64 && id[EI_CLASS] != ELFCLASS32)
		ELF_ERR("%s: ELF class %u is neither 32- nor 64-bit", path,
			id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		ELF_ERR("%s: big-endian ELF file; picovm boots x86-64 kernels only",
			path);
	h->is32 = id[EI_CLASS] == ELFCLASS32;
	if (h->is32) {
		if (pread_full(fd, &eh.e32, sizeof(eh.e32), 0) < 0)
			return -1;
		machine = eh.e32.e_machine;
		type = eh.e32.e_type;
		h->entry = eh.e32.e_entry;
		phoff = eh.e32.e_phoff;
		phnum = eh.e32.e_phnum;
		phentsize = eh.e32.e_phentsize;
		want_ent = sizeof(Elf32_Phdr);
	} else {
		if (size < sizeof(eh.e64) ||
		    pread_full(fd, &eh.e64, sizeof(eh.e64), 0) < 0)
			ELF_ERR("%s: truncated ELF file (%llu bytes, shorter than "
				"an ELF header)", path, (unsigned long long)size);
		machine = eh.e64.e_machine;
		type = eh.e64.e_type;
		h->entry = eh.e64.e_entry;
		phoff = eh.e64.e_phoff;
		phnum = eh.e64.e_phnum;
		phentsize = eh.e64.e_phentsize;
		want_ent = sizeof(Elf64_Phdr);
	}
	if (h->is32 && machine != EM_386)
		ELF_ERR("%s: 32-bit ELF file for machine type %u, not i386 (%u)",
			path, machine, EM_386);
	if (!h->is32 && machine != EM_X86_64)
		ELF_ERR("%s: ELF file for machine type %u, not x86-64 (%u)", path,
			machine, EM_X86_64);
	if (type != ET_EXEC)
		ELF_ERR("%s: ELF type %u is not an executable (ET_EXEC)", path,
			type);
	if (phentsize != want_ent || phnum == 0 || phnum > ELF_MAX_PHDRS)
		ELF_ERR("%s: bad ELF program header table (entry size %u, %u "
			"entries)", path, phentsize, phnum);
	uint64_t tbl = (uint64_t)phnum * want_ent, end;
	if (__builtin_add_overflow(phoff, tbl, &end) || end > size)
		ELF_ERR("%s: ELF program headers lie outside the file "
			"(truncated?)", path);
	if (!h->is32) {
		if (pread_full(fd, ph, tbl, phoff) < 0)
			ELF_ERR("%s: cannot read program headers: %s", path,
				strerror(errno));
		return (int)phnum;
	}
	Elf32_Phdr p32[ELF_MAX_PHDRS];
	if (pread_full(fd, p32, tbl, phoff) < 0)
		ELF_ERR("%s: cannot read program headers: %s", path,
			strerror(errno));
	for (unsigned i = 0; i < phnum; i++)
		elf_widen(&p32[i], &ph[i]);
	return (int)phnum;
}
#undef ELF_ERR

/* Looks for the PVH entry note in the PT_NOTE segments.  Returns 1 and
 * sets *entry when found, 0 when absent, -1 on a malformed note. */
static int elf_find_pvh(const char *path, int fd, uint64_t size,
			const Elf64_Phdr *ph, int n, uint64_t *entry)
{
	for (int i = 0; i < n; i++) {
		uint64_t end;
		if (ph[i].p_type != PT_NOTE)
			continue;
		if (ph[i].p_filesz > ELF_MAX_NOTES_SIZE ||
		    __builtin_add_overflow(ph[i].p_offset, ph[i].p_filesz, &end) ||
		    end > size) {
			if (path)
				log_err("%s: ELF note segment lies outside the file",
					path);
			return -1;
		}
		uint8_t *buf = malloc(ph[i].p_filesz + 1);
		if (!buf || pread_full(fd, buf, ph[i].p_filesz, ph[i].p_offset) < 0) {
			free(buf);
			return -1;
		}
		uint64_t off = 0, len = ph[i].p_filesz;
		int found = 0;
		while (off + 12 <= len) {
			uint32_t namesz = get_le32(buf + off);
			uint32_t descsz = get_le32(buf + off + 4);
			uint32_t type = get_le32(buf + off + 8);
			uint64_t name = off + 12;
			uint64_t desc = name + (((uint64_t)namesz + 3) & ~3ULL);
			uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ULL);
			if (next > len || desc > len || desc + descsz > len)
				break;	/* truncated note: stop, no overrun */
			if (namesz == 4 && memcmp(buf + name, "Xen", 4) == 0 &&
			    type == XEN_ELFNOTE_PHYS32_ENTRY) {
				if (descsz == 4)
					*entry = get_le32(buf + desc);
				else if (descsz == 8)
					*entry = get_le64(buf + desc);
				else {
					if (path)
						log_err("%s: PVH entry note has a "
							"%u-byte value (expected 4 or 8)",
							path, descsz);
					free(buf);
					return -1;
				}
				found = 1;
				break;
			}
			off = next;
		}
		free(buf);
		if (found)
			return 1;
	}
	return 0;
}

bool elf_has_pvh_note(int fd, uint64_t size)
{
	struct elf_head h;
	Elf64_Phdr ph[ELF_MAX_PHDRS];
	uint64_t entry;

	/* Quiet probe: errors are reported by elf_probe afterwards. */
	int n = elf_read_headers(NULL, fd, size, &h, ph);
	return n > 0 && elf_find_pvh(NULL, fd, size, ph, n, &entry) == 1;
}

static bool elf_in_segment(const struct boot_plan *p, uint64_t addr)
{
	for (unsigned i = 0; i < p->nseg; i++)
		if (addr >= p->seg[i].paddr &&
		    addr - p->seg[i].paddr < p->seg[i].memsz)
			return true;
	return false;
}

int elf_probe(const char *path, int fd, uint64_t size, bool want_pvh,
	      struct boot_plan *p)
{
	struct elf_head eh;
	Elf64_Phdr ph[ELF_MAX_PHDRS];
	int n = elf_read_headers(path, fd, size, &eh, ph);

	if (n < 0)
		return -1;
	if (eh.is32 && !want_pvh) {
		uint64_t note;	/* the headers are at hand: no second read */
		log_err("%s: 32-bit ELF file %s; picovm boots a 32-bit ELF only "
			"through its PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
			path, elf_find_pvh(NULL, fd, size, ph, n, &note) == 1 ?
				"with kernel.format = elf" : "without a PVH entry note");
		return -1;
	}
	p->nseg = 0;
	p->kernel_end = 0;
	for (int i = 0; i < n; i++) {
		const Elf64_Phdr *s = &ph[i];
		uint64_t fend, mend;
		if (s->p_type != PT_LOAD || s->p_memsz == 0)
			continue;
		if (p->nseg == BOOT_MAX_SEGMENTS) {
			log_err("%s: more than %d loadable segments", path,
				BOOT_MAX_SEGMENTS);
			return -1;
		}
		if (s->p_filesz > s->p_memsz) {
			log_err("%s: segment %d: file size 0x%llx exceeds memory "
				"size 0x%llx", path, i,
				(unsigned long long)s->p_filesz,
				(unsigned long long)s->p_memsz);
			return -1;
		}
		if (__builtin_add_overflow(s->p_offset, s->p_filesz, &fend) ||
		    fend > size) {
			log_err("%s: segment %d lies past the end of the file "
				"(truncated image?)", path, i);
			return -1;
		}
		if (__builtin_add_overflow(s->p_paddr, s->p_memsz, &mend)) {
			log_err("%s: segment %d: address 0x%llx + size overflows",
				path, i, (unsigned long long)s->p_paddr);
			return -1;
		}
		if (s->p_paddr < BOOT_KERNEL_MIN) {
			log_err("%s: segment %d loads at 0x%llx, below 1 MiB where "
				"picovm keeps its boot structures", path, i,
				(unsigned long long)s->p_paddr);
			return -1;
		}
		p->seg[p->nseg++] = (struct boot_segment){
			s->p_offset, s->p_paddr, s->p_filesz, s->p_memsz };
		if (mend > p->kernel_end)
			p->kernel_end = mend;
	}
	if (p->nseg == 0) {
		log_err("%s: no loadable segments", path);
		return -1;
	}
	if (want_pvh) {
		uint64_t entry = 0;
		int r = elf_find_pvh(path, fd, size, ph, n, &entry);
		if (r < 0)
			return -1;
		if (r == 0) {
			log_err("%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
				"use kernel.format = elf for the 64-bit entry", path);
			return -1;
		}
		if (entry >= 1ULL << 32) {
			log_err("%s: PVH entry 0x%llx is above 4 GiB", path,
				(unsigned long long)entry);
			return -1;
		}
		p->entry = entry;
	} else {
		p->entry = eh.entry;
	}
	if (!elf_in_segment(p, p->entry)) {
		log_err("%s: entry point 0x%llx is outside the loaded segments",
			path, (unsigned long long)p->entry);
		return -1;
	}
	/* No setup header to ask: the kernel's COMMAND_LINE_SIZE default
	 * (2048 with the NUL) and initrd_addr_max (2 GiB) of x86-64 Linux. */
	p->cmdline_max = 2047;
	p->initrd_limit = 1ULL << 31;
	return 0;
}
