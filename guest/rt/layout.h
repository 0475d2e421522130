/*
 * Fixed numbers the runtime's assembly and C share: selectors, stack
 * sizes, boot protocols, service numbers, addresses.  Plain macros only,
 * because the .S files include it too.
 */
#ifndef PICOTEST_RT_LAYOUT_H
#define PICOTEST_RT_LAYOUT_H

/* Where every image is linked and loaded.  Below 1 MiB belongs to the
 * VMM (picovm keeps its page tables, GDT, boot_params and command line at
 * 0x500-0x2ffff and 0x9fc00-0xfffff). */
#define IMAGE_BASE	0x100000
/* bzImage payload: offset of the 64-bit entry (like Linux startup_64). */
#define STARTUP_64_OFFSET 0x200
/* bzImage payload: offset of the boot protocol 2.15 kernel_info
 * (mkbzimage.c has the same number). */
#define KERNEL_INFO_OFFSET 0x100

/* Our GDT.  0x10/0x18 match what picovm uses at the 64-bit entry, so the
 * switch to our GDT changes no selector values. */
#define KERNEL_CS32	0x08
#define KERNEL_CS	0x10
#define KERNEL_DS	0x18
#define USER_DS		0x20	/* use with RPL 3: 0x23 */
#define USER_CS		0x28	/* use with RPL 3: 0x2b */
#define TSS_SEL		0x30	/* 16-byte descriptor: entries 6 and 7 */
#define GDT_ENTRIES	8

/* RFLAGS for CPL3: IOPL=3 so in/out work, IF=0 (only blk-irq takes
 * interrupts, turning IF on through SYS_SET_IF), bit 1 is always set. */
#define USER_RFLAGS	0x3002

/* Stacks (in the never-zeroed .noinit area after .bss). */
#define KSTACK_SIZE	16384	/* CPL0: setup, traps, services */
#define ISTACK_SIZE	4096	/* IST1: double fault */
#define USTACK_SIZE	65536	/* CPL3: everything else */
#define AP_STACK_SIZE	512	/* APs only record their id and halt */
#define MAX_CPUS	256

/* The AP start-up trampoline is copied here; SIPI vector = addr >> 12.
 * Must be below 1 MiB, page aligned, and clear of picovm's structures. */
#define AP_TRAMPOLINE	0x70000

/* How the image was entered (boot_proto). */
#define BOOT_PROTO_BP64	1	/* 64-bit entry, %rsi = boot_params */
#define BOOT_PROTO_BP32	2	/* 32-bit entry, %esi = boot_params */
#define BOOT_PROTO_PVH	3	/* PVH entry, %ebx = hvm_start_info */

/* CPL3 -> CPL0 services: `int3` (#BP, whose gate has DPL3) with the
 * number in %rax and arguments in %rdi, %rsi, %rdx; the result comes
 * back in %rax.  Not `int $n`: the nested KVM of the build machines turns
 * every `int $n` at CPL3 into #UD, while int3 arrives as #BP. */
#define SYSCALL_VECTOR	3
#define SYS_HALT	0	/* cli; hlt forever */
#define SYS_TRIPLE	1	/* empty IDT, then fault: triple fault */
#define SYS_NOP		2	/* (x) returns x + 1: round-trip check */
#define SYS_SERIAL_WRITE 3	/* (buf, len): COM1 output, flow controlled */
#define SYS_SERIAL_READ	4	/* (buf, max, stop): COM1 input; returns n */
#define SYS_OUTSB	5	/* (port, buf, len): rep outsb, no checks */
#define SYS_IRQ_GATE	6	/* (vector 32-255, kind IRQ_GATE_*): IDT gate */
#define SYS_SET_IF	7	/* (on): RFLAGS.IF for the caller (cli/sti #GP) */
#define SYS_WAIT_IRQ	8	/* sti; hlt; cli: sleeps until an interrupt */
#define SYS_TSC_DEADLINE 9	/* (tsc): wrmsr IA32_TSC_DEADLINE (0x6e0) */
#define SYS_COUNT	10

/* SYS_IRQ_GATE kinds (irq.h): count + LAPIC EOI, or a bare iretq. */
#define IRQ_GATE_COUNT	0
#define IRQ_GATE_SPURIOUS 1

/* Status written to the exit port when a CPU exception reaches us. */
#define EXIT_EXCEPTION	100

/* x86 bits the entry code needs. */
#define CR0_PE		(1 << 0)
#define CR0_PG		0x80000000
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)
#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_U		0x004
#define PTE_PS		0x080

#endif
