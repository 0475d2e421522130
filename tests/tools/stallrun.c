/*
 * stallrun [-p] [-t] [-w SECS] -- COMMAND [ARG...]
 *
 * Runs COMMAND with its stdout on a pipe (or with -p a pseudo-terminal,
 * also its stdin) that this program never reads, as a reader that stopped
 * reading would.  It waits until the output stalls (bytes pending and no
 * change for a second; at most 30 s), reads 512 bytes (so a writer that
 * waited for room wakes up and blocks again in a write larger than the
 * room: the case a stop must not wait for), waits for the stall again,
 * then with -t sends SIGTERM, and
 * waits up to SECS (default 20) for COMMAND to exit, killing it after
 * that.  Prints one line:
 *     stalled=yes|no pending=BYTES status=N|watchdog ms=M tty-restored=yes|no|-
 * ms: from the stall (or from the start, if it never stalled) to the exit;
 * tty-restored: with -p, whether the terminal's modes after the exit are
 * those before it.  Exit status 0 unless something here failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec t = { 0, 50 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

static int open_pty(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0)
		return -1;
	const char *name = ptsname(*master);
	*slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
	return *slave < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	int pty = 0, term = 0, watchdog = 20, opt;

	while ((opt = getopt(argc, argv, "ptw:")) != -1) {
		if (opt == 'p')
			pty = 1;
		else if (opt == 't')
			term = 1;
		else if (opt == 'w')
			watchdog = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: stallrun [-p] [-t] [-w SECS] -- COMMAND...\n");
		return 2;
	}
	int rd, wr;
	struct termios before, after;
	if (pty) {
		if (open_pty(&rd, &wr) < 0 || tcgetattr(wr, &before) < 0) {
			perror("stallrun: pty");
			return 1;
		}
	} else {
		int p[2];
		if (pipe(p) < 0) {
			perror("stallrun: pipe");
			return 1;
		}
		rd = p[0], wr = p[1];
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("stallrun: fork");
		return 1;
	}
	if (pid == 0) {
		int in = pty ? wr : open("/dev/null", O_RDONLY);
		setsid();
		if (in < 0 || dup2(in, 0) < 0 || dup2(wr, 1) < 0)
			_exit(127);
		close(rd);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	if (!pty)
		close(wr);	/* a pty's slave stays open: its modes are checked */
	long long t0 = now_ms(), changed = t0, stall_at = -1;
	int last = -1, status = -1, pending = 0, nudged = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		long long now = now_ms();
		if (stall_at < 0) {
			if (ioctl(rd, FIONREAD, &pending) < 0)
				pending = 0;
			if (pending != last) {
				last = pending;
				changed = now;
			} else if (pending > 0 && now - changed >= 1000 && !nudged) {
				char buf[512];
				nudged = read(rd, buf, sizeof(buf)) > 0;
				last = -1;
			} else if (pending > 0 && now - changed >= 1000) {
				stall_at = now;
				if (term)
					kill(pid, SIGTERM);
			}
			if (stall_at < 0 && now - t0 >= 30000)
				stall_at = -2, t0 = now;	/* never stalled */
		}
		long long from = stall_at >= 0 ? stall_at : t0;
		if (stall_at != -1 && now - from >= watchdog * 1000LL) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			status = -1;
			break;
		}
		nap();
	}
	long long end = now_ms();
	long long from = stall_at >= 0 ? stall_at : t0;
	const char *restored = "-";
	if (pty)
		restored = tcgetattr(wr, &after) == 0 &&
			   after.c_iflag == before.c_iflag &&
			   after.c_oflag == before.c_oflag &&
			   after.c_cflag == before.c_cflag &&
			   after.c_lflag == before.c_lflag ? "yes" : "no";
	char st[32];
	if (status < 0)
		snprintf(st, sizeof(st), "watchdog");
	else if (WIFEXITED(status))
		snprintf(st, sizeof(st), "%d", WEXITSTATUS(status));
	else
		snprintf(st, sizeof(st), "%d", 128 + WTERMSIG(status));
	printf("stalled=%s pending=%d status=%s ms=%lld tty-restored=%s\n",
	       stall_at >= 0 ? "yes" : "no", pending, st, end - from, restored);
	return 0;
}
