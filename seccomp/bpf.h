/*
 * The seccomp programs picovm loads, compiled at build time.  The rule
 * tables stay in filters.c, the one source; seccomp/genbpf (a host
 * program linking libseccomp) turns them into BPF at build time and writes
 * seccomp/bpf_gen.c, so picovm loads finished programs and never runs
 * libseccomp's compiler.  tests/unit/test_bpf.c checks that the embedded
 * programs are what libseccomp makes of the tables now.
 *
 * A rule that names one of picovm's descriptors (filters.c fd_rules) is
 * compiled against a sentinel value; sandbox_bpf_get() puts the real
 * descriptor in its place.  A role whose rules depend on what is
 * configured has one program per variant.
 */
#ifndef PICOVM_SECCOMP_BPF_H
#define PICOVM_SECCOMP_BPF_H

#include <linux/filter.h>
#include <stddef.h>

#include "sandbox.h"

/* Variant bits: what a role's program allows beyond its table. */
#define SANDBOX_V_SNAPSHOT	1u	/* main: snapshot_rules */
#define SANDBOX_V_SOCK		2u	/* control, gdb, serial1: accept4 on the
					   role's listening socket */
#define SANDBOX_V_DIR		4u	/* control, gdb, serial1: unlinkat in the
					   socket's folder */
#define SANDBOX_V_PASST		8u	/* main: wait4 WNOHANG (passt's reaping) */
#define SANDBOX_V_LOG_SEND	16u	/* roles that log: sendto fd 2 */
#define SANDBOX_V_VCPU_GDB	32u	/* vcpu with the gdb stub: int3 re-injection */
#define SANDBOX_V_ALL		64u	/* every variant number is below this */

/* Sentinels the descriptors are compiled as: no valid descriptor below
 * picovm's RLIMIT_NOFILE, and no syscall, ioctl or flag value. */
#define SANDBOX_SENTINEL_RING	0x7ffe0a01u
#define SANDBOX_SENTINEL_CTL	0x7ffe0a02u
#define SANDBOX_SENTINEL_DIR	0x7ffe0a03u
#define SANDBOX_SENTINEL_GDB	0x7ffe0a04u
#define SANDBOX_SENTINEL_GDB_DIR	0x7ffe0a05u
#define SANDBOX_SENTINEL_S1	0x7ffe0a06u
#define SANDBOX_SENTINEL_S1_DIR	0x7ffe0a07u

/* The longest program any role has (genbpf refuses to emit a longer one). */
#define SANDBOX_BPF_MAX SANDBOX_PROG_MAX

struct sandbox_bpf {
	enum sandbox_role role;
	unsigned variant;
	unsigned short len;
	const struct sock_filter *prog;
};

/* bpf_gen.c (generated). */
extern const struct sandbox_bpf sandbox_bpf_table[];
extern const unsigned sandbox_bpf_count;

/* The variant role needs for fds. */
unsigned sandbox_variant(enum sandbox_role role, const struct sandbox_fds *fds);
/* The descriptors of variant v: the sentinels (gen), or fds' own. */
void sandbox_variant_fds(enum sandbox_role role, unsigned v,
			 const struct sandbox_fds *real,
			 struct sandbox_fds *out);
/* Copies role's program for fds into out (room for cap instructions)
 * with the real descriptors in place of the sentinels, after one load
 * that only spares the kernel its action-cache precomputation (bpf.c).
 * Returns its length, or -1 when there is no such program or it does
 * not fit. */
int sandbox_bpf_get(enum sandbox_role role, const struct sandbox_fds *fds,
		    struct sock_filter *out, size_t cap);

#endif
