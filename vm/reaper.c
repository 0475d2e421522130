/* The reaper child; see reaper.h. */
#include "reaper.h"

#include <errno.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "pit.h"
#include "rawsys.h"
#include "../seccomp/sandbox.h"

/* The most descriptors one message carries (the VM and its vCPUs are sent
 * in as many messages as they need). */
#define REAPER_BATCH 64
/* What a message's byte says (picovm to the reaper). */
#define REAPER_MSG_END 0	/* the hand-over is complete */
#define REAPER_MSG_KVM 1	/* descriptors to hold */
#define REAPER_MSG_TAPS 2	/* taps to hold, and to release on a stop */
#define REAPER_MSG_PIT 3	/* the VM: make its PIT (vm/pit.h), answer */
#define REAPER_MSG_GO 'G'	/* vCPU 0 has run: PIT reinjection off */
#define REAPER_MSG_RELEASE 'R'	/* picovm stops: release the taps' names */

static int reaper_sock = -1;
static bool reaper_started;	/* its first byte has arrived */
static unsigned reaper_ntaps;	/* taps handed over */
static bool reaper_has_vm;	/* it got the VM with the PIT request */

/* The child runs in picovm's memory (clone(CLONE_VM): no copy of it to
 * make, and no copy-on-write fault for each page picovm writes after the
 * start, which cost picovm about 0.3 ms of CPU here with fork()).  So it
 * has a stack of its own, touches nothing of picovm's but what this file
 * gives it, and makes its system calls with raw_syscall() (vm/rawsys.h):
 * no errno, no libc state. */
static alignas(16) unsigned char reaper_stack[16384];
/* The child's seccomp program: written by reaper_hand() before its last
 * message, read by the child only after that message (length -1: none,
 * strict mode; 0: sandbox = off). */
static struct sock_filter reaper_prog[SANDBOX_PROG_MAX];
static int reaper_prog_len = -1;

/* The child's taps: descriptor and name. */
static struct {
	int fd;
	char name[IFNAMSIZ];
} taps[REAPER_BATCH];
static unsigned ntaps;

static long sys3(long nr, long a, long b, long c)
{
	return raw_syscall(nr, a, b, c, 0, 0);
}

static void __attribute__((noreturn)) child_exit(long status)
{
	/* exit, not exit_group: strict mode allows only the former, and
	 * this is the only thread of its process. */
	sys3(SYS_exit, status, 0, 0);
	for (;;)
		;
}

/* The message's next control header after cm, or NULL: musl's
 * CMSG_NXTHDR mixes signed and unsigned arithmetic. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
static struct cmsghdr *cmsg_next(struct msghdr *msg, struct cmsghdr *cm)
{
	return CMSG_NXTHDR(msg, cm);
}
#pragma GCC diagnostic pop

/* The child's VM descriptor, from the PIT request, and whether the
 * reinjection call is still to be made (on the go byte). */
static int pit_fd = -1;
static bool pit_pending;

/* The descriptors a message carries, into fds (at most REAPER_BATCH: what
 * its control buffer holds): their number. */
