/* Choosing and patching the precompiled seccomp programs; see bpf.h. */
#include "bpf.h"

#include <linux/seccomp.h>
#include <stddef.h>
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
	if (!b || b->len + 1u > cap)
		return -1;
	/* First, a load of the instruction pointer, which the program's own
	 * first instruction (libseccomp's load of the architecture, checked
	 * by genbpf and tests/unit/test_bpf.c) replaces at once: nothing
	 * uses it.  On attaching a filter the kernel precomputes its action
	 * cache (seccomp_cache_prepare) by emulating the program for every
	 * system call number of each architecture, and gives up at the first
	 * load of anything but the number and the architecture: with this
	 * load it gives up at once.  Measured here: a thread's filter
	 * attached in 12 us instead of 36-43 us (each vCPU thread's on the
	 * way to the guest's first instruction).  The cache would only have
	 * spared the (JIT-compiled) filter for calls allowed whatever their
	 * arguments, which none of picovm's busy paths make (KVM_RUN and
	 * io_uring_enter are checked by argument). */
	out[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, instruction_pointer));
	memcpy(out + 1, b->prog, b->len * sizeof(*out));
	out++;
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
	return b->len + 1;
}
