/* The reaper child; see reaper.h. */
#include "reaper.h"

#include <errno.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* The most descriptors one message carries (the VM and its vCPUs are sent
 * in as many messages as they need). */
#define REAPER_BATCH 64

static int reaper_sock = -1;
static bool reaper_started;	/* its first byte has arrived */

/* The child: takes descriptors until picovm says it has sent them all
 * (a message with none) or is gone, then only reads until picovm's end
 * closes.  Its last action is its exit, which closes what it holds. */
static void __attribute__((noreturn)) reaper_main(int sock)
{
	char byte;

	/* Nothing of picovm's but the socket: not the disks, taps, sinks or
	 * picovm's stdout (a caller reading it would wait for us). */
	if (sock != 3 && dup2(sock, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 0, 2, 0);
	syscall(SYS_close_range, 4, ~0U, 0);
	/* picovm waits for this before it opens anything else. */
	if (write(3, "", 1) != 1)
		_exit(1);
	prctl(PR_SET_NAME, "picovm-reaper", 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	for (;;) {
		union {
			char buf[CMSG_SPACE(REAPER_BATCH * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = u.buf,
				      .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(3, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || byte == 0)
			break;	/* picovm is gone, or sent everything */
	}
	/* From here read, write and exit only.  The descriptors stay open
	 * until picovm's end of the socket closes. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) < 0)
		prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
	for (;;) {
		ssize_t r = read(3, &byte, 1);
		if (r == 0 || (r < 0 && errno != EINTR))
			break;	/* EOF: picovm has exited */
	}
	/* exit, not exit_group (strict mode allows only the former); this
	 * is the only thread, so the process ends here, status 0. */
	syscall(SYS_exit, 0);
	for (;;)
		;
}

int reaper_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		log_err("reaper: socketpair: %s", strerror(e));
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		log_err("reaper: fork: %s", strerror(e));
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		/* Signals picovm blocks (it reads them from a signalfd) stay
		 * blocked: a SIGTERM to the process group stops picovm, which
		 * then ends the reaper. */
		close(sv[0]);
		reaper_main(sv[1]);
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

/* One message: byte 1 with descriptors, byte 0 (the last) with none. */
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
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	while (sendmsg(reaper_sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int reaper_hand(const int *fds, unsigned n)
{
	int ret = 0;

	if (reaper_settle() < 0 || reaper_sock < 0)
		return 0;
	for (unsigned i = 0; i < n && ret == 0; i += REAPER_BATCH)
		ret = reaper_send(fds + i, n - i < REAPER_BATCH ? n - i :
			REAPER_BATCH, 1);
	if (ret == 0)
		ret = reaper_send(NULL, 0, 0);
	if (ret < 0)
		log_err("reaper: handing over the KVM descriptors: %s",
			strerror(-ret));
	return ret;
}