static unsigned msg_fds(struct msghdr *msg, int *fds)
{
	unsigned k = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = cmsg_next(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && k < REAPER_BATCH; i++)
			memcpy(&fds[k++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	return k;
}

/* The first descriptor a message carries (any others closed), or -1. */
static int first_fd(struct msghdr *msg)
{
	int fds[REAPER_BATCH];
	unsigned n = msg_fds(msg, fds);

	for (unsigned i = 1; i < n; i++)
		sys3(SYS_close, fds[i], 0, 0);
	return n ? fds[0] : -1;
}

/* The PIT on the VM a request carries, and the answer (vm/pit.h). */
static void make_pit(struct msghdr *msg)
{
	unsigned char e = EBADF;

	if (pit_fd < 0 && (pit_fd = first_fd(msg)) >= 0) {
		e = pit_child_create(pit_fd);
		pit_pending = e == 0;
	}
	(void)sys3(SYS_write, 3, (long)&e, 1);
}

/* The go byte: reinjection off, once. */
static void pit_went(void)
{
	if (pit_pending)
		(void)pit_child_reinject_off(pit_fd);
	pit_pending = false;
}

/* The taps in a message's descriptors, with their names (TUNGETIFF while
 * the child still may). */
static void take_taps(struct msghdr *msg)
{
	int fds[REAPER_BATCH];
	unsigned n = msg_fds(msg, fds);

	for (unsigned i = 0; i < n && ntaps < REAPER_BATCH; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		if (sys3(SYS_ioctl, fds[i], TUNGETIFF, (long)&ifr) < 0)
			continue;	/* held all the same */
		taps[ntaps].fd = fds[i];
		memcpy(taps[ntaps].name, ifr.ifr_name, IFNAMSIZ);
		taps[ntaps].name[IFNAMSIZ - 1] = 0;
		ntaps++;
	}
}

/* Each tap down, then renamed "pvrPID.N": its name is free for a VM
 * started at once, while the tap itself, attached to nothing but the
 * descriptor held here, goes away at the reaper's exit.  Errors leave
 * the tap as it was (its name then is free once the reaper has ended). */
static void release_taps(int s, long pid)
{
	for (unsigned i = 0; i < ntaps; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, taps[i].name, IFNAMSIZ);
		if (sys3(SYS_ioctl, s, SIOCGIFFLAGS, (long)&ifr) < 0)
			continue;
		if (ifr.ifr_flags & IFF_UP) {
			ifr.ifr_flags = (short)(ifr.ifr_flags & ~IFF_UP);
			if (sys3(SYS_ioctl, s, SIOCSIFFLAGS, (long)&ifr) < 0)
				continue;
		}
		/* ifr_newname shares its storage with ifr_flags: "pvr", 7
		 * digits, ".", 2 digits and the NUL fit IFNAMSIZ. */
		char *nn = ifr.ifr_newname;
		size_t o = 3;
		memcpy(nn, "pvr", 3);
		o = raw_put_dec(nn, o, IFNAMSIZ - 1, (unsigned long)(pid % 10000000));
		nn[o++] = '.';
		o = raw_put_dec(nn, o, IFNAMSIZ - 1, i % 100u);
		nn[o] = 0;
		(void)sys3(SYS_ioctl, s, SIOCSIFNAME, (long)&ifr);
	}
}

/* After the hand-over: strict mode (read, write, exit) when there is
 * nothing more to do but hold; with taps (a socket for their ioctls) or
 * the PIT's call still to make, the reaper's program (filters.c; none
 * with sandbox = off).  Returns the socket, or -1 when the taps cannot be
 * released (they are then only held). */
static int reaper_confine(void)
{
	long s = ntaps ? sys3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
	int len = s >= 0 || pit_pending ? reaper_prog_len : -1;

	if (len == 0)
		return (int)s;	/* sandbox = off */
	if (len > 0) {
		struct sock_fprog fp = { .len = (unsigned short)len,
					 .filter = reaper_prog };
		if (raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		    sys3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&fp) == 0)
			return (int)s;
	}
	if (s >= 0)
		sys3(SYS_close, s, 0, 0);
	if (sys3(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0) < 0)
		sys3(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0);
	return -1;
}

/* The child: makes the PIT when asked and takes descriptors until picovm
 * says it has sent them all (a message with none) or is gone, then only
 * reads until picovm's end closes, turning PIT reinjection off on the go
 * byte and releasing the taps when asked.  Its last action is its exit,
 * which closes what it holds; as the last user of picovm's memory, the
 * address space's teardown is its too, after picovm's exit.  (Not made
 * undumpable: that is a property of the memory it shares with picovm.) */
