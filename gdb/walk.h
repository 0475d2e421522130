/*
 * Guest virtual to guest physical addresses, by walking the page tables
 * a vCPU's control registers name.  Every table entry is read through
 * gmem_ptr() (vm/memory.h, the one checked translator), so a table that
 * points outside guest RAM ends the walk with an error, never a read of
 * picovm's memory.  Pure: no KVM calls (tests/unit/test_gdb_packet.c).
 */
#ifndef PICOVM_GDB_WALK_H
#define PICOVM_GDB_WALK_H

#include <stdint.h>

#include "../vm/memory.h"

struct gdb_paging {
	uint64_t cr0, cr3, cr4, efer;
};

/* The guest-physical address of va: 0 with *gpa set and *span the bytes
 * from va to the end of its page (so [va, va + span) maps contiguously),
 * or -1 when va is not mapped (or not canonical, or a table is not RAM).
 * Paging off: va is the physical address (its 4 KiB page is the span). */
int gdb_translate(const struct guest_mem *m, const struct gdb_paging *p,
		  uint64_t va, uint64_t *gpa, uint64_t *span);

#endif
