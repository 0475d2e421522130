/*
 * rt_trap(): where every IDT entry lands (CPL0).
 *
 *  - #BP from CPL3 is a service call (layout.h SYS_*): dispatched on
 *    frame->rax through the table below; add a service with a SYS_ number
 *    and a row.  Arguments are in rdi, rsi, rdx; the result goes to rax.
 *  - #GP(0) from CPL3 on an in/out is emulated (ioemu.c).
 *  - Anything else is fatal: print what happened, exit EXIT_EXCEPTION.
 */
#include <stdint.h>

#include "cpu.h"
#include "layout.h"
#include "rt.h"

#define MAPPED_LIMIT (4ULL << 30)
#define RFLAGS_IF 0x200

static void sys_halt(struct trap_frame *f)
{
	(void)f;
	cpu_halt_forever();
}

/* An empty IDT turns the next exception into #DF, which cannot be
 * delivered either: a triple fault, i.e. a shutdown.  The exception is a
 * #GP from a non-canonical load rather than int3, because the CPL0
 * emulator on the target KVM does not implement int3 (see
 * shared/notes/kvm-here.md). */
static void sys_triple(struct trap_frame *f)
{
	static const struct desc_ptr empty = { 0, 0 };

	(void)f;
	lidt(&empty);
	__asm__ volatile("movabsq $0x8000000000000000, %%rax\n\t"
			 "movq (%%rax), %%rax" : : : "rax", "memory");
	cpu_halt_forever();
}

static void sys_nop(struct trap_frame *f)
{
	f->rax = f->rdi + 1;
}

static int user_buf(uint64_t addr, uint64_t len)
{
	return addr <= MAPPED_LIMIT && len <= MAPPED_LIMIT - addr;
}

static void sys_serial_write(struct trap_frame *f)
{
	if (!user_buf(f->rdi, f->rsi)) {
		f->rax = (uint64_t)-1;
		return;
	}
	serial_write((const void *)f->rdi, (size_t)f->rsi);
	f->rax = f->rsi;
}

static void sys_serial_read(struct trap_frame *f)
{
	if (!user_buf(f->rdi, f->rsi)) {
		f->rax = (uint64_t)-1;
		return;
	}
	f->rax = serial_read((char *)f->rdi, (size_t)f->rsi, (int)f->rdx);
}

static void sys_outsb(struct trap_frame *f)
{
	uint64_t buf = f->rsi, n = f->rdx;

	if (!user_buf(buf, n)) {
		f->rax = (uint64_t)-1;
		return;
	}
	__asm__ volatile("rep outsb"
			 : "+S"(buf), "+c"(n) : "d"((uint16_t)f->rdi) : "memory");
	f->rax = f->rdx;
}

extern const char rt_irq_stub[], rt_spurious_stub[];

/* (vector, kind): installs the gate irq.c asked for.  Only vectors 32-255,
 * so the exception gates (and the service gate) stay as they are. */
static void sys_irq_gate(struct trap_frame *f)
{
	if (f->rdi < 32 || f->rdi > 255 || f->rsi > IRQ_GATE_SPURIOUS) {
		f->rax = (uint64_t)-1;
		return;
	}
	rt_set_gate((unsigned)f->rdi, f->rsi == IRQ_GATE_COUNT
					  ? (uint64_t)rt_irq_stub
					  : (uint64_t)rt_spurious_stub);
	f->rax = 0;
}

/* (on): sets or clears IF in the flags iretq restores, because sti/cli
 * at CPL3 raise #GP here whatever IOPL says. */
static void sys_set_if(struct trap_frame *f)
{
	if (f->rdi)
		f->rflags |= RFLAGS_IF;
	else
		f->rflags &= ~(uint64_t)RFLAGS_IF;
	f->rax = 0;
}

/* Sleeps until an interrupt (one already pending ends it at once: the
 * caller runs with IF clear, so it waits in the LAPIC until the sti);
 * the host spends no CPU meanwhile. */
static void sys_wait_irq(struct trap_frame *f)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
	f->rax = 0;
}

/* (tsc): arms the local APIC timer in TSC-deadline mode (0 disarms).
 * Only this MSR: the callers need no other. */
static void sys_tsc_deadline(struct trap_frame *f)
{
	__asm__ volatile("wrmsr" : : "c"(0x6e0u), "a"((uint32_t)f->rdi),
			 "d"((uint32_t)(f->rdi >> 32)) : "memory");
	f->rax = 0;
}

static void (*const services[SYS_COUNT])(struct trap_frame *) = {
	[SYS_HALT] = sys_halt,
	[SYS_TRIPLE] = sys_triple,
	[SYS_NOP] = sys_nop,
	[SYS_SERIAL_WRITE] = sys_serial_write,
	[SYS_SERIAL_READ] = sys_serial_read,
	[SYS_OUTSB] = sys_outsb,
	[SYS_IRQ_GATE] = sys_irq_gate,
	[SYS_SET_IF] = sys_set_if,
	[SYS_WAIT_IRQ] = sys_wait_irq,
	[SYS_TSC_DEADLINE] = sys_tsc_deadline,
};

void rt_trap(struct trap_frame *f);
void rt_trap(struct trap_frame *f)
{
	if (f->vector == SYSCALL_VECTOR && (f->cs & 3) == 3) {
		if (f->rax < SYS_COUNT && services[f->rax]) {
			services[f->rax](f);
			return;
		}
		f->rax = (uint64_t)-1;
		return;
	}
	if (f->vector == 13 && (f->cs & 3) == 3 && f->error == 0 &&
	    rt_emulate_io(f))
		return;
	rt_printf("\npicotest: exception %llu err=%#llx rip=%#llx cs=%#llx "
		  "rsp=%#llx cr2=%#llx\n",
		  (unsigned long long)f->vector, (unsigned long long)f->error,
		  (unsigned long long)f->rip, (unsigned long long)f->cs,
		  (unsigned long long)f->rsp, (unsigned long long)read_cr2());
	rt_exit(EXIT_EXCEPTION);
}
