/*
 * picovm-exit [STATUS]  and  picovm-boottime: the guest side of picovm's
 * two ports, for the default Linux guest (guest/linux/).
 *
 *   picovm-exit N     syncs the file systems, remounts / read-only (so an
 *                     ext4 root is left clean), then writes the byte N
 *                     (0..255, default 0) to the exit port 0x510: `picovm
 *                     run` ends with exit status N.  One program for all
 *                     of it: each process costs a lot where the guest
 *                     kernel is emulated.
 *   picovm-boottime   writes to the boot-timer port 0x511: picovm logs
 *                     "boot-timer: X ms since picovm started" (first write).
 *   picovm-pwrbtn     waits for the ACPI power button (`picovm ctl NAME
 *                     stop`): reads the PM1a status register (port 0x600)
 *                     once a second, and once PWRBTN_STS is set clears it
 *                     and exits 0 (/init then powers off cleanly).  This
 *                     kernel has no ACPI button driver (no CONFIG_INPUT).
 *   picovm-snapshot   writes the snapshot port 0x512: picovm snapshots the
 *                     VM (snapshot.path).  The write returns in the restored
 *                     VM, or in one that runs on: the port's restore count,
 *                     read before and after, tells which.  Restored, the
 *                     guest's wall clock is the snapshot's, so this sets it
 *                     from picovm's CMOS RTC (the host's time, to the
 *                     second; this kernel has no RTC driver), then waits
 *                     (at most ~30 s) until the kernel reports that it
 *                     reseeded its random generator for the new VM
 *                     generation ID (a kernel worker does it moments after
 *                     the restore), so that what runs next reads random
 *                     bytes no other clone reads.  That wait is skipped
 *                     when the generator was not ready at the snapshot (it
 *                     then never reports a reseed).  Exits 0, or 1 when a
 *                     port write, the clock or the reseed failed.
 *   picovm-snapshot boottime
 *                     the same, but right after the snapshot port write
 *                     returns (before the clock and the reseed) it writes
 *                     the boot-timer port, in the same process: a
 *                     restored picovm logs the time from its exec to the
 *                     guest running, without the guest's fork costs.
 *
 * The byte goes through /dev/port (the kernel performs the OUT at CPL0);
 * when /dev/port is missing, through ioperm() + outb from user mode.  Both
 * work on a normal KVM host; on the nested KVM of this project's build
 * machines only the first does: there, port I/O from guest user mode raises
 * #GP even when the I/O bitmap allows it (README, "This machine's KVM").
 * Either way, a return means the port write did not stop the VM (not
 * picovm, or the write failed): the helper then exits 1 and the caller
 * falls back to `reboot -f` / `poweroff -f`.
 *
 * Freestanding (no libc), built with the host gcc:
 *   gcc -static -Os -nostdlib -ffreestanding -DPICOVM_EXIT -o picovm-exit picovm-io.c
 */
#if defined(PICOVM_EXIT) + defined(PICOVM_BOOTTIME) + defined(PICOVM_PWRBTN) + \
	defined(PICOVM_SNAPSHOT) != 1
#error "define exactly one of PICOVM_EXIT, PICOVM_BOOTTIME, PICOVM_PWRBTN, PICOVM_SNAPSHOT"
#endif

#define SYS_read 0
#define SYS_write 1
#define SYS_nanosleep 35
#define O_RDWR 2
#define PM1A_EVT_PORT 0x600
#define PM1_PWRBTN_HI 0x01	/* PWRBTN_STS: bit 8, the status' 2nd byte */
#define SYS_open 2
#define SYS_lseek 8
#define SYS_ioperm 173
#define SYS_sync 162
#define SYS_mount 165
#define MS_RDONLY 1
#define MS_REMOUNT 32
#define SYS_exit 60
#define O_WRONLY 1
#define SEEK_SET 0
#define EXIT_PORT 0x510
#define BOOTTIME_PORT 0x511
#define SNAPSHOT_PORT 0x512
#define RTC_INDEX 0x70		/* CMOS: index, then data at 0x71 */
#define SYS_clock_settime 227
#define SYS_getrandom 318
#define GRND_NONBLOCK 1
#define O_NONBLOCK 04000
#define O_RDONLY 0
#define SEEK_END 2
#define EPIPE 32
#define EAGAIN 11

typedef unsigned long ulong;

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static ulong len(const char *s)
{
	ulong n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	sys3(SYS_write, 2, (long)s, (long)len(s));
}

