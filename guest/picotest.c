/*
 * The test table, the command line dispatcher, and the tests that fit in
 * a few lines.  The exact output of every test is listed in README.md.
 */
#include <stdint.h>

#include "devices/ports.h"
#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/irq.h"
#include "rt/layout.h"
#include "virtio/virtio.h"

/* How long reset waits for the VMM to act before saying it did not:
 * ~0.2 s at 2 GHz, enough for QEMU's asynchronous reset. */
#define GRACE_TICKS 400000000ULL

static int test_hello(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	unsigned cpl = cpu_cpl();

	(void)bi, (void)arg, (void)arglen;
	rt_printf("picotest: hello from cpl=%u\n", cpl);
	return cpl == 3 ? 0 : 1;
}

static int test_exit(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	uint64_t v;

	(void)bi;
	if (parse_u64(arg, arglen, &v) || v > 255) {
		rt_printf("picotest: bad exit status '%.*s'\n", (int)arglen,
			  arg);
		return EXIT_USAGE;
	}
	return (int)v;
}

static int test_reset(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	outb(PICOVM_PORT_I8042_CMD, 0xfe);
	delay_ticks(GRACE_TICKS);
	rt_puts("picotest: reset did not happen");
	return 1;
}

/* Linux's i8042 probe (drivers/input/serio/i8042.c): self test, CTR
 * read (its keylock check is the status register's bit 4), the aux loop
 * and aux interface tests, a keyboard command.  Each answer must be there at the first
 * status read after the command: the driver would otherwise wait out a
 * timeout.  Prints the status bits with each byte; '-' for no byte. */
static void i8042_answer(const char *what)
{
	uint8_t st = inb(PICOVM_PORT_I8042_CMD);

	if (st & 1)
		rt_printf(" %s=%#x/%#x", what, inb(PICOVM_PORT_I8042_DATA), st);
	else
		rt_printf(" %s=-/%#x", what, st);
}

static int test_i8042(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	rt_printf("i8042: status=%#x", inb(PICOVM_PORT_I8042_CMD));
	outb(PICOVM_PORT_I8042_CMD, 0xaa);
	i8042_answer("selftest");
	outb(PICOVM_PORT_I8042_CMD, 0x20);
	i8042_answer("ctr");
	outb(PICOVM_PORT_I8042_CMD, 0xd3);
	outb(PICOVM_PORT_I8042_DATA, 0x5a);
	i8042_answer("auxloop");
	outb(PICOVM_PORT_I8042_CMD, 0xa9);
	i8042_answer("auxtest");
	outb(PICOVM_PORT_I8042_DATA, 0xf2);	/* to the keyboard: get ID */
	i8042_answer("kbd");
	rt_printf("\n");
	return 0;
}

/* The two windows of virtio device 0 (virtio/mmio.h): the DSDT's is
 * read first, so it takes the device; the command line's then reads as
 * an empty slot and ignores writes. */
static int test_windows(const struct bootinfo *bi, const char *arg,
			size_t arglen)
{
	const uint64_t cl = 0xd0000000, acpi = 0xd0010000;

	(void)bi, (void)arg, (void)arglen;
	rt_printf("windows: before=%#x/%u %#x/%u", mmio_read32(cl),
		  mmio_read32(cl + 4), mmio_read32(acpi), mmio_read32(acpi + 4));
	rt_printf(" acpi-id=%u", mmio_read32(acpi + 8));
	rt_printf(" cmdline=%#x/%u/%u/%#x", mmio_read32(cl), mmio_read32(cl + 4),
		  mmio_read32(cl + 8), mmio_read32(cl + 0x10));
	mmio_write32(cl + 0x70, 1);	/* Status: ACKNOWLEDGE */
	rt_printf(" ignored=%u", mmio_read32(acpi + 0x70));
	mmio_write32(acpi + 0x70, 1);
	rt_printf(" acpi-status=%u cmdline-status=%u\n", mmio_read32(acpi + 0x70),
		  mmio_read32(cl + 0x70));
	return 0;
}

static int test_triple(const struct bootinfo *bi, const char *arg,
		       size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	rt_syscall(SYS_TRIPLE, 0);
	rt_puts("picotest: triple fault did not happen");
	return 1;
}

static int test_spin(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	rt_puts("picotest: spinning");
	for (;;)
		barrier();
	return 0;	/* not reached */
}

