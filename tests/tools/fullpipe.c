/*
 * fullpipe [-s] SECS OUTFILE -- COMMAND [ARG...]
 *
 * Runs COMMAND with its stderr on a pipe (-s: a Unix stream socket, as
 * systemd gives a service) that is full from the start and that this
 * program does not read (a stderr nobody reads, at its worst: already
 * full, blocking for the writer).  Prints "full" once
 * COMMAND runs.  On SIGUSR1 (or when COMMAND ends) it starts reading:
 * everything COMMAND wrote from then on goes to OUTFILE (after the 4096
 * filler bytes, lines of '#'); "drained" is printed once the pipe was
 * first emptied.  Waits up to SECS for COMMAND to exit,
 * killing it after that, and prints "status=N" or "status=watchdog".
 * Exit status 0 unless something here failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t drain;

static void on_usr1(int sig)
{
	(void)sig;
	drain = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "fullpipe: %s: %s\n", what, strerror(errno));
	exit(2);
}

int main(int argc, char **argv)
{
	int p[2];

	int sock = argc > 1 && !strcmp(argv[1], "-s");

	argv += sock, argc -= sock;
	if (argc < 5 || strcmp(argv[3], "--")) {
		fputs("usage: fullpipe [-s] SECS OUTFILE -- COMMAND [ARG...]\n", stderr);
		return 2;
	}
	long secs = atol(argv[1]);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		die(argv[2]);
	signal(SIGUSR1, on_usr1);
	if (sock) {
		int small = 4096;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       0, p) < 0)
			die("socketpair");
		if (setsockopt(p[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) < 0)
			die("SO_SNDBUF");
	} else {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
			die("pipe");
		if (fcntl(p[1], F_SETPIPE_SZ, 4096) < 0)
			die("F_SETPIPE_SZ");
	}
	char line[64];
	memset(line, '#', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	while (write(p[1], line, sizeof(line)) == (ssize_t)sizeof(line))
		;
	if (errno != EAGAIN)
		die("filling the pipe");
	/* The writer's end blocks, as an inherited stderr does. */
	if (fcntl(p[1], F_SETFL, 0) < 0)
		die("F_SETFL");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (dup2(p[1], 2) < 0)
			_exit(127);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(p[1]);
	printf("full\n");
	fflush(stdout);
	int st = 0, done = 0, announced = 0;
	char buf[65536];
	for (long ticks = 0; !done && ticks < secs * 20; ticks++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			done = 1;
		if (drain || done) {
			ssize_t n;
			while ((n = read(p[0], buf, sizeof(buf))) > 0)
				if (write(out, buf, (size_t)n) != n)
					die("OUTFILE");
			if (!announced) {
				/* The pipe is empty now: what COMMAND
				 * writes next has room. */
				printf("drained\n");
				fflush(stdout);
				announced = 1;
			}
		}
		if (!done)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		printf("status=watchdog\n");
		return 0;
	}
	printf("status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