__attribute__((unused)) static int port_write(unsigned port, unsigned char v)
{
	long fd = sys3(SYS_open, (long)"/dev/port", O_WRONLY, 0);
	if (fd >= 0) {
		if (sys3(SYS_lseek, fd, port, SEEK_SET) == (long)port &&
		    sys3(SYS_write, fd, (long)&v, 1) == 1)
			return 0;
		say("picovm: write to /dev/port failed; trying ioperm\n");
	}
	if (sys3(SYS_ioperm, port, 1, 1) != 0) {
		say("picovm: no /dev/port and ioperm() failed\n");
		return -1;
	}
	/* May raise #GP (SIGSEGV) where the hypervisor forbids user port I/O. */
	__asm__ volatile("outb %0, %w1" : : "a"(v), "Nd"((unsigned short)port));
	return 0;
}

#if defined(PICOVM_PWRBTN) || defined(PICOVM_SNAPSHOT)
/* Reads (write = 0) or writes one byte of port through fd (/dev/port). */
static int port_rw(long fd, unsigned port, unsigned char *v, int write)
{
	return sys3(SYS_lseek, fd, port, SEEK_SET) == (long)port &&
	       sys3(write ? SYS_write : SYS_read, fd, (long)v, 1) == 1 ? 0 : -1;
}
#endif

#ifdef PICOVM_SNAPSHOT
/* CMOS register reg, BCD decoded unless bcd is 0; -1 when unreadable. */
static int cmos(long fd, unsigned char reg, int bcd)
{
	unsigned char v = reg;

	if (port_rw(fd, RTC_INDEX, &v, 1) < 0 || port_rw(fd, RTC_INDEX + 1, &v, 0) < 0)
		return -1;
	return bcd ? (v >> 4) * 10 + (v & 15) : v;
}

/* Seconds since the epoch from the CMOS clock (UTC, 24-hour, as picovm
 * keeps it); -1 when it reads as no clock at all. */
static long rtc_time(long fd)
{
	int f[7], sec, b = cmos(fd, 0x0b, 0);
	static const unsigned char reg[7] = { 0x00, 0x02, 0x04, 0x07, 0x08,
					      0x09, 0x32 };

	if (b < 0 || b == 0xff)
		return -1;
	/* Again when the seconds moved on while the fields were read. */
	for (int tries = 0; tries < 5; tries++) {
		for (int i = 0; i < 7; i++)
			f[i] = cmos(fd, reg[i], !(b & 4));
		sec = cmos(fd, 0x00, !(b & 4));
		if (sec == f[0])
			break;
	}
	long y = f[6] * 100 + f[5], m = f[4], d = f[3];
	if (f[0] > 59 || f[1] > 59 || f[2] > 23 || m < 1 || m > 12 || d < 1 ||
	    d > 31 || y < 1970)
		return -1;
	/* Days from the civil date (Howard Hinnant's algorithm). */
	y -= m <= 2;
	long era = y / 400, yoe = y - era * 400;
	long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long days = era * 146097 + doe - 719468;
	return days * 86400 + f[2] * 3600 + f[1] * 60 + f[0];
}

/* Whether the n bytes at s hold the string w. */
static int holds(const char *s, long n, const char *w)
{
	long wl = (long)len(w);

	for (long i = 0; i + wl <= n; i++) {
		long k = 0;
		while (k < wl && s[i + k] == w[k])
			k++;
		if (k == wl)
			return 1;
	}
	return 0;
}

/* Reads kernel log records from kfd (/dev/kmsg, non-blocking, positioned
 * before the snapshot) until the reseed for a new VM generation ID shows
 * (drivers/char/random.c, add_vmfork_randomness); 0, or -1 after ~30 s. */
static int wait_reseed(long kfd)
{
	static char rec[8192];
	struct { long sec, nsec; } tick = { 0, 50000000 };

	for (int sleeps = 0; sleeps < 600;) {
		long n = sys3(SYS_read, kfd, (long)rec, sizeof(rec));
		if (n > 0 && holds(rec, n, "crng reseeded due to virtual machine fork"))
			return 0;
		if (n == -EAGAIN) {
			sys3(SYS_nanosleep, (long)&tick, 0, 0);
			sleeps++;
		} else if (n <= 0 && n != -EPIPE) {	/* EPIPE: records lost */
			return -1;
		}
	}
	return -1;
}

