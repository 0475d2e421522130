/*
 * Descriptor tables (CPL0): the GDT, the TSS and the IDT.
 *
 * The GDT is static so the entry code can load it before any C runs; only
 * the TSS descriptor, which needs the TSS address split into pieces, is
 * written at run time.  The IDT holds the 32 exception gates, DPL0 except
 * for #BP, the CPL3 service gate (DPL3); any other vector is not present,
 * so a stray one arrives as #NP with the vector in the error code.
 */
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "layout.h"
#include "rt.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;	/* P | DPL | 0xe (64-bit interrupt gate) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};

#define GATE_INTR_DPL0 0x8e
#define GATE_INTR_DPL3 0xee

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16))) = {
	[KERNEL_CS32 / 8] = 0x00cf9a000000ffffULL,	/* 32-bit code */
	[KERNEL_CS / 8] = 0x00af9a000000ffffULL,	/* 64-bit code */
	[KERNEL_DS / 8] = 0x00cf92000000ffffULL,	/* data */
	[USER_DS / 8] = 0x00cff2000000ffffULL,		/* data, DPL3 */
	[USER_CS / 8] = 0x00affa000000ffffULL,		/* 64-bit code, DPL3 */
};

/* Loaded by head.S with lgdt (also from 32-bit code: base < 4 GiB). */
const struct desc_ptr gdt_desc = {
	.limit = sizeof(gdt) - 1,
	.base = (uint64_t)gdt,
};

static struct tss64 tss;
static struct idt_gate idt[256] __attribute__((aligned(16)));
const struct desc_ptr idt_desc = {
	.limit = sizeof(idt) - 1,
	.base = (uint64_t)idt,
};

extern const uint64_t rt_exception_stubs[32];
extern char kstack_top[], istack_top[];

static void set_gate(unsigned vec, uint64_t fn, uint8_t type, uint8_t ist)
{
	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)fn,
		.sel = KERNEL_CS,
		.ist = ist,
		.type = type,
		.off_mid = (uint16_t)(fn >> 16),
		.off_hi = (uint32_t)(fn >> 32),
	};
}

/* CPL0: an interrupt gate (DPL0, no IST) for vector vec -> fn. */
void rt_set_gate(unsigned vec, uint64_t fn)
{
	if (vec < ARRAY_SIZE(idt))
		set_gate(vec, fn, GATE_INTR_DPL0, 0);
}

/* CPL0, once, on the boot CPU, between the entry code and CPL3. */
void rt_cpl0_setup(void);
void rt_cpl0_setup(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.rsp[0] = (uint64_t)kstack_top;
	tss.ist[0] = (uint64_t)istack_top;
	tss.iomap_base = sizeof(tss);	/* no bitmap: IOPL=3 decides */
	gdt[TSS_SEL / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			   0x89ULL << 40 | ((limit >> 16) & 0xf) << 48 |
			   ((base >> 24) & 0xff) << 56;
	gdt[TSS_SEL / 8 + 1] = base >> 32;
	ltr(TSS_SEL);

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, rt_exception_stubs[v],
			 v == SYSCALL_VECTOR ? GATE_INTR_DPL3 : GATE_INTR_DPL0,
			 v == 8 ? 1 : 0);	/* #DF on its own stack */
	lidt(&idt_desc);
}
