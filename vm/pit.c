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
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "rawsys.h"
#include "../seccomp/sandbox.h"

/* Static: the helper outlives picovm's use of anything on its stack. */
static struct {
	int vm_fd;
	int sync_fd;		/* the start pipe's write end */
	int hold_fd;		/* the hold pipe's read end */
	struct sock_filter prog[SANDBOX_PROG_MAX];
	struct sock_fprog fprog;
	struct kvm_reinject_control off;
	struct kvm_pit_config config;
	bool load;		/* state goes into the PIT (a restore) */
	struct kvm_pit_state2 state;
} pit;
static alignas(16) unsigned char pit_stack[16384];
/* picovm's end of the hold pipe: the go byte, then open until its exit. */
static int pit_go_fd = -1;
static bool pit_went;
/* The start pipe's read end until pit_ready() has seen the helper's PIT
 * (pit_settle() has seen its first byte). */
static int pit_sync_rd = -1;
static bool pit_settled;

/* One byte from the hold pipe: 1, or 0 at its end (picovm is gone). */
static long hold_read(void)
{
	char b;
	long n;

	while ((n = raw_syscall(SYS_read, pit.hold_fd, (long)&b, 1, 0, 0)) == -EINTR)
		;
	return n;
}

static int pit_helper(void *arg)
{
	long keep[3] = { pit.vm_fd, pit.sync_fd, pit.hold_fd }, ret = 0;

	(void)arg;
	/* Every descriptor but these three (disk images, taps, outputs came
	 * along with the copy of the table): sorted, then the gaps closed. */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				long t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	long from = 0;
	for (int i = 0; i < 3; from = keep[i] + 1, i++)
		if (keep[i] > from)
			raw_syscall(SYS_close_range, from, keep[i] - 1, 0, 0, 0);
	raw_syscall(SYS_close_range, from, ~0U, 0, 0, 0);
	/* Only now may picovm go on: until this, the helper held copies of
	 * its disks and taps, which a VM started right after picovm's end
	 * must find free. */
	raw_syscall(SYS_write, pit.sync_fd, (long)"", 1, 0, 0);
	/* The PIT, while picovm goes on with its set-up (pit.h): its errno
	 * as the next byte, 0 for none. */
	long r = raw_syscall(SYS_ioctl, pit.vm_fd, KVM_CREATE_PIT2,
			     (long)&pit.config, 0, 0);
	unsigned char e = r >= 0 ? 0 : r >= -255 ? (unsigned char)-r : EIO;
	/* A restore's state, before reinjection goes off: its errno with
	 * the high bit set, so pit_ready() tells it apart. */
	if (!e && pit.load) {
		r = raw_syscall(SYS_ioctl, pit.vm_fd, KVM_SET_PIT2,
				(long)&pit.state, 0, 0);
		e = r >= 0 ? 0 : 0x80 | (r >= -127 ? (unsigned char)-r : EIO);
	}
	raw_syscall(SYS_write, pit.sync_fd, (long)&e, 1, 0, 0);
	raw_syscall(SYS_close, pit.sync_fd, 0, 0, 0, 0);
	raw_syscall(SYS_prctl, PR_SET_NAME, (long)"picovm-pit", 0, 0, 0);
	if (pit.fprog.len &&
	    (raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	     raw_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			 (long)&pit.fprog, 0, 0) < 0))
		raw_syscall(SYS_exit, 1, 0, 0, 0, 0);	/* no filter: no call */
	/* The go byte once vCPU 0 has been in the guest (pit.h); the end
	 * of the pipe instead when picovm ended first: nothing to do then. */
	if (hold_read() == 1)
		ret = raw_syscall(SYS_ioctl, pit.vm_fd, KVM_REINJECT_CONTROL,
				  (long)&pit.off, 0, 0);
	/* Holding picovm's memory until picovm is gone: its exit then
	 * leaves the address space's teardown to this process. */
	while (hold_read() > 0)
		;
	raw_syscall(SYS_exit, ret == 0 ? 0 : 1, 0, 0, 0, 0);
	return 0;
}

/* KVM_CREATE_PIT2 (unless made: EEXIST) and a restore's KVM_SET_PIT2 on
 * this thread: 0, or -errno after printing (PIT_STATE_REFUSED set when
 * KVM refused the state). */