/* count: writes the boot-timer port, then counts at CPL3 forever, printing `count: N` every COUNT_STEP
 * loop turns (what a pause must stop), and between two lines looks at the
 * ACPI PM1 status: once the power button is pressed it prints `count:
 * power button` and powers off the way Linux does, \_S5 (SLP_TYP 5 |
 * SLP_EN) written to PM1a_CNT. */
#define COUNT_STEP 20000000ULL
#define PM1_PWRBTN 0x0100
#define PM1_S5_SLP_EN ((5u << 10) | 0x2000u)

/* Once the PM1 status shows the power button: says so and powers off as
 * Linux does; 1 (the VM ran on after S5), or 0 while it is not pressed. */
static int on_power_button(const char *who)
{
	uint16_t sts = inw(PICOVM_PORT_PM1A_EVT);

	if (sts == 0xffff || !(sts & PM1_PWRBTN))
		return 0;
	rt_printf("%s: power button\n", who);
	outw(PICOVM_PORT_PM1A_CNT, (uint16_t)PM1_S5_SLP_EN);
	rt_printf("%s: still running after S5\n", who);
	return 1;
}

static int test_count(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	outb(PICOVM_PORT_BOOTTIME, 0);	/* "user space reached" */
	for (unsigned long long n = 0;; n++) {
		for (uint64_t i = 0; i < COUNT_STEP; i++)
			barrier();
		rt_printf("count: %llu\n", n);
		if (on_power_button("count"))
			return 1;
	}
	return 0;	/* not reached */
}

/* idle: writes the boot-timer port, then sleeps (hlt, no host CPU) until
 * the power button's SCI (PWRBTN_EN set, IRQ 9 routed to it) and powers
 * off as `count` does: the tiny VMs of bench/fleet.sh. */
#define IDLE_VECTOR 0x50
#define SCI_GSI 9

static int test_idle(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	outb(PICOVM_PORT_BOOTTIME, 0);
	if (irq_init(IDLE_VECTOR) || ioapic_route(SCI_GSI, IDLE_VECTOR)) {
		rt_puts("idle: cannot route the SCI");
		return 1;
	}
	outw(PICOVM_PORT_PM1A_EVT + 2, PM1_PWRBTN);	/* PM1a enable */
	rt_puts("idle: waiting for the power button");
	while (!on_power_button("idle"))
		rt_syscall(SYS_WAIT_IRQ, 0);
	return 1;
}

/* snapboot:0|1: what bench/restore.sh restores, the guest side of a restore
 * as short as it gets.  Routes the SCI as idle does, then writes the
 * snapshot port and, right after it (in the restored VM: the first thing
 * it does), the boot-timer port; then exits with status 0 (snapboot:0) or
 * sleeps until the power button (snapboot:1, a clone that costs no CPU).
 * Prints nothing: a restore's figure is not about the UART. */
static int test_snapboot(const struct bootinfo *bi, const char *arg,
			 size_t arglen)
{
	uint64_t idle;

	(void)bi;
	if (parse_args(arg, arglen, &idle, 1) || idle > 1)
		return EXIT_USAGE;
	if (irq_init(IDLE_VECTOR) || ioapic_route(SCI_GSI, IDLE_VECTOR))
		return 1;
	outw(PICOVM_PORT_PM1A_EVT + 2, PM1_PWRBTN);
	outb(PICOVM_PORT_SNAPSHOT, 1);
	outb(PICOVM_PORT_BOOTTIME, 0);
	if (!idle)
		return 0;
	while (!on_power_button("snapboot"))
		rt_syscall(SYS_WAIT_IRQ, 0);
	return 1;
}

/* snapcount: writes the snapshot port, then runs `count` (a snapshot that
 * goes on running: the control socket and snapshots in one VM). */
static int test_snapcount(const struct bootinfo *bi, const char *arg,
			  size_t arglen)
{
	rt_puts("snapcount: snapshot");
	outb(PICOVM_PORT_SNAPSHOT, 1);
	rt_puts("snapcount: after the snapshot");
	return test_count(bi, arg, arglen);
}

static int test_boottime(const struct bootinfo *bi, const char *arg,
			 size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	outb(PICOVM_PORT_BOOTTIME, 0);
	outb(PICOVM_PORT_BOOTTIME, 0);
	rt_puts("boottime: written");
	return 0;
}

