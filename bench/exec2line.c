/*
 * exec2line: runs a command many times and prints, one per line, the wall
 * time in ms from just before its fork+exec to the arrival of the first
 * line on its stderr that contains PATTERN: exec to that moment as seen
 * from outside, the command's own start-up (the C library's included)
 * counted.
 *
 *   exec2line RUNS EXPECTED-STATUS PATTERN -- COMMAND [ARGS...]
 *
 * A run whose stderr never carries PATTERN, or whose exit status differs
 * from EXPECTED-STATUS, aborts the benchmark: no figure is printed for it.
 * With EXEC2LINE_STDERR=FILE in the environment, the command's stderr is
 * also appended to FILE (for the other figures a line may carry).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One run: the ms to PATTERN's line, or -1 (said why). */
static double one_run(char **cmd, const char *pattern, int want, FILE *copy)
{
	int p[2];
	char line[4096];
	size_t len = 0;
	double at = -1;
	struct timespec t0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return perror("exec2line: pipe"), -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		return perror("exec2line: fork"), -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(p[1], 2);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (copy && fwrite(line + len, 1, (size_t)n, copy) != (size_t)n)
			return perror("exec2line: EXEC2LINE_STDERR"), -1;
		len += (size_t)n;
		line[len] = 0;
		char *nl;
		while (at < 0 && (nl = memchr(line, '\n', len))) {
			*nl = 0;
			if (strstr(line, pattern))
				at = ms_since(&t0);
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len);
		}
		if (at >= 0 || len == sizeof(line) - 1)
			len = 0;	/* found, or a line too long: drop it */
	}
	close(p[0]);
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return perror("exec2line: waitpid"), -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
		fprintf(stderr, "exec2line: %s ended with status %d (expected %d)\n",
			cmd[0], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
			want);
		return -1;
	}
	if (at < 0)
		fprintf(stderr, "exec2line: %s wrote no line with \"%s\"\n",
			cmd[0], pattern);
	return at;
}

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: exec2line RUNS EXPECTED-STATUS PATTERN -- CMD...\n");
		return 2;
	}
	int runs = atoi(argv[1]), want = atoi(argv[2]);
	if (runs < 1 || runs > 10000 || !argv[3][0])
		return 2;
	const char *name = getenv("EXEC2LINE_STDERR");
	FILE *copy = name ? fopen(name, "a") : NULL;
	if (name && !copy)
		return perror(name), 1;
	for (int i = 0; i < runs; i++) {
		double ms = one_run(argv + 5, argv[3], want, copy);
		if (ms < 0)
			return 1;
		printf("%.3f\n", ms);
	}
	if (copy && fclose(copy) != 0)
		return perror(name), 1;
	return 0;
}
