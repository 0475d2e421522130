/* How a vCPU enters the kernel (boot_place() fills it, vcpu/regs.c sets
 * the registers from it): kept apart from boot.h so that the vCPU code
 * does not depend on the configuration. */
#ifndef PICOVM_BOOT_ENTRY_H
#define PICOVM_BOOT_ENTRY_H

#include <stdint.h>

enum boot_mode {
	BOOT_MODE_LONG64,	/* 64-bit boot protocol, RSI = boot_params */
	BOOT_MODE_PVH32,	/* PVH: 32-bit protected mode, EBX = start_info */
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip, rsi, rbx, rsp;
};

#endif
