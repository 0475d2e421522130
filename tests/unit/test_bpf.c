/*
 * The precompiled seccomp programs (seccomp/bpf_gen.c, what picovm loads)
 * against what libseccomp makes of the rule tables (seccomp/filters.c)
 * now: for every role and variant, with descriptors patched in, the same
 * instructions.  A table changed without regenerating, a variant missing,
 * or a sentinel left unpatched fails here.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../seccomp/bpf.h"
#include "../../seccomp/filters.h"

int main(void)
{
	/* Descriptors as picovm might have them, none a sentinel. */
	const struct sandbox_fds real = { .ring_fd = 13, .snapshot = true,
					   .control_fd = 7, .control_dir_fd = 6 };
	char name[96];

	check("bpf: the generated table has programs", sandbox_bpf_count > 0,
	      "sandbox_bpf_count = 0");
	/* Every role, every combination of what the configuration adds. */
	for (int role = SANDBOX_MAIN; role <= SANDBOX_PIT; role++) {
		for (unsigned v = 0; v < 8; v++) {
			struct sandbox_fds fds;
			sandbox_variant_fds(v, &real, &fds);
			if (sandbox_variant((enum sandbox_role)role, &fds) != v)
				continue;	/* not a variant of this role */
			size_t want_len = 0;
			struct sock_filter *want = sandbox_compile(
				(enum sandbox_role)role, &fds, &want_len);
			struct sock_filter got[SANDBOX_BPF_MAX];
			int len = sandbox_bpf_get((enum sandbox_role)role, &fds, got,
						  SANDBOX_BPF_MAX);
			snprintf(name, sizeof(name), "bpf: role %d variant %u: the "
				 "embedded program is libseccomp's from the tables now",
				 role, v);
			check(name, want && len >= 0 && (size_t)len == want_len &&
			      memcmp(got, want, want_len * sizeof(*got)) == 0,
			      "embedded %d instructions, libseccomp %zu%s", len,
			      want_len, want && len >= 0 && (size_t)len == want_len ?
			      ", contents differ" : "");
			free(want);
		}
	}
	return check_failures ? 1 : 0;
}
