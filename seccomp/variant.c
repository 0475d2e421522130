/* Which program variant a role needs (bpf.h); shared by picovm and the
 * build step that compiles the variants (genbpf.c). */
#include "bpf.h"

#include <stddef.h>
#include <string.h>

bool sandbox_logs(enum sandbox_role role)
{
	/* The control thread may sendto already; the reaper never logs. */
	return role != SANDBOX_CONTROL && role != SANDBOX_REAPER;
}

/* The roles that serve a listening socket: where its descriptor and its
 * folder's are in struct sandbox_fds.  The one mapping both functions
 * below use. */
static const struct {
	enum sandbox_role role;
	size_t sock, dir;
} serving[] = {
	{ SANDBOX_CONTROL, offsetof(struct sandbox_fds, control_fd),
	  offsetof(struct sandbox_fds, control_dir_fd) },
	{ SANDBOX_GDB, offsetof(struct sandbox_fds, gdb_fd),
	  offsetof(struct sandbox_fds, gdb_dir_fd) },
	{ SANDBOX_SERIAL1, offsetof(struct sandbox_fds, serial1_fd),
	  offsetof(struct sandbox_fds, serial1_dir_fd) },
};

/* role's entry in serving[], or -1. */
static int serving_index(enum sandbox_role role)
{
	for (size_t i = 0; i < sizeof(serving) / sizeof(serving[0]); i++)
		if (serving[i].role == role)
			return (int)i;
	return -1;
}

static int fd_at(const struct sandbox_fds *f, size_t off)
{
	int fd;

	memcpy(&fd, (const char *)f + off, sizeof(fd));
	return fd;
}

static void set_fd_at(struct sandbox_fds *f, size_t off, int fd)
{
	memcpy((char *)f + off, &fd, sizeof(fd));
}

unsigned sandbox_variant(enum sandbox_role role, const struct sandbox_fds *fds)
{
	unsigned v = 0;
	int k = serving_index(role);

	if (role == SANDBOX_MAIN && fds->snapshot)
		v |= SANDBOX_V_SNAPSHOT;
	if (k >= 0 && fd_at(fds, serving[k].sock) >= 0)
		v |= SANDBOX_V_SOCK;
	if (k >= 0 && fd_at(fds, serving[k].dir) >= 0)
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
	int k = serving_index(role);
	if (k >= 0 && (v & SANDBOX_V_SOCK))
		set_fd_at(out, serving[k].sock, fd_at(src, serving[k].sock));
	if (k >= 0 && (v & SANDBOX_V_DIR))
		set_fd_at(out, serving[k].dir, fd_at(src, serving[k].dir));
	/* A vCPU with the stub: its rules depend on the stub's being there,
	 * not on its descriptor. */
	if (role == SANDBOX_VCPU && (v & SANDBOX_V_VCPU_GDB))
		out->gdb_fd = src->gdb_fd;
}
