/* Address-range dispatch for port I/O and MMIO; see bus.h. */
#include "bus.h"

#include <errno.h>
#include <string.h>

int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_fn fn, void *opaque)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(base, len, &end))
		return -EINVAL;
	for (unsigned i = 0; i < b->n; i++) {
		const struct bus_region *r = &b->r[i];
		if (base < r->base + r->len && r->base < end)
			return -EEXIST;
	}
	if (b->n == BUS_MAX_REGIONS)
		return -ENOSPC;
	b->r[b->n++] = (struct bus_region){ base, len, fn, opaque };
	return 0;
}

bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
		bool is_write)
{
	/* A handful of regions: a linear scan beats anything clever. */
	for (unsigned i = 0; i < b->n; i++) {
		const struct bus_region *r = &b->r[i];
		if (addr >= r->base && addr - r->base < r->len) {
			r->fn(r->opaque, addr - r->base, data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
