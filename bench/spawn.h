/* spawn_quiet: fork and exec cmd with stdin, stdout and stderr on
 * /dev/null (the benchmark tools exec2exit.c and rate.c).  Returns the
 * child's pid, or -1. */
#ifndef PICOVM_BENCH_SPAWN_H
#define PICOVM_BENCH_SPAWN_H

#include <fcntl.h>
#include <unistd.h>

static pid_t spawn_quiet(char **cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	return pid;
}

#endif
