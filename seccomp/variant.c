/* Which program variant a role needs (bpf.h); shared by picovm and the
 * build step that compiles the variants (genbpf.c). */
#include "bpf.h"

bool sandbox_logs(enum sandbox_role role)
{
	/* The control thread may sendto already; the PIT helper never logs. */
	return role != SANDBOX_CONTROL && role != SANDBOX_PIT;
}

unsigned sandbox_variant(enum sandbox_role role, const struct sandbox_fds *fds)
{
	unsigned v = 0;

	if (role == SANDBOX_MAIN && fds->snapshot)
		v |= SANDBOX_V_SNAPSHOT;
	if (role == SANDBOX_CONTROL && fds->control_fd >= 0)
		v |= SANDBOX_V_CONTROL_SOCK;
	if (role == SANDBOX_CONTROL && fds->control_dir_fd >= 0)
		v |= SANDBOX_V_CONTROL_DIR;
	if (role == SANDBOX_MAIN && fds->passt)
		v |= SANDBOX_V_PASST;
	if (fds->log_send && sandbox_logs(role))
		v |= SANDBOX_V_LOG_SEND;
	return v;
}

void sandbox_variant_fds(unsigned v, const struct sandbox_fds *real,
			 struct sandbox_fds *out)
{
	out->ring_fd = real ? real->ring_fd : (int)SANDBOX_SENTINEL_RING;
	out->snapshot = v & SANDBOX_V_SNAPSHOT;
	out->passt = v & SANDBOX_V_PASST;
	out->log_send = v & SANDBOX_V_LOG_SEND;
	out->control_fd = !(v & SANDBOX_V_CONTROL_SOCK) ? -1 :
			  real ? real->control_fd : (int)SANDBOX_SENTINEL_CTL;
	out->control_dir_fd = !(v & SANDBOX_V_CONTROL_DIR) ? -1 :
			      real ? real->control_dir_fd : (int)SANDBOX_SENTINEL_DIR;
}