static int pit_create_here(int vm_fd, bool load)
{
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit.config) < 0 && errno != EEXIST) {
		int e = errno;
		log_err("KVM_CREATE_PIT2: %s", strerror(e));
		return -e;
	}
	if (load && ioctl(vm_fd, KVM_SET_PIT2, &pit.state) < 0) {
		int e = errno;
		log_err("restore: KVM_SET_PIT2: %s", strerror(e));
		return -(e | PIT_STATE_REFUSED);
	}
	return 0;
}

int pit_reinject_off(int vm_fd, const struct kvm_pit_state2 *state)
{
	memset(&pit, 0, sizeof(pit));
	pit.vm_fd = vm_fd;
	pit.off.pit_reinject = 0;
	pit.config.flags = KVM_PIT_SPEAKER_DUMMY;
	pit.load = state != NULL;
	if (pit.load)
		pit.state = *state;	/* the caller's may go before pit_ready() */
	pit_settled = false;
	int len = sandbox_program(SANDBOX_PIT, pit.prog, SANDBOX_PROG_MAX);
	if (len > 0) {
		pit.fprog.len = (unsigned short)len;
		pit.fprog.filter = pit.prog;
	}
	/* The start pipe first: its read end, which stays open through the
	 * sandbox until pit_ready(), then has a lower number than the hold
	 * pipe's write end, open until picovm's exit (the sandbox caps
	 * RLIMIT_NOFILE above the highest descriptor it sees). */
	int sfd[2] = { -1, -1 }, hfd[2];
	if (len >= 0 && pipe2(sfd, O_CLOEXEC) == 0 && pipe2(hfd, O_CLOEXEC) == 0) {
		pit.sync_fd = sfd[1];
		pit.hold_fd = hfd[0];
		int pid = clone(pit_helper, pit_stack + sizeof(pit_stack),
				CLONE_VM | SIGCHLD, NULL);
		close(sfd[1]);
		close(hfd[0]);
		if (pid >= 0) {
			pit_sync_rd = sfd[0];	/* pit_settle() waits */
			pit_go_fd = hfd[1];
			return 0;
		}
		close(sfd[0]);
		close(hfd[1]);
	} else if (sfd[0] >= 0) {
		close(sfd[0]);
		close(sfd[1]);
	}
	/* No helper: the PIT and the call here, and their waits too. */
	int r = pit_create_here(vm_fd, pit.load);
	if (r < 0)
		return r;
	if (ioctl(vm_fd, KVM_REINJECT_CONTROL, &pit.off) < 0) {
		int e = errno;
		log_err("KVM_REINJECT_CONTROL: %s", strerror(e));
		return -e;
	}
	return 0;
}

void pit_settle(void)
{
	char b;

	if (pit_sync_rd < 0 || pit_settled)
		return;
	/* Its byte once it has dropped every other descriptor (or end of
	 * file, had it died first). */
	while (read(pit_sync_rd, &b, 1) < 0 && errno == EINTR)
		;
	pit_settled = true;	/* pit_ready() reads on */
}

int pit_ready(void)
{
	unsigned char e = 0;
	ssize_t n;

	pit_settle();
	if (pit_sync_rd < 0)
		return 0;
	while ((n = read(pit_sync_rd, &e, 1)) < 0 && errno == EINTR)
		;
	close(pit_sync_rd);
	pit_sync_rd = -1;
	/* The helper died first: the PIT (unless it was made) and its state
	 * here then. */
	if (n != 1)
		return pit_create_here(pit.vm_fd, pit.load);
	if (e & 0x80) {
		log_err("restore: KVM_SET_PIT2: %s", strerror(e & 0x7f));
		return -((e & 0x7f) | PIT_STATE_REFUSED);
	}
	if (e) {
		log_err("KVM_CREATE_PIT2: %s", strerror(e));
		return -e;
	}
	return 0;
}

void pit_go(void)
{
	if (pit_go_fd < 0 || __atomic_exchange_n(&pit_went, true, __ATOMIC_SEQ_CST))
		return;
	/* A pipe with room for it: never blocks. */
	ssize_t n = write(pit_go_fd, "", 1);
	(void)n;
}
