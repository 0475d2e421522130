/* The sandbox: process-wide steps and per-thread filters; see sandbox.h. */
#include "sandbox.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf.h"
#include "../config/config.h"
#include "../vm/log.h"
#include "../vm/rawsys.h"

static bool enabled = true;
static struct sandbox_fds fds = { .ring_fd = -1, .control_fd = -1,
				   .control_dir_fd = -1, .gdb_fd = -1,
				   .gdb_dir_fd = -1, .serial1_fd = -1,
				   .serial1_dir_fd = -1 };
static __thread char thread_name[16] = "main";

void sandbox_enable(bool on) { enabled = on; }
void sandbox_set_fds(const struct sandbox_fds *f) { fds = *f; }

/* Descriptors open at start, one bit each (0 to INHERIT_MAX - 1). */
#define INHERIT_MAX 65536
static uint8_t inherited[INHERIT_MAX / 8];

/* Calls fn(fd, arg) for each open descriptor, from /proc/self/fd: one
 * open and a getdents64 or two, whatever the descriptor numbers.  Returns
 * 0, or -1 when /proc is not there (then nothing was called). */
static int fd_each_proc(void (*fn)(int fd, void *arg), void *arg)
{
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;

	if (dir < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (ssize_t o = 0; o < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + o);
			char *end;
			long fd = strtol(d->d_name, &end, 10);
			o += d->d_reclen;
			if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && !*end &&
			    fd != dir && fd <= INT_MAX)
				fn((int)fd, arg);
		}
	}
	close(dir);
	return n < 0 ? -1 : 0;
}

/* Up to this many descriptors are polled (fd_each()), in chunks of
 * POLL_CHUNK: a poll() over 1024 costs 5 us here (4096: 16), the first read of a
 * process's /proc/self/fd 25-50 (it makes a dentry and an inode for each
 * entry). */
#define POLL_SCAN_MAX 1024
#define POLL_CHUNK 256

/* Calls fn(fd, arg) for each open descriptor below limit, which is at
 * most RLIMIT_NOFILE (poll()'s own limit): a closed one answers
 * POLLNVAL.  The number of them, or -1 when poll() failed (then fn may
 * have been called for some). */
static int fd_each_below(int limit, void (*fn)(int fd, void *arg), void *arg)
{
	struct pollfd p[POLL_CHUNK];
	int open_fds = 0;

	for (int base = 0; base < limit; base += POLL_CHUNK) {
		int n = limit - base < POLL_CHUNK ? limit - base : POLL_CHUNK;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = base + i };
		if (poll(p, (nfds_t)n, 0) < 0)
			return -1;
		for (int i = 0; i < n; i++)
			if (!(p[i].revents & POLLNVAL)) {
				fn(base + i, arg);
				open_fds++;
			}
	}
	return open_fds;
}

/* Calls fn(fd, arg) for each open descriptor below the number it
 * returns (fn must not mind a second call for one).  At or above that
 * number none can be open but what picovm inherited: picovm opens a few
 * dozen descriptors, each at the lowest free number, and at least half
 * the numbers below it were free.  A poll() below RLIMIT_NOFILE or
 * POLL_SCAN_MAX, whichever is less, when that holds; else
 * /proc/self/fd (every number: INT_MAX); else a poll() (or fcntl() each)
 * below RLIMIT_NOFILE or max. */
static int fd_each(int max, void (*fn)(int fd, void *arg), void *arg)
{
	struct rlimit rl;
	int limit = max;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)limit)
		limit = (int)rl.rlim_cur;
	int bound = limit < POLL_SCAN_MAX ? limit : POLL_SCAN_MAX;
	int n = fd_each_below(bound, fn, arg);
	if (n >= 0 && n <= bound / 2)
		return bound;
	if (fd_each_proc(fn, arg) == 0)
		return INT_MAX;
	if (fd_each_below(limit, fn, arg) < 0)
		for (int i = 0; i < limit; i++)
			if (fcntl(i, F_GETFD) >= 0)
				fn(i, arg);
	return limit;
}

/* Where sandbox_note_inherited()'s scan ended: open descriptors at or
 * above it were inherited (fd_each()). */
static int inherit_seen_below = INT_MAX;

static void note_inherited(int fd, void *arg)
{
	(void)arg;
	if (fd < INHERIT_MAX)
		inherited[fd / 8] |= (uint8_t)(1u << (fd % 8));
}

