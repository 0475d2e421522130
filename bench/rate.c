/*
 * rate: how many times per second a command can be started and run to its
 * end, by PARALLEL launchers at once (each runs its share one after the
 * other).  The VMs-per-second figure of bench/run.sh.
 *
 *   rate LABEL COUNT PARALLEL EXPECTED-STATUS -- COMMAND [ARGS...]
 *
 * One output line: LABEL per_s=R count=N parallel=P
 * Any run whose exit status differs from EXPECTED-STATUS aborts the
 * benchmark with status 1 and no figure.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

/* Runs the command n times in a row; 0 when every run ended as wanted. */
static int launcher(int n, int want, char **cmd)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = spawn_quiet(cmd);
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			return 1;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
			fprintf(stderr, "rate: run ended with status %d (expected %d)\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), want);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 7 || strcmp(argv[5], "--") != 0) {
		fprintf(stderr, "usage: rate LABEL COUNT PARALLEL EXPECTED-STATUS -- CMD...\n");
		return 2;
	}
	int count = atoi(argv[2]), par = atoi(argv[3]), want = atoi(argv[4]);
	if (count < 1 || par < 1 || par > 64 || count % par)
		return 2;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int p = 0; p < par; p++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(launcher(count / par, want, argv + 6));
		if (pid < 0)
			return 1;
	}
	int failed = 0, st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (failed)
		return 1;
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%-28s per_s=%.1f count=%d parallel=%d\n", argv[1], count / secs,
	       count, par);
	return 0;
}