static int reaper_main(void *arg)
{
	long sock = (long)arg;
	char byte;

	/* Nothing of picovm's but the socket: not the disks, taps, sinks or
	 * picovm's stdout (a caller reading it would wait for us). */
	if (sock != 3 && sys3(SYS_dup2, sock, 3, 0) < 0)
		child_exit(1);
	sys3(SYS_close_range, 0, 2, 0);
	sys3(SYS_close_range, 4, ~0U, 0);
	/* picovm waits for this before it opens anything else. */
	if (sys3(SYS_write, 3, (long)"", 1) != 1)
		child_exit(1);
	sys3(SYS_prctl, PR_SET_NAME, (long)"picovm-reaper", 0);
	long pid = sys3(SYS_getpid, 0, 0, 0);
	for (;;) {
		union {
			char buf[CMSG_SPACE(REAPER_BATCH * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = u.buf,
				      .msg_controllen = sizeof(u.buf) };
		long n = sys3(SYS_recvmsg, 3, (long)&msg, MSG_CMSG_CLOEXEC);
		if (n == -EINTR)
			continue;
		if (n <= 0 || byte == REAPER_MSG_END)
			break;	/* picovm is gone, or sent everything */
		if (byte == REAPER_MSG_TAPS)
			take_taps(&msg);
		else if (byte == REAPER_MSG_PIT)
			make_pit(&msg);
		else if (byte == REAPER_MSG_GO)
			pit_went();
	}
	/* From here read, write and exit only (and the taps' and the PIT's
	 * ioctls).  The descriptors stay open until picovm's end of the
	 * socket closes. */
	int s = reaper_confine();
	for (;;) {
		long r = sys3(SYS_read, 3, (long)&byte, 1);
		if (r == 0 || (r < 0 && r != -EINTR))
			break;	/* EOF: picovm has exited */
		if (r == 1 && byte == REAPER_MSG_RELEASE && s >= 0)
			release_taps(s, pid);
		else if (r == 1 && byte == REAPER_MSG_GO)
			pit_went();
	}
	child_exit(0);
}

int reaper_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		log_err("reaper: socketpair: %s", strerror(e));
		return -e;
	}
	/* Signals picovm blocks (it reads them from a signalfd) stay blocked
	 * in the child: a SIGTERM to the process group stops picovm, which
	 * then ends the reaper. */
	int pid = clone(reaper_main, reaper_stack + sizeof(reaper_stack),
			CLONE_VM | SIGCHLD, (void *)(long)sv[1]);
	if (pid < 0) {
		int e = errno;
		log_err("reaper: clone: %s", strerror(e));
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	close(sv[1]);
	reaper_sock = sv[0];
	return 0;
}

int reaper_settle(void)
{
	char b;
	ssize_t n;

	if (reaper_sock < 0 || reaper_started)
		return 0;
	/* Until its byte arrives the child may still hold copies of what
	 * picovm inherited (a net.N.fd tap, stdout). */
	while ((n = recv(reaper_sock, &b, 1, 0)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		log_err("reaper: the child did not start; the VM is destroyed "
			"at picovm's exit instead");
		close(reaper_sock);
		reaper_sock = -1;
		return -ECHILD;
	}
	reaper_started = true;
	return 0;
}

/* One message: its byte, and descriptors (none with the last). */
static int reaper_send(const int *fds, unsigned n, char byte)
{
	union {
		char buf[CMSG_SPACE(REAPER_BATCH * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&u, 0, sizeof(u));
	if (n) {
		msg.msg_control = u.buf;
		msg.msg_controllen = (socklen_t)CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		if (!cm)
			return -EINVAL;
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = (socklen_t)CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	while (sendmsg(reaper_sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* fds[0..n) in as many messages of kind byte as they need. */
static int reaper_send_all(const int *fds, unsigned n, char byte)
{
	int ret = 0;

	for (unsigned i = 0; i < n && ret == 0; i += REAPER_BATCH)
		ret = reaper_send(fds + i, n - i < REAPER_BATCH ? n - i :
			REAPER_BATCH, byte);
	return ret;
}

int reaper_pit(int vm_fd)
{
	if (reaper_settle() < 0 || reaper_sock < 0)
		return -ECHILD;
	int ret = reaper_send(&vm_fd, 1, REAPER_MSG_PIT);
	if (ret < 0) {
		log_err("reaper: asking for the PIT: %s", strerror(-ret));
		return ret;
	}
	reaper_has_vm = true;
	return 0;
}

int reaper_pit_answer(void)
{
	unsigned char b;
	ssize_t n;

	while ((n = read(reaper_sock, &b, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? b : -1;
}

void reaper_pit_go(void)
{
	char b = REAPER_MSG_GO;

	/* The socket has room for a byte; a reaper gone first: EPIPE
	 * (SIGPIPE is ignored). */
	if (reaper_has_vm) {
		ssize_t n = write(reaper_sock, &b, 1);
		(void)n;
	}
}

bool reaper_holds_vm(void)
{
	return reaper_has_vm;
}

int reaper_hand(const int *fds, unsigned n, const int *tap_fds, unsigned ntap)
{
	if (reaper_settle() < 0 || reaper_sock < 0)
		return 0;
	/* The child reads it after the last message below. */
	reaper_prog_len = sandbox_program(SANDBOX_REAPER, reaper_prog,
					  SANDBOX_PROG_MAX);
	if (ntap > REAPER_BATCH)
		ntap = REAPER_BATCH;
	int ret = reaper_send_all(fds, n, REAPER_MSG_KVM);
	if (ret == 0 && ntap && (ret = reaper_send(tap_fds, ntap, REAPER_MSG_TAPS)) == 0)
		reaper_ntaps = ntap;
	if (ret == 0)
		ret = reaper_send(NULL, 0, REAPER_MSG_END);
	if (ret < 0)
		log_err("reaper: handing over the KVM descriptors: %s",
			strerror(-ret));
	return ret;
}

void reaper_release(void)
{
	char b = REAPER_MSG_RELEASE;

	if (reaper_sock < 0 || !reaper_ntaps)
		return;
	reaper_ntaps = 0;
	/* No answer to wait for: the reaper takes the taps down and renames
	 * them while picovm ends (a VM of the same name started at once
	 * waits for the name: net/tap.c). */
	if (write(reaper_sock, &b, 1) != 1)
		log_err("reaper: cannot ask for the taps' release: %s; "
			"net.N.tap = auto names stay taken until the reaper has "
			"ended", strerror(errno));
}
