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

/* com2: the second UART (serial.1, for kgdb), polled: prints "com2:
 * absent" and exits 3 when nothing answers at 0x2f8; otherwise reads one
 * line from it, answers "com2: got LINE" on it, prints the same on COM1
 * and exits 0.  com2:send writes "com2: hello" to it and exits 0. */
#define COM2 0x2f8
#define LSR_DR 0x01
#define LSR_THRE 0x20

static void com2_write(const char *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		while (!(inb(COM2 + 5) & LSR_THRE))
			cpu_pause();
		outb(COM2, (uint8_t)s[i]);
	}
}

int test_com2(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	char line[64], out[96];
	unsigned n = 0;

	(void)bi;
	if (inb(COM2 + 5) == 0xff) {
		rt_puts("com2: absent");
		return 3;
	}
	if (arg && (arglen != 4 || memcmp(arg, "send", 4)))
		return EXIT_USAGE;
	if (arg) {
		com2_write("com2: hello\n", 12);
		return 0;
	}
	rt_puts("com2: waiting");
	for (;;) {
		while (!(inb(COM2 + 5) & LSR_DR))
			cpu_pause();
		char c = (char)inb(COM2);
		if (c == '\n' || n == sizeof(line) - 1)
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	unsigned len = (unsigned)rt_snprintf(out, sizeof(out), "com2: got %s\n", line);
	com2_write(out, len < sizeof(out) ? len : sizeof(out) - 1);
	rt_printf("%s", out);
	return 0;
}
