/*
 * The CPL3 side of the runtime: the first C function at CPL3, exit, the
 * service gate, delays.
 */
#include <stdint.h>

#include "cpu.h"
#include "devices/ports.h"
#include "io.h"
#include "layout.h"
#include "mem.h"
#include "rt.h"

/* Status when the boot information cannot be used at all. */
#define EXIT_BAD_BOOTINFO 97
/* QEMU's isa-debug-exit (-device isa-debug-exit,iobase=0xf4,iosize=4):
 * only reached when the VMM did not stop at its exit port, i.e. under
 * QEMU, where 0x510 is fw_cfg.  QEMU then exits with (status << 1) | 1. */
#define QEMU_DEBUG_EXIT 0xf4

uint64_t rt_syscall3(uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
	__asm__ volatile("int3" : "+a"(nr) : "D"(a), "S"(b), "d"(c) : "memory");
	return nr;
}

uint64_t rt_syscall(uint64_t nr, uint64_t arg)
{
	return rt_syscall3(nr, arg, 0, 0);
}

_Noreturn void rt_halt(void)
{
	/* int3 is not emulated at CPL0 on the target KVM, and CPL0 can halt
	 * by itself anyway. */
	if (cpu_cpl() == 0)
		cpu_halt_forever();
	for (;;)
		rt_syscall(SYS_HALT, 0);
}

_Noreturn void rt_exit(unsigned status)
{
	outb(PICOVM_PORT_EXIT, (uint8_t)status);
	outb(QEMU_DEBUG_EXIT, (uint8_t)status);
	rt_halt();
}

void delay_ticks(uint64_t ticks)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < ticks)
		cpu_pause();
}

uint64_t user_tsc;

/* Called once from head.S, at CPL3, on the user stack. */
void rt_user_main(void);
void rt_user_main(void)
{
	struct bootinfo bi;
	const char *why = "";

	user_tsc = rdtsc();
	/* One harmless port read: if CPL3 port I/O traps here, this sets
	 * rt_io_trapped and the serial code batches from now on. */
	(void)inb(PICOVM_PORT_COM1 + 5);

	if (bootinfo_parse(&bi, &why)) {
		rt_printf("picotest: unusable boot information: %s\n", why);
		rt_exit(EXIT_BAD_BOOTINFO);
	}
	rt_mem_init(&bi);
	rt_exit((unsigned)picotest_main(&bi));
}