static int snapshot(int boottime)
{
	long fd = sys3(SYS_open, (long)"/dev/port", O_RDWR, 0);
	long kfd = sys3(SYS_open, (long)"/dev/kmsg", O_RDONLY | O_NONBLOCK, 0);
	unsigned char before, after, one = 1, b;
	/* Only a ready generator is reseeded (and says so). */
	int ready = sys3(SYS_getrandom, (long)&b, 1, GRND_NONBLOCK) == 1;

	if (kfd >= 0)
		sys3(SYS_lseek, kfd, 0, SEEK_END);
	if (fd < 0 || port_rw(fd, SNAPSHOT_PORT, &before, 0) < 0 ||
	    port_rw(fd, SNAPSHOT_PORT, &one, 1) < 0 ||
	    port_rw(fd, SNAPSHOT_PORT, &after, 0) < 0) {
		say("picovm-snapshot: cannot use port 0x512 through /dev/port\n");
		return 1;
	}
	if (boottime && port_rw(fd, BOOTTIME_PORT, &one, 1) < 0) {
		say("picovm-snapshot: cannot write the boot-timer port\n");
		return 1;
	}
	if (after == before)	/* ran on: the clock never stopped */
		return 0;
	/* Restored: the clock picovm keeps is the host's. */
	struct { long sec, nsec; } ts = { rtc_time(fd), 0 };
	if (ts.sec < 0 || sys3(SYS_clock_settime, 0, (long)&ts, 0) != 0) {
		say("picovm-snapshot: cannot set the clock from the CMOS RTC\n");
		return 1;
	}
	if (ready && (kfd < 0 || wait_reseed(kfd) < 0)) {
		say("picovm-snapshot: the kernel did not report reseeding its "
		    "random generator (vmgenid)\n");
		return 1;
	}
	return 0;
}
#endif

#ifdef PICOVM_PWRBTN

static void wait_button(void)
{
	long fd = sys3(SYS_open, (long)"/dev/port", O_RDWR, 0);
	struct { long sec, nsec; } second = { 1, 0 };
	unsigned char hi;

	if (fd < 0) {
		say("picovm-pwrbtn: no /dev/port\n");
		sys3(SYS_exit, 1, 0, 0);
	}
	for (;;) {
		if (port_rw(fd, PM1A_EVT_PORT + 1, &hi, 0) < 0) {
			say("picovm-pwrbtn: cannot read the PM1 status\n");
			sys3(SYS_exit, 1, 0, 0);
		}
		if (hi != 0xff && (hi & PM1_PWRBTN_HI)) {
			hi = PM1_PWRBTN_HI;	/* write 1 to clear */
			port_rw(fd, PM1A_EVT_PORT + 1, &hi, 1);
			sys3(SYS_exit, 0, 0, 0);
		}
		sys3(SYS_nanosleep, (long)&second, 0, 0);
	}
}
#endif

__attribute__((used)) static void start_c(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	int rc;
#ifdef PICOVM_EXIT
	unsigned v = 0;
	if (argc > 1) {
		const char *s = argv[1];
		if (!*s)
			goto usage;
		for (; *s; s++) {
			if (*s < '0' || *s > '9' || v > 255)
				goto usage;
			v = v * 10 + (unsigned)(*s - '0');
		}
		if (v > 255)
			goto usage;
	}
	if (argc > 2)
		goto usage;
	sys3(SYS_sync, 0, 0, 0);
	/* Fails (EBUSY) while a file is open for writing: fine, synced. */
	{
		register long r10 __asm__("r10") = MS_REMOUNT | MS_RDONLY;
		register long r8 __asm__("r8") = 0;
		long r;
		__asm__ volatile("syscall" : "=a"(r)
				 : "a"(SYS_mount), "D"((long)"none"), "S"((long)"/"),
				   "d"(0L), "r"(r10), "r"(r8)
				 : "rcx", "r11", "memory");
		(void)r;
	}
	rc = port_write(EXIT_PORT, (unsigned char)v);
	if (rc == 0)	/* still running: nobody listened on the port */
		say("picovm-exit: the exit port did not stop the VM\n");
	sys3(SYS_exit, 1, 0, 0);
usage:
	say("usage: picovm-exit [STATUS]   (STATUS 0..255, default 0)\n");
	sys3(SYS_exit, 2, 0, 0);
#elif defined(PICOVM_BOOTTIME)
	(void)argc;
	(void)argv;
	rc = port_write(BOOTTIME_PORT, 1);
	sys3(SYS_exit, rc == 0 ? 0 : 1, 0, 0);
#elif defined(PICOVM_SNAPSHOT)
	if (argc > 1) {
		const char *a = argv[1], *want = "boottime";
		ulong i = 0;
		while (a[i] && a[i] == want[i])
			i++;
		if (argc > 2 || a[i] || want[i]) {
			say("usage: picovm-snapshot [boottime]\n");
			sys3(SYS_exit, 2, 0, 0);
		}
	}
	rc = snapshot(argc > 1);
	sys3(SYS_exit, rc, 0, 0);
#else
	(void)argc;
	(void)argv;
	(void)rc;
	wait_button();
#endif
	for (;;)
		;
}

__asm__(".globl _start\n"
	"_start:\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
