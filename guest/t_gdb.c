/*
 * gdb and gdb-smp: the debugger's targets (tests/t-gdb.sh drives gdb
 * against them; the symbols below are what it names).
 *
 * gdb: calls gdb_mark(i) for i = 0..GDB_ROUNDS-1 at CPL3, each followed
 * by one of the runtime's system calls (an int3 of the guest's own, which
 * the stub must hand back while its own breakpoints are set), then prints
 *     gdb: counter=N status=S
 * and exits with gdb_status (7 unless the debugger wrote it).
 *
 * gdb-smp: starts every AP (they halt at CPL0), prints
 *     gdb-smp: up=N
 * and spins at CPL3 until the debugger sets gdb_release, then prints
 *     gdb-smp: released
 * and exits with gdb_status.
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/layout.h"
#include "rt/smp.h"

#define GDB_ROUNDS 5
#define WAIT_TICKS 3000000000ULL

/* Globals the debugger reads, writes and watches. */
volatile uint64_t gdb_counter;
volatile uint32_t gdb_status = 7;
volatile uint32_t gdb_release;

void gdb_mark(unsigned i);
__attribute__((noinline)) void gdb_mark(unsigned i)
{
	gdb_counter = gdb_counter + i + 1;
	barrier();
}

int test_gdb(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	rt_puts("gdb: start");
	for (unsigned i = 0; i < GDB_ROUNDS; i++) {
		gdb_mark(i);
		(void)rt_syscall(SYS_NOP, i);
	}
	rt_printf("gdb: counter=%llu status=%u\n",
		  (unsigned long long)gdb_counter, gdb_status);
	return (int)(gdb_status & 0xff);
}

int test_gdb_smp(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	struct mp_info mi;
	const char *why = "";

	(void)bi, (void)arg, (void)arglen;
	if (mptable_find(&mi, &why)) {
		rt_printf("gdb-smp: %s\n", why);
		return 1;
	}
	unsigned sent = smp_start_aps(&mi);
	uint64_t start = rdtsc();
	while (smp_ap_count() < sent && rdtsc() - start < WAIT_TICKS)
		cpu_pause();
	rt_printf("gdb-smp: up=%u\n", 1 + smp_ap_count());
	while (!gdb_release)
		cpu_pause();
	rt_puts("gdb-smp: released");
	return (int)(gdb_status & 0xff);
}
