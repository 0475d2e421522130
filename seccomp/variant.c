/* Which program variant a role needs (bpf.h); shared by picovm and the
 * build step that compiles the variants (genbpf.c). */
#include "bpf.h"

bool sandbox_logs(enum sandbox_role role)
{
	/* The control thread may sendto already; the PIT helper never logs. */
	return role != SANDBOX_CONTROL && role != SANDBOX_PIT;
}

/* The listening socket and folder of a role that serves one (or NULL). */
static const int *role_sock(enum sandbox_role role, const struct sandbox_fds *f,
			    const int **dir)
{
	switch (role) {
	case SANDBOX_CONTROL:
		*dir = &f->control_dir_fd;
		return &f->control_fd;
	case SANDBOX_GDB:
		*dir = &f->gdb_dir_fd;
		return &f->gdb_fd;
	case SANDBOX_SERIAL1:
		*dir = &f->serial1_dir_fd;
		return &f->serial1_fd;
	default:
		*dir = NULL;
		return NULL;
	}
}

unsigned sandbox_variant(enum sandbox_role role, const struct sandbox_fds *fds)
{
	unsigned v = 0;
	const int *dir, *sock = role_sock(role, fds, &dir);

	if (role == SANDBOX_MAIN && fds->snapshot)
		v |= SANDBOX_V_SNAPSHOT;
	if (sock && *sock >= 0)
		v |= SANDBOX_V_SOCK;
	if (sock && *dir >= 0)
		v |= SANDBOX_V_DIR;
	if (role == SANDBOX_MAIN && fds->passt)
		v |= SANDBOX_V_PASST;
	if (fds->log_send && sandbox_logs(role))
		v |= SANDBOX_V_LOG_SEND;
	if (role == SANDBOX_VCPU && fds->gdb_fd >= 0)
		v |= SANDBOX_V_VCPU_GDB;
	return v;
}

void sandbox_variant_fds(enum sandbox_role role, unsigned v,
			 const struct sandbox_fds *real, struct sandbox_fds *out)
{
	const struct sandbox_fds none = {
		.ring_fd = (int)SANDBOX_SENTINEL_RING,
		.control_fd = (int)SANDBOX_SENTINEL_CTL,
		.control_dir_fd = (int)SANDBOX_SENTINEL_DIR,
		.gdb_fd = (int)SANDBOX_SENTINEL_GDB,
		.gdb_dir_fd = (int)SANDBOX_SENTINEL_GDB_DIR,
		.serial1_fd = (int)SANDBOX_SENTINEL_S1,
		.serial1_dir_fd = (int)SANDBOX_SENTINEL_S1_DIR,
	};
	const struct sandbox_fds *src = real ? real : &none;

	/* Every descriptor absent but the ring, then the role's own. */
	*out = (struct sandbox_fds){ .ring_fd = src->ring_fd, .control_fd = -1,
				     .control_dir_fd = -1, .gdb_fd = -1,
				     .gdb_dir_fd = -1, .serial1_fd = -1,
				     .serial1_dir_fd = -1 };
	out->snapshot = v & SANDBOX_V_SNAPSHOT;
	out->passt = v & SANDBOX_V_PASST;
	out->log_send = v & SANDBOX_V_LOG_SEND;
	bool sock = v & SANDBOX_V_SOCK, dir = v & SANDBOX_V_DIR;
	switch (role) {
	case SANDBOX_CONTROL:
		out->control_fd = sock ? src->control_fd : -1;
		out->control_dir_fd = dir ? src->control_dir_fd : -1;
		break;
	case SANDBOX_GDB:
		out->gdb_fd = sock ? src->gdb_fd : -1;
		out->gdb_dir_fd = dir ? src->gdb_dir_fd : -1;
		break;
	case SANDBOX_SERIAL1:
		out->serial1_fd = sock ? src->serial1_fd : -1;
		out->serial1_dir_fd = dir ? src->serial1_dir_fd : -1;
		break;
	default:
		break;
	}
	/* A vCPU with the stub: its rules depend on the stub's being there,
	 * not on its descriptor. */
	if (role == SANDBOX_VCPU && (v & SANDBOX_V_VCPU_GDB))
		out->gdb_fd = src->gdb_fd;
}
