/*
 * Guest RAM for test buffers (CPL3): a bump allocator over the e820 RAM
 * range that holds the image, starting after _end.
 *
 * Why not .bss: head.S clears .bss at CPL0, which the build machines' KVM
 * emulates thousands of times slower than CPL3, so megabytes of rings and
 * I/O buffers there would cost seconds of start-up.  Memory from here is
 * NOT zeroed; callers clear what they need (at CPL3, native speed).
 * Nothing is ever freed: tests allocate once and reuse.
 */
#ifndef PICOTEST_RT_MEM_H
#define PICOTEST_RT_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"

/* Called once by the runtime before picotest_main. */
void rt_mem_init(const struct bootinfo *bi);

/* size bytes aligned to align (a power of two); NULL when RAM runs out. */
void *rt_alloc(size_t size, size_t align);
/* Like rt_alloc, zeroed. */
void *rt_zalloc(size_t size, size_t align);
/* [rt_alloc's next address, end of its range): what is still free. */
uint64_t rt_heap_next(void);
uint64_t rt_heap_end(void);
/* The end (exclusive) of the highest e820 RAM range: the first address
 * past all guest RAM. */
uint64_t rt_ram_top(void);

#endif
