/*
 * The bump allocator of mem.h.
 */
#include <stdint.h>

#include "mem.h"
#include "rt.h"

extern char _end[];

static uint64_t heap_next, heap_end, ram_top;

void rt_mem_init(const struct bootinfo *bi)
{
	uint64_t start = ((uint64_t)_end + 4095) & ~4095ULL;

	for (unsigned i = 0; i < bi->e820_count; i++) {
		const struct e820_entry *e = &bi->e820[i];
		uint64_t end = e->addr + e->size;

		if (e->type != E820_RAM || end < e->addr)
			continue;
		if (end > ram_top)
			ram_top = end;
		if (e->addr <= start && start < end) {
			heap_next = start;
			heap_end = end;
		}
	}
	/* The identity map covers 4 GiB only. */
	if (heap_end > (4ULL << 30))
		heap_end = 4ULL << 30;
}

void *rt_alloc(size_t size, size_t align)
{
	uint64_t p = (heap_next + align - 1) & ~(uint64_t)(align - 1);

	if (p < heap_next || p > heap_end || size > heap_end - p)
		return NULL;
	heap_next = p + size;
	return (void *)p;
}

void *rt_zalloc(size_t size, size_t align)
{
	void *p = rt_alloc(size, align);

	if (p)
		memset(p, 0, size);
	return p;
}

uint64_t rt_heap_next(void)
{
	return heap_next;
}

uint64_t rt_heap_end(void)
{
	return heap_end;
}

uint64_t rt_ram_top(void)
{
	return ram_top;
}