int sandbox_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free number is fd itself. */
		int nul = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (nul != fd) {
			if (nul >= 0)
				close(nul);
			return -1;
		}
	}
	return 0;
}

void sandbox_note_inherited(int own_fd)
{
	inherit_seen_below = fd_each(INHERIT_MAX, note_inherited, NULL);
	if (own_fd >= 0 && own_fd < INHERIT_MAX)
		inherited[own_fd / 8] &= (uint8_t)~(1u << (own_fd % 8));
}

bool sandbox_inherited(int fd)
{
	if (fd < 3 || fd >= INHERIT_MAX)
		return false;
	if (fd >= inherit_seen_below)	/* beyond picovm's own numbers */
		return fcntl(fd, F_GETFD) >= 0;
	return inherited[fd / 8] & (1u << (fd % 8));
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void sandbox_close_inherited(const struct config *c, int own_fd)
{
	int keep[CONFIG_MAX_DEVICES + 2], n = 0;

	/* Only descriptors that really were inherited (tap_open() refuses
	 * the others); the config checked that no two nets share one. */
	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++)
		if (c->net[i].present && sandbox_inherited(c->net[i].fd))
			keep[n++] = c->net[i].fd;
		else if (c->net[i].present && sandbox_inherited(c->net[i].passt_fd))
			keep[n++] = c->net[i].passt_fd;
	if (own_fd >= 3)
		keep[n++] = own_fd;
	qsort(keep, (size_t)n, sizeof(int), cmp_int);
	/* Close the gaps between the descriptors we were told to keep. */
	unsigned from = 3;
	for (int i = 0; i <= n; i++) {
		unsigned to = i < n ? (unsigned)keep[i] - 1 : ~0U;
		if (to >= from)
			syscall(SYS_close_range, from, to, 0);
		if (i < n)
			from = (unsigned)keep[i] + 1;
	}
}

/* Async-signal-safe formatting: only write() and _exit() below. */
static size_t put_str(char *b, size_t o, const char *s)
{
	while (*s && o < 200)
		b[o++] = *s++;
	return o;
}

static size_t put_num(char *b, size_t o, long v)
{
	if (v < 0) {
		b[o++] = '-';
		v = -v;
	}
	return raw_put_dec(b, o, 220, (unsigned long)v);
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char buf[256];
	size_t o = 0;

	(void)sig, (void)uc;
	o = put_str(buf, o, "picovm: sandbox: thread ");
	o = put_str(buf, o, thread_name);
	o = put_str(buf, o, " made system call ");
	o = put_num(buf, o, si->si_syscall);
	o = put_str(buf, o, ", which its seccomp filter forbids; stopping\n");
	if (write(2, buf, o) < 0)
		_exit(SANDBOX_EXIT_STATUS);
	_exit(SANDBOX_EXIT_STATUS);
}

static void note_highest(int fd, void *arg)
{
	int *highest = arg;

	if (fd > *highest)
		*highest = fd;
}

