/*
 * Guest RAM and the one checked guest-physical-address translator.
 *
 * Layout: RAM starts at GPA 0.  If it is larger than MEM_HOLE_START, the
 * part above moves to MEM_HIGH_START, leaving [3 GiB, 4 GiB) for MMIO
 * (LAPIC, IOAPIC, virtio-mmio windows).  One anonymous mapping backs both
 * parts; they are two KVM memory slots.
 *
 * Rule for the whole code base: nothing but gmem_ptr() adds an offset to
 * the host mapping.  gmem_ptr() checks address *and* length, with
 * overflow-checked arithmetic, and refuses a range that leaves RAM or
 * straddles the hole: guest-supplied addresses can only ever reach guest
 * RAM, never picovm's own memory or a device window.
 */
#ifndef PICOVM_VM_MEMORY_H
#define PICOVM_VM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_HOLE_START 0xc0000000ULL
#define MEM_HIGH_START 0x100000000ULL

struct guest_mem {
	uint8_t *host;		/* mapping of size bytes */
	uint64_t size;		/* total RAM */
	uint64_t low_size;	/* RAM at [0, low_size) */
	uint64_t high_size;	/* RAM at [MEM_HIGH_START, +high_size) */
	bool huge;
};

/* Maps size bytes of anonymous memory (MAP_NORESERVE; or hugetlb pages,
 * reserved at once, when huge).  Returns 0 or -errno. */
int gmem_init(struct guest_mem *m, uint64_t size, bool huge);
/* Registers the RAM with KVM as slots 0 and 1.  Returns 0 or -errno. */
int gmem_register(const struct guest_mem *m, int vm_fd);
/* Guest RAM from a snapshot's memory file (size bytes): mapped
 * MAP_PRIVATE, so pages load on first touch and the guest's writes stay
 * its own.  Returns 0 or -errno. */
int gmem_init_file(struct guest_mem *m, int fd, uint64_t size);
void gmem_free(struct guest_mem *m);
/* Host pointer for [gpa, gpa+len) or NULL when any byte of it is not RAM. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* True when [gpa, gpa+len) is RAM. */
static inline bool gmem_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(m, gpa, len) != NULL;
}

#endif
