/*
 * subreap: runs a command as a child subreaper (PR_SET_CHILD_SUBREAPER), so
 * that every process the command leaves behind becomes ours and is waited
 * for.  t-lifecycle.sh uses it to see picovm's reaper end.
 *
 *   subreap CMD [ARGS...]
 *
 * Prints, in the order the processes end:
 *   status N                    the command's exit status (128+signal)
 *   orphan COMM status N        each process it left, once that ended
 * and exits with the command's status once no descendant is left.  A
 * descendant that never ends keeps it waiting: the caller's watchdog
 * decides.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The name of a dead, not yet waited for, process. */
static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	snprintf(buf, len, "?");
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: subreap CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		perror("subreap: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("subreap: fork");
		return 2;
	}
	if (child == 0) {
		execvp(argv[1], argv + 1);
		perror("subreap: exec");
		_exit(127);
	}
	int status = -1;
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		/* Look first (WNOWAIT), so that the name can still be read. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: nobody left */
		}
		char comm[64];
		comm_of(si.si_pid, comm, sizeof(comm));
		int st;
		if (waitpid(si.si_pid, &st, 0) < 0)
			continue;
		if (si.si_pid == child) {
			status = code(st);
			printf("status %d\n", status);
		} else {
			printf("orphan %s status %d\n", comm, code(st));
		}
		fflush(stdout);
	}
	return status < 0 ? 2 : status;
}
