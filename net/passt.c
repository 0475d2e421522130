/* passt set-up and teardown; see passt.h. */
#include "passt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../seccomp/sandbox.h"
#include "../vm/log.h"

/* "H:G,H:G" of one protocol, or "none". */
static void port_spec(const struct net_forward *f, int nf, bool udp, char *out,
		      size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < nf; i++)
		if (f[i].udp == udp && len < n)
			len += (size_t)snprintf(out + len, n - len, "%s%u:%u",
						len ? "," : "", f[i].host, f[i].guest);
	if (!len)
		snprintf(out, n, "none");
}

/* The child: becomes passt with the socket as descriptor 3.  Only
 * async-signal-safe calls (the parent may have threads one day). */
static void passt_exec(const char *bin, int sock, pid_t parent, char *const argv[])
{
	static const char msg[] = "picovm: cannot start passt\n";
	sigset_t none;

	/* picovm dying without closing its end still ends passt. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	setsid();	/* no terminal signals: picovm decides when it ends */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(127);
	if (sock == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sock, 3) < 0)
		_exit(127);
	syscall(SYS_close_range, 4U, ~0U, 0U);
	execv(bin, argv);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static int passt_start(const struct config *c, unsigned n, struct passt *p)
{
	const struct net_config *nc = &c->net[n];
	struct net_forward fw[CONFIG_MAX_FORWARDS];
	char bin[PATH_MAX], mtu[16], tcp[CONFIG_MAX_FORWARDS * 12 + 8],
	     udp[sizeof(tcp)], why[128];
	int sv[2];

	int nf = nc->forward ? config_parse_forward(nc->forward, fw,
						    CONFIG_MAX_FORWARDS, why,
						    sizeof(why)) : 0;
	if (nf < 0 || !config_find_passt(bin, sizeof(bin))) {
		/* The config checks both; PATH may have changed since. */
		log_err("%s: net.%u.passt: no executable passt in PATH; install "
			"it (Debian package passt)", c->file, n);
		return -1;
	}
	port_spec(fw, nf, false, tcp, sizeof(tcp));
	port_spec(fw, nf, true, udp, sizeof(udp));
	snprintf(mtu, sizeof(mtu), "%u", nc->mtu);
	char a_passt[] = "passt", a_fg[] = "--foreground", a_q[] = "--quiet",
	     a_fd[] = "--fd", a_3[] = "3", a_mtu[] = "--mtu", a_t[] = "-t",
	     a_u[] = "-u";
	char *const argv[] = { a_passt, a_fg, a_q, a_fd, a_3, a_mtu, mtu, a_t,
			       tcp, a_u, udp, NULL };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("%s: net.%u.passt: socketpair: %s", c->file, n,
			strerror(errno));
		return -1;
	}
	/* passt asks for INT_MAX / 2 (the kernel caps it at wmem_max and
	 * rmem_max) on a connection it accepts, but leaves a --fd socket at
	 * the default (208 KiB): a few hundred small frames, which a guest
	 * that stops reading for a moment fills, and passt then drops
	 * (ss: passt's send queue full at 212992 bytes in a host->guest
	 * flood).  So its end gets what passt would have set. */
	int big = INT_MAX / 2;
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) < 0 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0)
		log_info("%s: net.%u.passt: cannot enlarge the socket buffers: %s",
			 c->file, n, strerror(errno));
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		passt_exec(bin, sv[1], parent, argv);
	close(sv[1]);
	if (pid < 0) {
		log_err("%s: net.%u.passt: cannot start %s: %s", c->file, n, bin,
			strerror(errno));
		close(sv[0]);
		return -1;
	}
	p->fd = sv[0];
	p->pid = pid;
	snprintf(p->what, sizeof(p->what), "passt (pid %d)", (int)pid);
	return 0;
}

static int passt_connect(const struct config *c, unsigned n, struct passt *p)
{
	const char *path = c->net[n].passt;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_err("%s: net.%u.passt: cannot connect to %s: %s (start passt "
			"with `passt -s %s --mtu %u` first, or use auto)", c->file,
			n, path, strerror(errno), path, c->net[n].mtu);
		return -1;
	}
	return 0;
}

/* An inherited descriptor: it must have been open when picovm started
 * and be a connected stream socket. */
static int passt_inherit(const struct config *c, unsigned n, struct passt *p)
{
	int fd = c->net[n].passt_fd, type = 0;
	socklen_t len = sizeof(type);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (!sandbox_inherited(fd)) {
		log_err("%s: net.%u.passt.fd: descriptor %d was not open when "
			"picovm started; expected a socket connected to passt, "
			"inherited from the parent", c->file, n, fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM || getpeername(fd, (struct sockaddr *)&peer, &plen) < 0) {
		log_err("%s: net.%u.passt.fd: descriptor %d is not a connected "
			"stream socket", c->file, n, fd);
		return -1;
	}
	p->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (p->fd < 0) {
		log_err("%s: net.%u.passt.fd: %s", c->file, n, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int passt_open(const struct config *c, unsigned n, struct passt *p)
{
	const struct net_config *nc = &c->net[n];
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	snprintf(p->what, sizeof(p->what), "passt");
	if (nc->passt_fd >= 0)
		ret = passt_inherit(c, n, p);
	else if (strcmp(nc->passt, "auto") == 0)
		ret = passt_start(c, n, p);
	else
		ret = passt_connect(c, n, p);
	if (ret < 0 && p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	return ret;
}

/* Reaps passt if it has ended within about ms milliseconds. */
static bool passt_reaped(struct passt *p, int ms, int *status)
{
	for (int waited = 0;; waited += 10) {
		pid_t r = (pid_t)syscall(SYS_wait4, p->pid, status, WNOHANG, NULL);
		if (r == p->pid || (r < 0 && errno != EINTR))
			return r == p->pid;
		if (waited >= ms)
			return false;
		poll(NULL, 0, 10);
	}
}

void passt_close(struct passt *p, unsigned n)
{
	int status = 0;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->pid <= 0)
		return;
	/* It sees the end of its stream and exits at once; a stuck one is
	 * killed (tgkill: the call the main thread already has). */
	bool reaped = passt_reaped(p, 1000, &status);
	if (!reaped && syscall(SYS_tgkill, p->pid, p->pid, SIGKILL) == 0)
		reaped = passt_reaped(p, 1000, &status);
	if (!reaped)
		log_err("net.%u: %s did not end; it is killed when picovm exits",
			n, p->what);
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		log_err("net.%u: %s exited with status %d", n, p->what,
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		log_err("net.%u: %s was ended by signal %d", n, p->what,
			WTERMSIG(status));
	else if (WIFSIGNALED(status))
		log_info("net.%u: %s was killed (SIGKILL)", n, p->what);
	p->pid = 0;
}
