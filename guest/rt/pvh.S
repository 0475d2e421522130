/*
 * PVH entry (x86/HVM direct boot ABI): 32-bit protected mode, paging off,
 * flat segments, %ebx = physical address of struct hvm_start_info, no
 * stack.  Linked only into the PVH image, whose ELF note below tells the
 * loader where to enter.
 */
#include "layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.text
	.code32
	.globl pvh_start32
pvh_start32:
	movl	%ebx, %esi
	movl	$BOOT_PROTO_PVH, %ebp
	jmp	common32

	/* name "Xen", type 18, desc = 4-byte physical entry.  4-byte aligned:
	 * QEMU pads the name to the PT_NOTE alignment, so 8 would misplace
	 * the descriptor. */
	.section .note.Xen, "a", @note
	.balign	4
	.long	4		/* namesz */
	.long	4		/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.long	pvh_start32
