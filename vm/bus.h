/*
 * Port-I/O and MMIO dispatch.  Devices register address ranges before the
 * first vCPU runs; after that the tables are read-only, so vCPU threads
 * look them up without locks.  A device's handler does its own locking.
 *
 * An access no device claims reads as all ones and is otherwise ignored,
 * like an empty ISA slot: Linux probes many ports that picovm does not
 * emulate.
 */
#ifndef PICOVM_VM_BUS_H
#define PICOVM_VM_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* data holds len (1..8) bytes, little-endian; off is relative to base. */
typedef void (*bus_fn)(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write);

struct bus_region {
	uint64_t base, len;
	bus_fn fn;
	void *opaque;
};

#define BUS_MAX_REGIONS 40	/* two windows per virtio device, and room */

struct bus {
	struct bus_region r[BUS_MAX_REGIONS];
	unsigned n;
};

/* Returns 0, -EEXIST when the range overlaps another, -ENOSPC when full. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_fn fn, void *opaque);
/* Dispatches one access; returns false when no device claimed it (reads
 * are then filled with 0xff). */
bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
		bool is_write);

#endif
