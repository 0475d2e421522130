/* Guest page-table walks (walk.h). */
#include "walk.h"

#include <string.h>

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull	/* bits 51:12 */

static int read_entry(const struct guest_mem *m, uint64_t gpa, unsigned size,
		      uint64_t *e)
{
	const uint8_t *p = gmem_ptr(m, gpa, size);

	if (!p)
		return -1;
	*e = 0;
	memcpy(e, p, size);	/* little-endian host, as the guest */
	return 0;
}

static void done(uint64_t base, uint64_t page, uint64_t va, uint64_t *gpa,
		 uint64_t *span)
{
	uint64_t off = va & (page - 1);

	*gpa = base + off;
	*span = page - off;
}

/* 4- or 5-level long mode, or 3-level PAE: 8-byte entries, 9 bits each. */
static int walk64(const struct guest_mem *m, const struct gdb_paging *p,
		  uint64_t va, unsigned levels, uint64_t *gpa, uint64_t *span)
{
	uint64_t table = levels == 3 ? p->cr3 & 0xffffffe0ull : p->cr3 & ADDR_MASK;

	if (levels > 3) {
		unsigned bits = 12 + 9 * levels;	/* 48 or 57 */
		uint64_t top = (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits));
		if (top != va)
			return -1;			/* not canonical */
	}
	for (unsigned l = levels; l > 0; l--) {
		unsigned shift = 12 + 9 * (l - 1);
		uint64_t idx = levels == 3 && l == 3 ? (va >> 30) & 3 :
			       (va >> shift) & 511;
		uint64_t e;
		if (read_entry(m, table + idx * 8, 8, &e) < 0 || !(e & PTE_P))
			return -1;
		if (l == 1 || ((l == 2 || (l == 3 && levels > 3)) && (e & PTE_PS))) {
			uint64_t page = 1ull << shift;
			done(e & ADDR_MASK & ~(page - 1), page, va, gpa, span);
			return 0;
		}
		table = e & ADDR_MASK;
	}
	return -1;
}

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with PSE. */
static int walk32(const struct guest_mem *m, const struct gdb_paging *p,
		  uint64_t va, uint64_t *gpa, uint64_t *span)
{
	uint64_t pde, pte;

	if (va > 0xffffffffull ||
	    read_entry(m, (p->cr3 & 0xfffff000ull) + ((va >> 22) & 1023) * 4, 4,
		       &pde) < 0 || !(pde & PTE_P))
		return -1;
	if ((pde & PTE_PS) && (p->cr4 & CR4_PSE)) {
		uint64_t base = (pde & 0xffc00000ull) | ((pde >> 13 & 0xff) << 32);
		done(base, 1ull << 22, va, gpa, span);
		return 0;
	}
	if (read_entry(m, (pde & 0xfffff000ull) + ((va >> 12) & 1023) * 4, 4,
		       &pte) < 0 || !(pte & PTE_P))
		return -1;
	done(pte & 0xfffff000ull, 4096, va, gpa, span);
	return 0;
}

int gdb_translate(const struct guest_mem *m, const struct gdb_paging *p,
		  uint64_t va, uint64_t *gpa, uint64_t *span)
{
	if (!(p->cr0 & CR0_PG)) {
		done(va & ~4095ull, 4096, va, gpa, span);
		return 0;
	}
	if (p->efer & EFER_LMA)
		return walk64(m, p, va, p->cr4 & CR4_LA57 ? 5 : 4, gpa, span);
	if (p->cr4 & CR4_PAE)
		return walk64(m, p, va & 0xffffffffull, 3, gpa, span);
	return walk32(m, p, va, gpa, span);
}
