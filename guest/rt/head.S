/*
 * The entry points and the CPL0 start-up path, shared by every image.
 *
 *   startup_32  (IMAGE_BASE + 0)      32-bit Linux boot protocol entry:
 *               protected mode, paging off, %esi = boot_params.
 *   startup_64  (IMAGE_BASE + 0x200)  64-bit entry (ELF and bzImage):
 *               long mode, identity paging, %rsi = boot_params.
 *   pvh_start32 (pvh.S)               PVH entry, joins common32.
 *
 * Everything here runs at CPL0, which on the target KVM is emulated
 * thousands of times slower than CPL3, so it does only what cannot be
 * done later: zero .bss, build our page tables (4 GiB identity map, 2 MiB
 * pages, U set), load our GDT, then call rt_cpl0_setup (desc.c) for the
 * TSS and IDT and drop to CPL3 in rt_enter_user (traps.S).
 *
 * Memory from the loader is not assumed to be zero: .bss is cleared here;
 * .noinit (stacks, page tables) is written before it is read.
 */
#include "layout.h"

	.section .head, "ax"
	.code32
	.globl startup_32
startup_32:
	movl	$BOOT_PROTO_BP32, %ebp
	jmp	common32

	/* Protocol 2.15 kernel_info, at the payload offset mkbzimage puts
	 * in kernel_info_offset.  We take no setup_data types. */
	.org	KERNEL_INFO_OFFSET
	.ascii	"LToP"
	.long	16		/* size of this header */
	.long	16		/* size including variable data */
	.long	0		/* setup_type_max */

	.org	STARTUP_64_OFFSET
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	movq	%rsi, %r12
	leaq	kstack_top(%rip), %rsp

	/* Zero .bss. */
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq
	movq	%r12, boot_ptr(%rip)
	movl	$BOOT_PROTO_BP64, boot_proto(%rip)
	rdtsc
	movl	%eax, boot_tsc(%rip)
	movl	%edx, boot_tsc + 4(%rip)

	/* Page tables: clear PML4 and PDPT (contiguous), link PML4[0] ->
	 * PDPT, PDPT[0..3] -> the four PDs, fill 2048 2 MiB entries. */
	leaq	pml4(%rip), %rdi
	movl	$1024, %ecx
	xorl	%eax, %eax
	rep stosq
	leaq	pdpt + (PTE_P | PTE_W | PTE_U)(%rip), %rax
	movq	%rax, pml4(%rip)
	leaq	pdpt(%rip), %rdi
	leaq	pd + (PTE_P | PTE_W | PTE_U)(%rip), %rax
	movl	$4, %ecx
1:	movq	%rax, (%rdi)
	addq	$4096, %rax
	addq	$8, %rdi
	decl	%ecx
	jnz	1b
	leaq	pd(%rip), %rdi
	movl	$(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
	movl	$2048, %ecx
1:	movq	%rax, (%rdi)
	addq	$0x200000, %rax
	addq	$8, %rdi
	decl	%ecx
	jnz	1b
	leaq	pml4(%rip), %rax
	movq	%rax, %cr3

	/* Our GDT; reload CS through a far return, then the data segments. */
	lgdt	gdt_desc(%rip)
	pushq	$KERNEL_CS
	leaq	common64(%rip), %rax
	pushq	%rax
	lretq

	.text
	/* 32-bit entries arrive here with %esi = boot info pointer and
	 * %ebp = BOOT_PROTO_*.  Flat 4 GiB segments, paging off. */
	.code32
	.globl common32
common32:
	cli
	cld
	lgdtl	gdt_desc
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	$kstack_top, %esp

	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl
	movl	%esi, boot_ptr
	movl	%ebp, boot_proto
	rdtsc
	movl	%eax, boot_tsc
	movl	%edx, boot_tsc + 4
	xorl	%eax, %eax

	movl	$pml4, %edi
	movl	$2048, %ecx
	rep stosl
	movl	$(pdpt + (PTE_P | PTE_W | PTE_U)), pml4
	movl	$pdpt, %edi
	movl	$(pd + (PTE_P | PTE_W | PTE_U)), %eax
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	addl	$4096, %eax
	addl	$8, %edi
	decl	%ecx
	jnz	1b
	movl	$pd, %edi
	movl	$(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
	xorl	%edx, %edx
	movl	$2048, %ecx
1:	movl	%eax, (%edi)
	movl	%edx, 4(%edi)
	addl	$0x200000, %eax
	adcl	$0, %edx
	addl	$8, %edi
	decl	%ecx
	jnz	1b

	/* PAE, our CR3, EFER.LME, then paging: long mode. */
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
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmpl	$KERNEL_CS, $common64

	.code64
common64:
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	leaq	kstack_top(%rip), %rsp
	call	rt_cpl0_setup
	leaq	rt_user_start(%rip), %rdi
	leaq	ustack_top(%rip), %rsi
	jmp	rt_enter_user

	/* First CPL3 code: a call frame the C ABI likes, then C. */
	.globl rt_user_start
rt_user_start:
	andq	$-16, %rsp
	call	rt_user_main
	ud2

	.bss
	.balign	8
	.globl boot_ptr, boot_proto, boot_tsc
boot_ptr:	.quad 0
boot_tsc:	.quad 0		/* TSC just after .bss was cleared */
boot_proto:	.long 0

	.section .noinit, "aw", @nobits
	.balign	4096
	.globl pml4, pdpt, pd
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4 * 4096
	.globl kstack_top, istack_top, ustack_top, ap_stacks
	.balign	16
	.skip	KSTACK_SIZE
kstack_top:
	.skip	ISTACK_SIZE
istack_top:
	.skip	USTACK_SIZE
ustack_top:
ap_stacks:
	.skip	MAX_CPUS * AP_STACK_SIZE
