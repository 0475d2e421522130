/* The per-role seccomp rule tables (filters.c). */
#ifndef PICOVM_SECCOMP_FILTERS_H
#define PICOVM_SECCOMP_FILTERS_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "sandbox.h"

/* Builds role's filter (default action: trap).  Returns 0 or -errno. */
int sandbox_build(enum sandbox_role role, const struct sandbox_fds *fds,
		  scmp_filter_ctx *out);
/* Role's program as libseccomp compiles it (build time and tests only):
 * malloc'd, *len instructions; NULL on failure. */
struct sock_filter *sandbox_compile(enum sandbox_role role,
				    const struct sandbox_fds *fds, size_t *len);
/* Distinct system calls role allows, and its ioctl request numbers. */
unsigned sandbox_count(enum sandbox_role role, unsigned *ioctls);

#endif
