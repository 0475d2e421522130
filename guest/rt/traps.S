/*
 * CPL0 entry stubs: one per CPU exception (0-31); #BP (SYSCALL_VECTOR)
 * doubles as the CPL3 service gate.  Each pushes a dummy error code when the CPU does
 * not, then the vector, saves the general registers as a struct
 * trap_frame (cpu.h) and calls rt_trap(frame).  rt_trap returns only for
 * services; the frame, possibly changed, is then restored and iretq'd.
 */
#include "layout.h"

	.text
	.code64

.macro STUB vec, has_err
	.balign 16
stub_\vec:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
.endm

/* Exceptions that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP
 * #VC #SX. */
.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	STUB \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	STUB \v, 1
.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld
	movq	%rsp, %rdi
	call	rt_trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp
	iretq

/* A device interrupt (a vector irq.c routed here through SYS_IRQ_GATE):
 * count it and EOI the local APIC.  It runs at CPL0, which the target KVM
 * emulates thousands of times slower than CPL3, so it does only that; the
 * CPL3 code that waits on rt_irq_count acknowledges the device itself. */
	.globl rt_irq_stub
	.balign 16
rt_irq_stub:
	pushq	%rax
	incq	rt_irq_count(%rip)
	movq	rt_lapic_eoi(%rip), %rax
	movl	$0, (%rax)
	popq	%rax
	iretq

/* The LAPIC's spurious vector: no EOI, per the SDM. */
	.globl rt_spurious_stub
	.balign 16
rt_spurious_stub:
	iretq

/* void rt_enter_user(void (*rip)(void), void *rsp): iretq to CPL3 with
 * IOPL=3 and interrupts off.  Does not return. */
	.globl rt_enter_user
rt_enter_user:
	movl	$(USER_DS | 3), %eax
	movl	%eax, %ds
	movl	%eax, %es
	pushq	$(USER_DS | 3)
	pushq	%rsi
	pushq	$USER_RFLAGS
	pushq	$(USER_CS | 3)
	pushq	%rdi
	iretq

	.section .rodata
	.balign	8
	/* Entry points for vectors 0-31, in order (desc.c builds the IDT). */
	.globl rt_exception_stubs
rt_exception_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	stub_\v
.endr
