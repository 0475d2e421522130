/* The GDT and identity page tables picovm hands a kernel at entry.  The
 * register side of the same state (CR0/CR3/CR4/EFER, segment caches) is in
 * vcpu/regs.c; both follow boot/layout.h. */
#include <string.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

int x86_write_gdt(struct guest_mem *m)
{
	static const uint64_t gdt[] = {
		0,
		0x00cf9b000000ffffULL,	/* 0x08: 32-bit code, flat (PVH) */
		0x00af9b000000ffffULL,	/* 0x10: 64-bit code */
		0x00cf93000000ffffULL,	/* 0x18: data, flat */
		0x00008b0000000067ULL,	/* 0x20: TSS (busy), 16-byte */
		0,
	};
	uint8_t *g = gmem_ptr(m, BOOT_GDT_ADDR, sizeof(gdt));

	if (!g)
		return -1;
	for (size_t i = 0; i < sizeof(gdt) / sizeof(gdt[0]); i++)
		put_le64(g + 8 * i, gdt[i]);
	return 0;
}

int x86_write_pagetables(struct guest_mem *m)
{
	uint8_t *pml4 = gmem_ptr(m, BOOT_PML4_ADDR, 4096);
	uint8_t *pdpt = gmem_ptr(m, BOOT_PDPT_ADDR, 4096);
	uint8_t *pd = gmem_ptr(m, BOOT_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -1;
	/* Identity-map the first 4 GiB with 2 MiB pages: the kernel, its
	 * boot data and the initrd all lie there. */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put_le64(pml4, BOOT_PDPT_ADDR | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4; i++)
		put_le64(pdpt + 8 * i, (BOOT_PD_ADDR + 4096 * i) | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4 * 512; i++)
		put_le64(pd + 8 * i, (i << 21) | PTE_P | PTE_RW | PTE_PS);
	return 0;
}