/* panic[:BITS]: reads the pvpanic port (the events picovm supports), then
 * writes BITS (default 1, PANICKED) to it, twice, as a guest whose kernel
 * panicked would.  PANICKED never returns here; other bits do. */
static int test_panic(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	uint64_t v = 1;

	(void)bi;
	if (arg && (parse_u64(arg, arglen, &v) || v > 255)) {
		rt_printf("picotest: bad pvpanic bits '%.*s'\n", (int)arglen,
			  arg);
		return EXIT_USAGE;
	}
	rt_printf("pvpanic: events=0x%x\n", inb(PICOVM_PORT_PVPANIC));
	outb(PICOVM_PORT_PVPANIC, (uint8_t)v);
	outb(PICOVM_PORT_PVPANIC, (uint8_t)v);
	rt_puts("pvpanic: written");
	return 0;
}

/* What CPL0 costs here, in TSC ticks: the start-up from the entry to the
 * first CPL3 C code, then each of a service round trip, a CPL3 inb of LSR
 * (trapped or native), an MMIO read of the LAPIC id register from CPL3. */
static int test_cost(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	enum { N = 1000 };
	uint64_t t0, t1, t2, t3;

	(void)bi, (void)arg, (void)arglen;
	t0 = rdtsc();
	for (int i = 0; i < N; i++)
		rt_syscall(SYS_NOP, 0);
	t1 = rdtsc();
	for (int i = 0; i < N; i++)
		(void)inb(PICOVM_PORT_COM1 + 5);
	t2 = rdtsc();
	for (int i = 0; i < N; i++)
		(void)mmio_read32(0xfee00020);
	t3 = rdtsc();
	rt_printf("cost: setup=%llu service=%llu inb=%llu mmio=%llu "
		  "io-trapped=%s\n",
		  (unsigned long long)(user_tsc - boot_tsc),
		  (unsigned long long)(t1 - t0) / N,
		  (unsigned long long)(t2 - t1) / N,
		  (unsigned long long)(t3 - t2) / N,
		  rt_io_trapped ? "yes" : "no");
	return 0;
}

enum takes { NO_ARG, ARG };

static const struct {
	const char *name;
	enum takes takes;
	test_fn *run;
} tests[] = {
	{ "hello", NO_ARG, test_hello },
	{ "exit", ARG, test_exit },
	{ "panic", NO_ARG, test_panic },
	{ "panic", ARG, test_panic },
	{ "info", NO_ARG, test_info },
	{ "smp", NO_ARG, test_smp },
	{ "snap", ARG, test_snap },
	{ "snapblk", ARG, test_snap_blk },
	{ "vmgen", NO_ARG, test_vmgen },
	{ "snapio", ARG, test_snap_io },
	{ "snaptimer", NO_ARG, test_snap_timer },
	{ "echo", NO_ARG, test_echo },
	{ "echo", ARG, test_echo },
	{ "reset", NO_ARG, test_reset },
	{ "i8042", NO_ARG, test_i8042 },
	{ "windows", NO_ARG, test_windows },
	{ "triple", NO_ARG, test_triple },
	{ "spin", NO_ARG, test_spin },
	{ "flood", ARG, test_flood },
	{ "print", ARG, test_print },
	{ "boottime", NO_ARG, test_boottime },
	{ "count", NO_ARG, test_count },
	{ "idle", NO_ARG, test_idle },
	{ "snapcount", NO_ARG, test_snapcount },
	{ "snapboot", ARG, test_snapboot },
	{ "uart", NO_ARG, test_uart },
	{ "serial-irq", NO_ARG, test_serial_irq },
	{ "pit", NO_ARG, test_pit },
	{ "snappit", NO_ARG, test_snap_pit },
	{ "cost", NO_ARG, test_cost },
	{ "blk-info", NO_ARG, test_blk_info },
	{ "blk-read", ARG, test_blk_read },
	{ "blk-write", ARG, test_blk_write },
	{ "blk-write-noflush", ARG, test_blk_write_noflush },
	{ "blk-durable", ARG, test_blk_durable },
	{ "blk-rw-verify", ARG, test_blk_rw_verify },
	{ "blk-discard", ARG, test_blk_discard },
	{ "blk-zeroes", ARG, test_blk_zeroes },
	{ "blk-ro-write", NO_ARG, test_blk_ro_write },
	{ "blk-oob", NO_ARG, test_blk_oob },
	{ "blk-irq", NO_ARG, test_blk_irq },
	{ "blk-bench", ARG, test_blk_bench },
	{ "blk-huge", ARG, test_blk_huge },
	{ "blk-fair", ARG, test_blk_fair },
	{ "blk-flood", ARG, test_blk_flood },
	{ "hostile-all", NO_ARG, test_hostile_all },
	{ "vcon-hello", NO_ARG, test_vcon_hello },
	{ "vcon-echo", NO_ARG, test_vcon_echo },
	{ "vcon-flood", ARG, test_vcon_flood },
	{ "net-info", NO_ARG, test_net_info },
	{ "net-responder", ARG, test_net_responder },
	{ "net-echo", NO_ARG, test_net_echo },
	{ "net-echo", ARG, test_net_echo },
	{ "net-tx-hostile", NO_ARG, test_net_tx_hostile },
	{ "net-rx-small", NO_ARG, test_net_rx_small },
	{ "net-rx-small", ARG, test_net_rx_small },
	{ "net-starve", NO_ARG, test_net_starve },
	{ "net-starve", ARG, test_net_starve },
	{ "net-reset", NO_ARG, test_net_reset },
	{ "net-bench", ARG, test_net_bench },
	{ "net-kickbatch", NO_ARG, test_net_kickbatch },
	{ "net-trickle", NO_ARG, test_net_trickle },
	{ "net-offload-loop", ARG, test_net_offload_loop },
	{ "net-link-watch", NO_ARG, test_net_link_watch },
	{ "net-tso", NO_ARG, test_net_tso },
	{ "net-tso", ARG, test_net_tso },
	{ "gdb", NO_ARG, test_gdb },
	{ "gdb-smp", NO_ARG, test_gdb_smp },
	{ "com2", NO_ARG, test_com2 },
	{ "com2", ARG, test_com2 },
};

