/*
 * exit.elf: the smallest guest, for start-up benchmarks.  PVH entry (32-bit
 * protected mode, no stack needed): picovm's boot-timer port first (so the
 * benchmark reads the time from exec to the guest's first instruction, its
 * first exit), then QEMU's isa-debug-exit at 0xf4 (QEMU ends there; picovm
 * ignores that port, and QEMU the boot-timer's), then picovm's exit port,
 * then halt for good in case nothing ended the VM.
 */
#include "devices/ports.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.text
	.code32
	.globl _start
_start:
	xorl	%eax, %eax
	movw	$PICOVM_PORT_BOOTTIME, %dx
	outb	%al, %dx
	outb	%al, $0xf4
	movw	$PICOVM_PORT_EXIT, %dx
	outb	%al, %dx
1:	hlt
	jmp	1b

	.section .note.Xen, "a", @note
	.balign	4
	.long	4		/* namesz */
	.long	4		/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.long	_start
