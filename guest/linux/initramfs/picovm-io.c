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
 *   picovm-boottime snapshot
 *                     first writes the snapshot port 0x512 (picovm saves
 *                     the VM if snapshot.path is set), then, in the same
 *                     process, the boot-timer port: a restored picovm
 *                     logs the time from its exec to the guest running.
 *   picovm-pwrbtn     waits for the ACPI power button (`picovm ctl NAME
 *                     stop`): reads the PM1a status register (port 0x600)
 *                     once a second, and once PWRBTN_STS is set clears it
 *                     and exits 0 (/init then powers off cleanly).  This
 *                     kernel has no ACPI button driver (no CONFIG_INPUT).
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
#if defined(PICOVM_EXIT) + defined(PICOVM_BOOTTIME) + defined(PICOVM_PWRBTN) != 1
#error "define exactly one of PICOVM_EXIT, PICOVM_BOOTTIME, PICOVM_PWRBTN"
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

#ifdef PICOVM_PWRBTN
/* Reads (write = 0) or writes one byte of port through fd (/dev/port). */
static int port_rw(long fd, unsigned port, unsigned char *v, int write)
{
	return sys3(SYS_lseek, fd, port, SEEK_SET) == (long)port &&
	       sys3(write ? SYS_write : SYS_read, fd, (long)v, 1) == 1 ? 0 : -1;
}

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
	if (argc > 1) {
		const char *a = argv[1], *want = "snapshot";
		ulong i = 0;
		while (a[i] && a[i] == want[i])
			i++;
		if (argc > 2 || a[i] || want[i]) {
			say("usage: picovm-boottime [snapshot]\n");
			sys3(SYS_exit, 2, 0, 0);
		}
		if (port_write(SNAPSHOT_PORT, 1) < 0)
			sys3(SYS_exit, 1, 0, 0);
	}
	rc = port_write(BOOTTIME_PORT, 1);
	sys3(SYS_exit, rc == 0 ? 0 : 1, 0, 0);
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