int parse_args(const char *arg, size_t arglen, uint64_t *out, unsigned n)
{
	size_t i = 0;

	for (unsigned k = 0; k < n; k++) {
		size_t j = i;

		while (j < arglen && arg[j] != ':')
			j++;
		if (parse_u64(arg + i, j - i, &out[k]) ||
		    (k + 1 < n ? j >= arglen : j != arglen)) {
			rt_printf("picotest: bad arguments '%.*s'\n", (int)arglen,
				  arg);
			return -1;
		}
		i = j + 1;
	}
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The value of the first word "picotest=VALUE"; *len = 0 when absent. */
static const char *find_value(const char *cl, size_t n, size_t *len)
{
	static const char key[] = "picotest=";
	const size_t klen = sizeof(key) - 1;

	for (size_t i = 0; i + klen <= n; i++) {
		size_t j;

		if ((i > 0 && !is_space(cl[i - 1])) ||
		    memcmp(cl + i, key, klen))
			continue;
		for (j = i + klen; j < n && !is_space(cl[j]); j++)
			;
		*len = j - i - klen;
		return cl + i + klen;
	}
	*len = 0;
	return "";
}

int picotest_main(const struct bootinfo *bi)
{
	size_t vlen, nlen;
	const char *v = find_value(bi->cmdline, bi->cmdline_len, &vlen);
	const char *arg = NULL;
	size_t arglen = 0;

	size_t pos = 0, plen;
	if (cmdline_find(bi, "picotest.patient", &pos, &plen))
		virtio_wait_long = VIRTIO_WAIT_UNBOUNDED;
	for (nlen = 0; nlen < vlen && v[nlen] != ':'; nlen++)
		;
	if (nlen < vlen) {
		arg = v + nlen + 1;
		arglen = vlen - nlen - 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		if (strlen(tests[i].name) != nlen ||
		    memcmp(tests[i].name, v, nlen) ||
		    (tests[i].takes == ARG) != (arg != NULL))
			continue;
		return tests[i].run(bi, arg, arglen);
	}
	if (!arg) {
		int r = test_hostile_named(bi, v, nlen);

		if (r >= 0)
			return r;
	}
	rt_printf("picotest: unknown test '%.*s'\n", (int)vlen, v);
	return EXIT_USAGE;
}
