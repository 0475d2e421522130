/*
 * exec2exit: runs a command many times and prints the median wall time
 * from fork+exec to its exit, the median CPU time it used (user + system,
 * from wait4's rusage, so helper threads count) and its peak RSS.
 *
 *   exec2exit LABEL RUNS EXPECTED-STATUS -- COMMAND [ARGS...]
 *
 * One output line: LABEL wall_ms=M cpu_ms=C maxrss_kib=R runs=N
 * With EXEC2EXIT_SAMPLES=FILE in the environment, each run's wall time
 * (ms) is also appended to FILE, one per line (the distribution plot).
 * A run whose exit status differs from EXPECTED-STATUS aborts the
 * benchmark (a figure for a command that failed means nothing).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: exec2exit LABEL RUNS EXPECTED-STATUS -- CMD...\n");
		return 2;
	}
	int runs = atoi(argv[2]), want = atoi(argv[3]);
	if (runs < 1 || runs > 10000)
		return 2;
	double *wall = calloc((size_t)runs, sizeof(double));
	double *cpu = calloc((size_t)runs, sizeof(double));
	long maxrss = 0;
	for (int i = 0; i < runs; i++) {
		struct timespec t0, t1;
		struct rusage ru;
		int st;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid_t pid = spawn_quiet(argv + 5);
		if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
			perror("exec2exit");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
			fprintf(stderr, "exec2exit: %s: run %d ended with status %d "
				"(expected %d)\n", argv[1], i, WIFEXITED(st) ?
				WEXITSTATUS(st) : 128 + WTERMSIG(st), want);
			return 1;
		}
		wall[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		cpu[i] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
			 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
	}
	const char *samples = getenv("EXEC2EXIT_SAMPLES");
	FILE *sf = samples ? fopen(samples, "a") : NULL;
	if (samples && !sf) {
		perror(samples);
		return 1;
	}
	for (int i = 0; sf && i < runs; i++)
		fprintf(sf, "%.3f\n", wall[i]);
	if (sf && fclose(sf) != 0) {
		perror(samples);
		return 1;
	}
	printf("%-28s wall_ms=%.2f cpu_ms=%.2f maxrss_kib=%ld runs=%d\n", argv[1],
	       median(wall, runs), median(cpu, runs), maxrss, runs);
	return 0;
}
