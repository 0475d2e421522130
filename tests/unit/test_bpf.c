/*
 * The precompiled seccomp programs (seccomp/bpf_gen.c, what picovm loads)
 * against what libseccomp makes of the rule tables (seccomp/filters.c)
 * now: for every role and variant, with descriptors patched in, the same
 * instructions.  A table changed without regenerating, a variant missing,
 * or a sentinel left unpatched fails here.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "../../seccomp/bpf.h"
#include "../../seccomp/filters.h"

/* A child loads the reaper's embedded program (vm/reaper.c) and makes
 * the PIT call it allows (on a bad descriptor: EBADF, exit 0) or, with
 * forbidden set, one it does not.  Returns the child's wait status. */
static int reaper_child(bool forbidden)
{
	pid_t pid = fork();

	if (pid == 0) {
		const struct sandbox_fds none = { .ring_fd = -1, .control_fd = -1,
						   .control_dir_fd = -1 };
		struct sock_filter prog[SANDBOX_BPF_MAX];
		int len = sandbox_bpf_get(SANDBOX_REAPER, &none, prog, SANDBOX_BPF_MAX);
		struct sock_fprog fp = { .len = (unsigned short)len, .filter = prog };
		if (len <= 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
			_exit(3);
		if (forbidden)
			syscall(SYS_getppid);
		long r = syscall(SYS_ioctl, -1, KVM_REINJECT_CONTROL, 0);
		syscall(SYS_exit, r < 0 && errno == EBADF ? 0 : 1);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return st;
}

int main(void)
{
	/* Descriptors as picovm might have them, none a sentinel. */
	const struct sandbox_fds real = { .ring_fd = 13, .snapshot = true,
					   .control_fd = 7, .control_dir_fd = 6,
					   .passt = true, .log_send = true,
					   .gdb_fd = 9, .gdb_dir_fd = 10,
					   .serial1_fd = 11, .serial1_dir_fd = 12 };
	char name[160];

	check("bpf: the generated table has programs", sandbox_bpf_count > 0,
	      "sandbox_bpf_count = 0");
	/* Every role, every combination of what the configuration adds. */
	for (int role = SANDBOX_MAIN; role < SANDBOX_NROLES; role++) {
		for (unsigned v = 0; v < SANDBOX_V_ALL; v++) {
			struct sandbox_fds fds;
			sandbox_variant_fds((enum sandbox_role)role, v, &real, &fds);
			if (sandbox_variant((enum sandbox_role)role, &fds) != v)
				continue;	/* not a variant of this role */
			size_t want_len = 0;
			struct sock_filter *want = sandbox_compile(
				(enum sandbox_role)role, &fds, &want_len);
			struct sock_filter got[SANDBOX_BPF_MAX];
			int len = sandbox_bpf_get((enum sandbox_role)role, &fds, got,
						  SANDBOX_BPF_MAX);
			snprintf(name, sizeof(name), "bpf: role %d variant %u: the "
				 "embedded program is libseccomp's from the tables now, "
				 "after a load its first instruction replaces",
				 role, v);
			/* sandbox_bpf_get()'s load of the instruction pointer,
			 * then libseccomp's program, which starts with a load
			 * (of the architecture): the first load is unused. */
			const struct sock_filter ip = BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				offsetof(struct seccomp_data, instruction_pointer));
			check(name, want && len >= 1 && (size_t)len == want_len + 1 &&
			      memcmp(&got[0], &ip, sizeof(ip)) == 0 &&
			      want[0].code == (BPF_LD | BPF_W | BPF_ABS) &&
			      memcmp(got + 1, want, want_len * sizeof(*got)) == 0,
			      "embedded %d instructions, libseccomp %zu%s", len,
			      want_len, want && len >= 1 && (size_t)len == want_len + 1 ?
			      ", contents differ" : "");
			free(want);
		}
	}
	/* The embedded programs work as filters: the reaper's, loaded. */
	int st = reaper_child(false);
	check("bpf: the reaper's filter allows KVM_REINJECT_CONTROL and exit",
	      st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %#x", st);
	st = reaper_child(true);
	check("bpf: the reaper's filter traps any other call (SIGSYS)",
	      st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	      "wait status %#x", st);
	return check_failures ? 1 : 0;
}
