/*
 * tapfd: hands picovm a tap descriptor that an unprivileged process
 * opened (tests/t-net.sh, net.N.fd).
 *
 *   tapfd TAP USER PROGRAM [ARGS...]
 *
 * A child drops to USER (its primary group, no supplementary groups, no
 * capabilities) and attaches to the persistent tap TAP with TUNSETIFF
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR): the kernel allows that only if
 * USER owns the tap (`ip tuntap add ... user USER`).  The child sends the
 * descriptor to the parent over a unix socket (SCM_RIGHTS); the parent
 * (root: picovm needs /dev/kvm) puts it at fd 3 and execs PROGRAM.
 *
 * /dev/net/tun itself may be closed to USER (mode 0600 on some systems,
 * the build machines among them); then the child uses a descriptor of it
 * opened before dropping privileges -- an unattached clone device that
 * grants nothing by itself -- and says so on stderr.  TUNSETIFF always
 * runs as USER.
 *
 * Exit status: PROGRAM's, or 3 if the child could not attach (message on
 * stderr), 2 for usage and system errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "tapfd: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int child(int sk, const char *tap, const struct passwd *pw, int pre)
{
	struct ifreq ifr;
	int fd;
	char c = 0;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;

	if (setgroups(0, NULL) || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid))
		die("dropping privileges");
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		fprintf(stderr, "tapfd: privileges did not drop\n");
		return 3;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		fprintf(stderr, "tapfd: /dev/net/tun is closed to %s; using the "
			"clone device opened before dropping privileges\n",
			pw->pw_name);
		fd = pre;
	} else {
		close(pre);
	}
	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapfd: TUNSETIFF %s as %s (uid %u): %s\n", tap,
			pw->pw_name, (unsigned)getuid(), strerror(errno));
		return 3;
	}
	if (!(cm = CMSG_FIRSTHDR(&m)))
		return 2;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sk, &m, 0) < 0)
		die("sendmsg");
	return 0;
}

static int receive_fd(int sk)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sk, &m, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	struct passwd *pw;
	int sk[2], pre, fd, st;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: tapfd TAP USER PROGRAM [ARGS...]\n");
		return 2;
	}
	if (!(pw = getpwnam(argv[2])))
		die(argv[2]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk) < 0)
		die("socketpair");
	pre = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sk[0]);
		_exit(child(sk[1], argv[1], pw, pre));
	}
	close(sk[1]);
	if (pre >= 0)
		close(pre);
	fd = receive_fd(sk[0]);
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	if (fd < 0)
		return WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 3;
	close(sk[0]);
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			die("dup2");
		close(fd);
	} else if (fcntl(3, F_SETFD, 0) < 0) {
		die("fcntl");
	}
	execvp(argv[3], argv + 3);
	die(argv[3]);
}