static int enter_chroot(const char *dir)
{
	/* A private mount namespace first, so nothing we do to mounts leaks
	 * to the host, then chroot: picovm opens no file after this. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	if (chroot(dir) < 0 || chdir("/") < 0)
		return -1;
	return 0;
}

/* The calling thread's capability sets, or (set) all three emptied.
 * Straight system calls: libcap-ng read /proc/PID/status five times on
 * the way (and /proc/sys/kernel/cap_last_cap at every start). */
static int caps_call(bool set, struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	if (set)
		memset(d, 0, 2 * sizeof(*d));
	return (int)syscall(set ? SYS_capset : SYS_capget, &h, d);
}

/* Every capability out of the bounding set, up to the kernel's last
 * (past it PR_CAPBSET_DROP says EINVAL): 0 or -1. */
static int caps_drop_bounding(void)
{
	for (unsigned long cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return errno == EINVAL && cap > 0 ? 0 : -1;
	return 0;
}

int sandbox_process(const struct config *c)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler,
				.sa_flags = SA_SIGINFO };

	if (!enabled) {
		log_err("warning: sandbox = off: no seccomp filters, capabilities "
			"kept; for debugging only");
		return 0;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	/* The highest open descriptor, while /proc (fd_each()'s fallback) is
	 * still in sight (before a chroot). */
	int highest = 2;
	int seen = fd_each(INHERIT_MAX, note_highest, &highest);
	/* Above what the scan saw only inherited descriptors can be open,
	 * and of those only the nets' (sandbox_close_inherited()). */
	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++) {
		int net[2] = { c->net[i].fd, c->net[i].passt_fd };
		for (int j = 0; j < 2; j++)
			if (c->net[i].present && net[j] >= seen && net[j] > highest &&
			    fcntl(net[j], F_GETFD) >= 0)
				highest = net[j];
	}
	int nofile_max = highest + 1 + SANDBOX_FD_HEADROOM;
	struct rlimit core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &core);
	/* The user is looked up before a chroot hides /etc/passwd. */
	uint32_t uid = 0, gid = 0;
	char why[256];
	bool switch_user = c->sandbox_user && *c->sandbox_user;
	if (switch_user && config_parse_user(c->sandbox_user, NULL, &uid, &gid,
					     why, sizeof(why)) < 0) {
		log_err("sandbox.user: %s", why);	/* changed since check */
		return -1;
	}
	if (c->sandbox_chroot && enter_chroot(c->sandbox_chroot) < 0) {
		log_err("sandbox.chroot: cannot enter %s: %s%s", c->sandbox_chroot,
			strerror(errno), errno == EPERM ? " (needs root)" : "");
		return -1;
	}
	/* Every capability, bounding set first (that needs CAP_SETPCAP, which
	 * only a privileged start has), then the ids, then the rest. */
	struct __user_cap_data_struct caps[2];
	bool privileged = caps_call(false, caps) == 0 &&
			  (caps[CAP_TO_INDEX(CAP_SETPCAP)].effective &
			   CAP_TO_MASK(CAP_SETPCAP));
	if (privileged && caps_drop_bounding() < 0) {
		log_err("sandbox: cannot clear the capability bounding set");
		return -1;
	}
	if (switch_user) {
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			log_err("sandbox.user: cannot switch to uid %u gid %u: %s%s",
				(unsigned)uid, (unsigned)gid, strerror(errno),
				geteuid() ? " (picovm must start as root for this)" : "");
			return -1;
		}
	}
	if (caps_call(true, caps) < 0) {
		log_err("sandbox: cannot drop capabilities");
		return -1;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* Every descriptor picovm opens before its guest runs is open: the
	 * cap leaves room for what it still opens (sandbox.h). */
	struct rlimit nofile = { (rlim_t)nofile_max, (rlim_t)nofile_max };
	setrlimit(RLIMIT_NOFILE, &nofile);
	return 0;
}

int sandbox_program(enum sandbox_role role, struct sock_filter *prog, size_t cap)
{
	return enabled ? sandbox_bpf_get(role, &fds, prog, cap) : 0;
}

int sandbox_thread(enum sandbox_role role, const char *name)
{
	struct sock_filter prog[SANDBOX_BPF_MAX];

	snprintf(thread_name, sizeof(thread_name), "%s", name);
	/* Named from inside: naming another thread needs an open() of its
	 * /proc comm file, and picovm opens nothing once it is sandboxed. */
	prctl(PR_SET_NAME, thread_name, 0, 0, 0);
	if (!enabled)
		return 0;
	/* A finished program (bpf.h): no compiling at run time. */
	int len = sandbox_bpf_get(role, &fds, prog, SANDBOX_BPF_MAX);
	if (len < 0) {
		log_err("sandbox: thread %s: no seccomp program for its role", name);
		return -1;
	}
	struct sock_fprog fp = { .len = (unsigned short)len, .filter = prog };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) {
		log_err("sandbox: thread %s: loading its seccomp filter: %s", name,
			strerror(errno));
		return -1;
	}
	sandbox_test_hook(role);
	return 0;
}

#ifdef PICOVM_TEST_HOOKS
void sandbox_test_hook(enum sandbox_role role)
{
	static const char *const names[] = { "main", "vcpu", "io", "console",
						    "control", "gdb", "serial1",
						    "reaper" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == SANDBOX_NROLES,
		       "a name per role");
	const char *v = getenv("PICOVM_TEST_VIOLATE");
	size_t len = strlen(names[role]);

	if (!v || strncmp(v, names[role], len) != 0 || v[len] != ':')
		return;
	const char *kind = v + len + 1;
	if (strcmp(kind, "syscall") == 0)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (strcmp(kind, "mmap-exec") == 0)
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else if (strcmp(kind, "ioctl") == 0)
		syscall(SYS_ioctl, 0, 0xdeadbeefUL, 0);
}
#else
void sandbox_test_hook(enum sandbox_role role)
{
	(void)role;
}
#endif
