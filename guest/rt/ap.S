/*
 * Application processor start-up.  ap_tramp_start..ap_tramp_end is
 * copied to AP_TRAMPOLINE (below 1 MiB) by smp.c; a SIPI with vector
 * AP_TRAMPOLINE >> 12 starts an AP there in real mode with CS =
 * AP_TRAMPOLINE >> 4, IP = 0.  It goes real -> 32-bit protected -> long
 * mode (the same steps as common32 in head.S, minus building anything:
 * the boot CPU's GDT and page tables are shared) and jumps into the image
 * at ap_long64, which takes a stack slot and calls rt_ap_main(slot).
 * All of it runs at CPL0, i.e. slowly on the target KVM, so it is short.
 */
#include "layout.h"

#define TRAMP(sym) (AP_TRAMPOLINE + (sym) - ap_tramp_start)

	.section .rodata.trampoline, "a"
	.balign	16
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	tramp_gdtr - ap_tramp_start
	/* PE, ET, NE; also clears CD/NW, which INIT leaves set. */
	movl	$(CR0_PE | 0x30), %eax
	movl	%eax, %cr0
	ljmpl	$KERNEL_CS32, $TRAMP(tramp32)

	.code32
tramp32:
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$CR0_PG, %eax
	movl	%eax, %cr0
	ljmpl	$KERNEL_CS, $ap_long64

	.balign	8
tramp_gdtr:
	.word	GDT_ENTRIES * 8 - 1
	.long	gdt
ap_tramp_end:

	.text
	.code64
ap_long64:
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	lidt	idt_desc(%rip)
	/* slot = ap_next++; its stack is ap_stacks[slot * AP_STACK_SIZE, +AP_STACK_SIZE). */
	movl	$1, %eax
	lock xaddl %eax, ap_next(%rip)
	cmpl	$(MAX_CPUS - 1), %eax
	jae	1f
	movl	%eax, %edi
	leal	1(%rax), %ecx
	imull	$AP_STACK_SIZE, %ecx
	leaq	ap_stacks(%rip), %rsp
	addq	%rcx, %rsp
	call	rt_ap_main
1:	cli
	hlt
	jmp	1b

	.bss
	.balign	4
	.globl ap_next
ap_next:	.long 0
