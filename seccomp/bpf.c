/* Choosing and patching the precompiled seccomp programs; see bpf.h. */
#include "bpf.h"

#include <stdint.h>
#include <string.h>

int sandbox_bpf_get(enum sandbox_role role, const struct sandbox_fds *fds,
		    struct sock_filter *out, size_t cap)
{
	unsigned v = sandbox_variant(role, fds);
	const struct sandbox_bpf *b = NULL;

	for (unsigned i = 0; i < sandbox_bpf_count; i++)
		if (sandbox_bpf_table[i].role == role &&
		    sandbox_bpf_table[i].variant == v)
			b = &sandbox_bpf_table[i];
	if (!b || b->len > cap)
		return -1;
	memcpy(out, b->prog, b->len * sizeof(*out));
	/* Descriptors are compared for equality (filters.c fd_rules): a
	 * jump-if-equal against the sentinel, the 32 low bits of the
	 * argument (the high ones are compared with 0 separately). */
	const struct { uint32_t sentinel; int fd; } fix[] = {
		{ SANDBOX_SENTINEL_RING, fds->ring_fd },
		{ SANDBOX_SENTINEL_CTL, fds->control_fd },
		{ SANDBOX_SENTINEL_DIR, fds->control_dir_fd },
		{ SANDBOX_SENTINEL_GDB, fds->gdb_fd },
		{ SANDBOX_SENTINEL_GDB_DIR, fds->gdb_dir_fd },
		{ SANDBOX_SENTINEL_S1, fds->serial1_fd },
		{ SANDBOX_SENTINEL_S1_DIR, fds->serial1_dir_fd },
	};
	for (unsigned i = 0; i < b->len; i++) {
		if (out[i].code != (BPF_JMP | BPF_JEQ | BPF_K))
			continue;
		for (unsigned j = 0; j < sizeof(fix) / sizeof(fix[0]); j++)
			if (out[i].k == fix[j].sentinel)
				out[i].k = (uint32_t)fix[j].fd;
	}
	return b->len;
}
