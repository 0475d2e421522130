/*
 * The gdb stub's socket and thread (gdb.h): one client at a time (a
 * second is refused), read and answered without ever blocking on the
 * peer (a reply that does not fit the socket drops the client, as a
 * disconnect would), every packet bounded by packet.c.  The vCPUs are
 * touched only through target.c, and only while they are parked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "../config/config.h"
#include "../seccomp/sandbox.h"
#include "../vm/log.h"
#include "../vm/machine.h"
#include "../vm/pause.h"
#include "../vm/usock.h"
#include "../vm/vm.h"
#include "../vm/thread.h"

#define EXIT_VM_GDB_KILL 137	/* gdb's kill: as `picovm ctl NAME kill` */

/* ---- the socket ---- */

static int open_tcp(struct gdb *g, const char *spec)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned long port = strtoul(strchr(spec, ':') + 1, NULL, 10);
	int one = 1;

	a.sin_port = htons((uint16_t)port);
	g->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (g->fd < 0) {
		log_err("gdb: socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(g->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(g->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(g->fd, 1) < 0) {
		log_err("gdb: %s: %s", spec, strerror(errno));
		return -2;
	}
	return 0;
}

/* unlink: remove a unix socket too (not from a sandboxed main thread). */
static void gdb_free(struct gdb *g, bool unlink)
{
	struct usock u = { .fd = g->fd, .dir_fd = g->dir_fd };

	memcpy(u.base, g->base, sizeof(u.base));
	usock_close(&u, unlink);
	int fds[] = { g->client, g->efd, g->reserved[0], g->reserved[1] };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(g->ev);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int gdb_open(const struct config *c, struct gdb **out)
{
	*out = NULL;
	if (!c->gdb || !*c->gdb)
		return 0;
	struct gdb *g = calloc(1, sizeof(*g));
	if (!g) {
		log_err("gdb: out of memory");
		return -1;
	}
	g->fd = g->dir_fd = g->client = -1;
	g->reserved[0] = g->reserved[1] = -1;
	g->step_cpu = -1;
	g->wait = c->gdb_wait;
	pthread_mutex_init(&g->lock, NULL);
	g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int ret = -1;
	if (g->efd >= 0 && strncmp(c->gdb, "unix:", 5) == 0) {
		struct usock u;
		ret = usock_listen(&u, "gdb", c->gdb + 5);
		g->fd = u.fd;
		g->dir_fd = u.dir_fd;
		memcpy(g->base, u.base, sizeof(g->base));
	} else if (g->efd >= 0) {
		ret = open_tcp(g, c->gdb);
	}
	for (unsigned i = 0; ret == 0 && i < 2; i++)
		if ((g->reserved[i] = fcntl(g->efd, F_DUPFD_CLOEXEC, 0)) < 0)
			ret = -1;
	if (ret < 0) {
		if (ret == -1)
			log_err("gdb: cannot listen on %s: %s", c->gdb, strerror(errno));
		gdb_free(g, true);
		return ret;
	}
	*out = g;
	return 0;
}

void gdb_sandbox_fds(const struct gdb *g, struct sandbox_fds *f)
{
	f->gdb_fd = g ? g->fd : -1;
	f->gdb_dir_fd = g ? g->dir_fd : -1;
}

int gdb_attach(struct gdb *g, struct vm *vm)
{
	if (!g)
		return 0;
	g->vm = vm;
	g->m = &vm->m;
	g->nvcpus = vm->nvcpus;
	g->ev = calloc(vm->nvcpus, sizeof(*g->ev));
	if (!g->ev) {
		log_err("gdb: out of memory");
		return -1;
	}
	int mask = ioctl(vm->m.kvm.fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	g->blockirq = mask > 0 && (mask & KVM_GUESTDBG_BLOCKIRQ);
	vm->m.gdb = g;
	/* Parked before their first instruction (vcpu.c's first pause
	 * point runs no guest code) until gdb connects and continues. */
	if (g->wait)
		machine_pause_hold(&vm->m, MACHINE_PAUSE_GDB);
	return 0;
}

/* ---- talking to the peer ---- */

static void drop_client(struct gdb *g);

static void send_raw(struct gdb *g, const char *buf, size_t len)
{
	if (g->client < 0)
		return;
	ssize_t n = send(g->client, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 || (size_t)n != len)
		drop_client(g);	/* a peer that does not read is gone */
}

static void reply(struct gdb *g, const char *payload, size_t len)
{
	char out[2 * GDB_PKT_MAX + 8];
	size_t n = gdb_frame(out, sizeof(out), payload, len);

	if (n)
		send_raw(g, out, n);
}

static void reply_str(struct gdb *g, const char *s)
{
	reply(g, s, strlen(s));
}

static void reply_err(struct gdb *g, int err)
{
	char s[8];

	snprintf(s, sizeof(s), "E%02x", err & 0xff);
	reply_str(g, s);
}

/* ---- stopping and resuming the VM ---- */

/* Every vCPU parked, gdb holding the pause.  False when the VM stops. */
static bool stop_all(struct gdb *g)
{
	if (g->stopped)
		return true;
	machine_solo(g->m, -1);
	pthread_mutex_lock(&g->m->pause_op);
	bool ok = vm_pause_vcpus(g->vm, MACHINE_PAUSE_GDB);
	pthread_mutex_unlock(&g->m->pause_op);
	g->stopped = ok;
	g->running = false;
	g->step_cpu = -1;
	return ok;
}

/* The stop reply for vCPU cpu's event (consumed). */
static void stop_reply_for(struct gdb *g, unsigned cpu, int sig)
{
	struct gdb_ev ev;
	char why[48] = "";

	pthread_mutex_lock(&g->lock);
	ev = g->ev[cpu];
	g->ev[cpu].kind = EV_NONE;
	pthread_mutex_unlock(&g->lock);
	switch (ev.kind) {
	case EV_SWBREAK: snprintf(why, sizeof(why), "swbreak:;"); break;
	case EV_HWBREAK: snprintf(why, sizeof(why), "hwbreak:;"); break;
	case EV_WATCH:
		snprintf(why, sizeof(why), "%s:%llx;",
			 ev.wtype == GDB_WP_WRITE ? "watch" :
			 ev.wtype == GDB_WP_READ ? "rwatch" : "awatch",
			 (unsigned long long)ev.addr);
		break;
	default: break;
	}
	snprintf(g->stop_reply, sizeof(g->stop_reply), "T%02xthread:%x;%s", sig,
		 cpu + 1, why);
	g->g_cpu = g->c_cpu = cpu;
}

/* A vCPU with an event still to report: a software breakpoint that gdb
 * has removed since is dropped (the vCPU is still at that instruction
 * and runs the guest's own byte when it goes on). */
static int pending_event(struct gdb *g)
{
	int found = -1;

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->nvcpus && found < 0; i++) {
		struct gdb_ev *e = &g->ev[i];
		bool gone = true;
		for (unsigned k = 0; e->kind == EV_SWBREAK && k < g->nsw; k++)
			gone = gone && g->sw[k].va != e->addr;
		if (e->kind == EV_SWBREAK && gone)
			e->kind = EV_NONE;
		if (e->kind != EV_NONE)
			found = (int)i;
	}
	pthread_mutex_unlock(&g->lock);
	return found;
}

/* c, s, vCont: step_cpu runs alone for one instruction, or (-1) every
 * vCPU runs.  An event not yet reported is reported at once instead. */
static void resume(struct gdb *g, int step_cpu)
{
	int cpu = pending_event(g);

	if (cpu >= 0) {
		stop_reply_for(g, (unsigned)cpu, 5);
		reply_str(g, g->stop_reply);
		return;
	}
	int ret = target_debug_apply(g, step_cpu);
	if (ret < 0) {
		log_err("gdb: KVM_SET_GUEST_DEBUG: %s", strerror(-ret));
		reply_err(g, -ret);
		return;
	}
	g->running = true;
	g->stopped = false;
	g->step_cpu = step_cpu;
	if (step_cpu >= 0) {
		machine_solo(g->m, step_cpu);	/* the others stay parked */
		return;
	}
	pthread_mutex_lock(&g->m->pause_op);
	(void)vm_resume_vcpus(g->vm, MACHINE_PAUSE_GDB);
	pthread_mutex_unlock(&g->m->pause_op);
}

/* A vCPU reported an event (efd): stop the rest and tell gdb. */
static void check_events(struct gdb *g)
{
	if (!g->running)
		return;
	int cpu = pending_event(g);
	if (cpu < 0)
		return;
	if (!stop_all(g))
		return;
	stop_reply_for(g, (unsigned)cpu, 5);
	reply_str(g, g->stop_reply);
}

/* Detach, kill or a vanished peer: no breakpoint stays, the VM runs. */
static void release_vm(struct gdb *g)
{
	if (!stop_all(g))
		return;
	target_bp_clear(g);
	pthread_mutex_lock(&g->lock);
	memset(g->ev, 0, g->nvcpus * sizeof(*g->ev));
	pthread_mutex_unlock(&g->lock);
	int ret = target_debug_apply(g, -1);
	if (ret < 0)
		log_err("gdb: KVM_SET_GUEST_DEBUG: %s", strerror(-ret));
	g->stopped = false;
	pthread_mutex_lock(&g->m->pause_op);
	(void)vm_resume_vcpus(g->vm, MACHINE_PAUSE_GDB);
	pthread_mutex_unlock(&g->m->pause_op);
}

static void drop_client(struct gdb *g)
{
	if (g->client < 0)
		return;
	close(g->client);
	g->client = -1;
	release_vm(g);
}

/* ---- the packets ---- */

/* A thread id to a vCPU index: -1 when there is no such thread. */
static int tid_cpu(const struct gdb *g, long tid, unsigned current)
{
	if (tid == GDB_TID_ANY || tid == GDB_TID_ALL)
		return (int)current;
	return tid >= 1 && (unsigned long)tid <= g->nvcpus ? (int)(tid - 1) : -1;
}

static void cmd_regs(struct gdb *g, const struct gdb_cmd *cmd)
{
	struct gdb_cpu c;
	uint8_t raw[GDB_REGS_BYTES];
	char hex[2 * GDB_REGS_BYTES];
	int ret = target_get(g, g->g_cpu, &c);

	if (ret < 0) {
		reply_err(g, -ret);
		return;
	}
	switch (cmd->kind) {
	case GDB_CMD_READ_REGS:
		gdb_regs_get(&c, raw);
		gdb_hex_encode(hex, raw, sizeof(raw));
		reply(g, hex, sizeof(hex));
		return;
	case GDB_CMD_READ_REG: {
		size_t n = gdb_reg_size(cmd->reg);
		if (!n) {
			reply_err(g, EINVAL);
			return;
		}
		gdb_reg_get(&c, cmd->reg, raw);
		gdb_hex_encode(hex, raw, n);
		reply(g, hex, 2 * n);
		return;
	}
	case GDB_CMD_WRITE_REGS:
		if (cmd->datalen != sizeof(hex) ||
		    gdb_hex_decode(raw, cmd->data, sizeof(raw)) < 0) {
			reply_err(g, EINVAL);
			return;
		}
		gdb_regs_set(&c, raw);
		break;
	default: {	/* GDB_CMD_WRITE_REG */
		size_t n = gdb_reg_size(cmd->reg);
		if (!n || cmd->datalen != 2 * n ||
		    gdb_hex_decode(raw, cmd->data, n) < 0) {
			reply_err(g, EINVAL);
			return;
		}
		gdb_reg_set(&c, cmd->reg, raw);
		break;
	}
	}
	ret = target_set(g, g->g_cpu, &c);
	if (ret < 0)
		reply_err(g, -ret);
	else
		reply_str(g, "OK");
}

static void cmd_mem(struct gdb *g, const struct gdb_cmd *cmd)
{
	uint8_t buf[GDB_MEM_MAX];
	char hex[2 * GDB_MEM_MAX];

	if (cmd->kind == GDB_CMD_READ_MEM) {
		uint64_t len = cmd->len < GDB_MEM_MAX ? cmd->len : GDB_MEM_MAX;
		uint64_t n = target_read(g, g->g_cpu, cmd->addr, buf, len);
		if (n == 0 && len > 0) {
			reply_err(g, EFAULT);
			return;
		}
		gdb_hex_encode(hex, buf, n);
		reply(g, hex, 2 * n);
		return;
	}
	if (gdb_hex_decode(buf, cmd->data, cmd->len) < 0) {
		reply_err(g, EINVAL);
		return;
	}
	if (target_write(g, g->g_cpu, cmd->addr, buf, cmd->len) < 0)
		reply_err(g, EFAULT);
	else
		reply_str(g, "OK");
}

static void cmd_xfer(struct gdb *g, const struct gdb_cmd *cmd)
{
	const char *xml = gdb_target_xml();
	size_t size = strlen(xml);
	char out[GDB_PKT_MAX];

	if (strcmp(cmd->annex, "target.xml") != 0) {
		reply_err(g, ENOENT);
		return;
	}
	if (cmd->addr >= size) {
		reply_str(g, "l");
		return;
	}
	size_t n = size - cmd->addr;
	size_t max = cmd->len < sizeof(out) / 2 ? cmd->len : sizeof(out) / 2;
	bool last = n <= max;
	if (!last)
		n = max;
	out[0] = last ? 'l' : 'm';
	memcpy(out + 1, xml + cmd->addr, n);
	reply(g, out, n + 1);
}

static void cmd_threads(struct gdb *g)
{
	char out[GDB_PKT_MAX];
	size_t n = 0;

	out[n++] = 'm';
	for (unsigned i = 0; i < g->nvcpus && n + 12 < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%x",
				      i ? "," : "", i + 1);
	reply(g, out, n);
}

/* Commands that need the VM stopped: answered E16 (EBUSY) while it runs
 * (only a confused or hostile peer sends them then). */
static bool needs_stop(enum gdb_cmd_kind k)
{
	switch (k) {
	case GDB_CMD_READ_REGS: case GDB_CMD_WRITE_REGS: case GDB_CMD_READ_REG:
	case GDB_CMD_WRITE_REG: case GDB_CMD_READ_MEM: case GDB_CMD_WRITE_MEM:
	case GDB_CMD_CONT: case GDB_CMD_STEP: case GDB_CMD_VCONT:
	case GDB_CMD_BP_INSERT: case GDB_CMD_BP_REMOVE:
		return true;
	default:
		return false;
	}
}

static void handle(struct gdb *g, const char *pkt, size_t len)
{
	struct gdb_cmd cmd;
	char s[96];
	int cpu, ret;

	gdb_parse(pkt, len, &cmd);
	if (needs_stop(cmd.kind) && !g->stopped) {
		reply_err(g, EBUSY);
		return;
	}
	switch (cmd.kind) {
	case GDB_CMD_UNKNOWN:
		reply(g, "", 0);
		return;
	case GDB_CMD_BAD:
		reply_err(g, 1);
		return;
	case GDB_CMD_HALT_REASON:
		reply_str(g, g->stop_reply[0] ? g->stop_reply : "S05");
		return;
	case GDB_CMD_READ_REGS: case GDB_CMD_WRITE_REGS:
	case GDB_CMD_READ_REG: case GDB_CMD_WRITE_REG:
		cmd_regs(g, &cmd);
		return;
	case GDB_CMD_READ_MEM: case GDB_CMD_WRITE_MEM:
		cmd_mem(g, &cmd);
		return;
	case GDB_CMD_CONT: case GDB_CMD_STEP: case GDB_CMD_VCONT:
		if (cmd.has_addr) {	/* resume at addr: a write of rip */
			struct gdb_cpu c;
			if (target_get(g, g->c_cpu, &c) == 0) {
				c.regs.rip = cmd.addr;
				(void)target_set(g, g->c_cpu, &c);
			}
		}
		if (cmd.kind == GDB_CMD_VCONT && cmd.vcont_step) {
			cpu = tid_cpu(g, cmd.tid, g->c_cpu);
			if (cpu < 0) {
				reply_err(g, ESRCH);
				return;
			}
			resume(g, cpu);
		} else {
			resume(g, cmd.kind == GDB_CMD_STEP ? (int)g->c_cpu : -1);
		}
		return;
	case GDB_CMD_VCONT_QUERY:
		reply_str(g, "vCont;c;C;s;S");
		return;
	case GDB_CMD_BP_INSERT: case GDB_CMD_BP_REMOVE:
		ret = cmd.kind == GDB_CMD_BP_INSERT ?
		      target_bp_insert(g, g->g_cpu, cmd.type, cmd.addr, cmd.len) :
		      target_bp_remove(g, g->g_cpu, cmd.type, cmd.addr, cmd.len);
		if (ret < 0)
			reply_err(g, -ret);
		else
			reply_str(g, "OK");
		return;
	case GDB_CMD_SET_THREAD:
		cpu = tid_cpu(g, cmd.tid, cmd.type == 'g' ? g->g_cpu : g->c_cpu);
		if (cpu < 0) {
			reply_err(g, ESRCH);
			return;
		}
		if (cmd.type == 'g')
			g->g_cpu = (unsigned)cpu;
		else
			g->c_cpu = (unsigned)cpu;
		reply_str(g, "OK");
		return;
	case GDB_CMD_THREAD_ALIVE:
		if (tid_cpu(g, cmd.tid, 0) < 0 || cmd.tid <= 0)
			reply_err(g, ESRCH);
		else
			reply_str(g, "OK");
		return;
	case GDB_CMD_SUPPORTED:
		snprintf(s, sizeof(s), "PacketSize=%x;qXfer:features:read+;swbreak+;"
			 "hwbreak+;vContSupported+;QStartNoAckMode+", GDB_PKT_MAX);
		reply_str(g, s);
		return;
	case GDB_CMD_XFER_FEATURES:
		cmd_xfer(g, &cmd);
		return;
	case GDB_CMD_THREAD_FIRST:
		cmd_threads(g);
		return;
	case GDB_CMD_THREAD_NEXT:
		reply_str(g, "l");
		return;
	case GDB_CMD_THREAD_EXTRA: {
		char name[24], hex[48];
		cpu = tid_cpu(g, cmd.tid, g->g_cpu);
		if (cpu < 0) {
			reply_err(g, ESRCH);
			return;
		}
		int n = snprintf(name, sizeof(name), "vCPU %d", cpu);
		gdb_hex_encode(hex, (const uint8_t *)name, (size_t)n);
		reply(g, hex, 2 * (size_t)n);
		return;
	}
	case GDB_CMD_CURRENT_THREAD:
		snprintf(s, sizeof(s), "QC%x", g->g_cpu + 1);
		reply_str(g, s);
		return;
	case GDB_CMD_ATTACHED:
		reply_str(g, "1");
		return;
	case GDB_CMD_NO_ACK:
		reply_str(g, "OK");
		g->no_ack = true;
		return;
	case GDB_CMD_KILL:
		reply_str(g, "OK");
		machine_stop(g->m, EXIT_VM_GDB_KILL, "gdb: the debugger killed the VM");
		return;
	case GDB_CMD_DETACH:
		reply_str(g, "OK");
		drop_client(g);
		return;
	}
}

static void client_read(struct gdb *g)
{
	uint8_t buf[4096];
	ssize_t n = recv(g->client, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		drop_client(g);
		return;
	}
	for (ssize_t i = 0; i < n && g->client >= 0; i++) {
		switch (gdb_rx_feed(&g->rx, buf[i])) {
		case GDB_RX_PACKET:
			if (!g->no_ack)
				send_raw(g, "+", 1);
			handle(g, g->rx.buf, g->rx.len);
			break;
		case GDB_RX_BAD:
			if (!g->no_ack)
				send_raw(g, "-", 1);
			break;
		case GDB_RX_INTERRUPT:
			if (g->running && stop_all(g)) {
				snprintf(g->stop_reply, sizeof(g->stop_reply),
					 "T02thread:%x;", g->c_cpu + 1);
				reply_str(g, g->stop_reply);
			}
			break;
		case GDB_RX_NONE:
			break;
		}
	}
}

static void accept_client(struct gdb *g)
{
	int fd = accept4(g->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (g->client >= 0) {	/* one debugger at a time */
		close(fd);
		return;
	}
	g->client = fd;
	gdb_rx_init(&g->rx);
	g->no_ack = false;
	g->g_cpu = g->c_cpu = 0;
	if (!g->stopped) {	/* gdb expects a stopped target */
		if (!stop_all(g))
			return;
		snprintf(g->stop_reply, sizeof(g->stop_reply), "T05thread:1;");
	}
}

static void *gdb_thread(void *arg)
{
	struct gdb *g = arg;

	if (sandbox_thread(SANDBOX_GDB, "gdb") < 0) {
		machine_stop(g->m, EXIT_VM_FAILURE, NULL);
		return NULL;
	}
	close(g->reserved[0]);
	close(g->reserved[1]);
	g->reserved[0] = g->reserved[1] = -1;
	while (!atomic_load(&g->stopping)) {
		struct pollfd p[3] = {
			{ .fd = g->efd, .events = POLLIN },
			{ .fd = g->fd, .events = POLLIN },
			{ .fd = g->client, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		uint64_t v;
		if ((p[0].revents & POLLIN) && read(g->efd, &v, sizeof(v)) < 0)
			v = 0;
		if (atomic_load(&g->stopping))
			break;
		check_events(g);
		if (p[1].revents & POLLIN)
			accept_client(g);
		if (g->client >= 0 && g->client == p[2].fd &&
		    (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			client_read(g);
	}
	/* The VM is over: gdb hears its exit status. */
	if (g->client >= 0) {
		char s[8];
		snprintf(s, sizeof(s), "W%02x", g->status & 0xff);
		reply_str(g, s);
		close(g->client);
		g->client = -1;
	}
	if (g->dir_fd >= 0)
		unlinkat(g->dir_fd, g->base, 0);
	return NULL;
}

int gdb_start(struct gdb *g)
{
	if (!g)
		return 0;
	int ret = thread_spawn(&g->thread, gdb_thread, g);
	if (ret) {
		log_err("gdb: cannot start its thread: %s", strerror(ret));
		return -1;
	}
	g->started = true;
	return 0;
}

void gdb_stopping(struct gdb *g)
{
	uint64_t one = 1;

	if (!g)
		return;
	g->status = g->m ? g->m->exit_status : 0;
	atomic_store(&g->stopping, true);
	if (write(g->efd, &one, sizeof(one)) < 0)
		log_err("gdb: cannot wake its thread: %s", strerror(errno));
}

void gdb_finish(struct gdb *g, int status)
{
	if (!g)
		return;
	g->status = status;
	if (!atomic_load(&g->stopping))
		gdb_stopping(g);
	if (g->started)
		pthread_join(g->thread, NULL);
	gdb_free(g, !g->started);	/* else the thread removed it */
}
