/* The PIT reinjection helper; see pit.h. */
#include "pit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "../seccomp/sandbox.h"

/* The helper shares picovm's memory and, having no TLS of its own, must
 * not touch libc state (errno among it): system calls go through this. */
static long raw_syscall(long nr, long a, long b, long c, long d, long e)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Static: the helper may outlive picovm's use of anything on its stack. */
static struct {
	int vm_fd;
	int sync_fd;		/* the pipe's write end */
	struct sock_filter prog[SANDBOX_PROG_MAX];
	struct sock_fprog fprog;
	struct kvm_reinject_control off;
} pit;
static alignas(16) unsigned char pit_stack[16384];

static int pit_helper(void *arg)
{
	long fd = pit.vm_fd, ret;
	long lo = fd < pit.sync_fd ? fd : pit.sync_fd;
	long hi = fd < pit.sync_fd ? pit.sync_fd : fd;

	(void)arg;
	/* Every descriptor but the VM's and the sync pipe's (disk images,
	 * taps, outputs came along with the copy of the table). */
	if (lo > 0)
		raw_syscall(SYS_close_range, 0, lo - 1, 0, 0, 0);
	if (hi > lo + 1)
		raw_syscall(SYS_close_range, lo + 1, hi - 1, 0, 0, 0);
	raw_syscall(SYS_close_range, hi + 1, ~0U, 0, 0, 0);
	/* Only now may picovm go on: until this, the helper held copies of
	 * its disks and taps, which a VM started right after picovm's end
	 * must find free. */
	raw_syscall(SYS_write, pit.sync_fd, (long)"", 1, 0, 0);
	raw_syscall(SYS_close, pit.sync_fd, 0, 0, 0, 0);
	raw_syscall(SYS_prctl, PR_SET_NAME, (long)"picovm-pit", 0, 0, 0);
	if (pit.fprog.len &&
	    (raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	     raw_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			 (long)&pit.fprog, 0, 0) < 0))
		ret = -1;	/* no filter: no call either */
	else
		ret = raw_syscall(SYS_ioctl, fd, KVM_REINJECT_CONTROL,
				  (long)&pit.off, 0, 0);
	raw_syscall(SYS_exit, ret == 0 ? 0 : 1, 0, 0, 0, 0);
	return 0;
}

int pit_reinject_off(int vm_fd)
{
	memset(&pit, 0, sizeof(pit));
	pit.vm_fd = vm_fd;
	pit.off.pit_reinject = 0;
	int len = sandbox_program(SANDBOX_PIT, pit.prog, SANDBOX_PROG_MAX);
	if (len > 0) {
		pit.fprog.len = (unsigned short)len;
		pit.fprog.filter = pit.prog;
	}
	int pfd[2];
	if (len >= 0 && pipe2(pfd, O_CLOEXEC) == 0) {
		pit.sync_fd = pfd[1];
		int pid = clone(pit_helper, pit_stack + sizeof(pit_stack),
				CLONE_VM | SIGCHLD, NULL);
		close(pfd[1]);
		/* Its byte once it has dropped every other descriptor (or
		 * end of file, had it died first). */
		char b;
		while (pid >= 0 && read(pfd[0], &b, 1) < 0 && errno == EINTR)
			;
		close(pfd[0]);
		if (pid >= 0)
			return 0;
	}
	/* No helper: the call here, and its wait too. */
	if (ioctl(vm_fd, KVM_REINJECT_CONTROL, &pit.off) < 0) {
		int e = errno;
		log_err("KVM_REINJECT_CONTROL: %s", strerror(e));
		return -e;
	}
	return 0;
}
