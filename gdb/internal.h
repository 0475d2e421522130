/* What stub.c (socket, thread, packets) and target.c (vCPUs) share. */
#ifndef PICOVM_GDB_INTERNAL_H
#define PICOVM_GDB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gdb.h"
#include "packet.h"
#include "regs.h"

#define GDB_MAX_SW 256		/* software breakpoints at once */
#define GDB_NHW 4		/* debug registers DR0-DR3 */

struct sw_bp {
	uint64_t va, gpa;
	uint8_t orig;		/* the guest's byte under the int3 */
};

struct hw_bp {
	bool used;
	int type;		/* enum gdb_bp_type: HW, WP_WRITE, WP_READ, WP_ACCESS */
	uint64_t addr, len;
};

/* Why a vCPU stopped, recorded by its thread (target.c). */
enum gdb_ev_kind { EV_NONE, EV_SWBREAK, EV_HWBREAK, EV_WATCH, EV_STEP, EV_TRAP };
struct gdb_ev {
	enum gdb_ev_kind kind;
	int wtype;		/* EV_WATCH: the slot's type */
	uint64_t addr;		/* EV_SWBREAK: pc; EV_WATCH: the watched address */
};

struct gdb {
	struct vm *vm;
	struct machine *m;
	unsigned nvcpus;
	bool wait;			/* gdb.wait */
	bool blockirq;			/* KVM_GUESTDBG_BLOCKIRQ supported */

	/* The socket: listening, its folder and name (unix), the client. */
	int fd, dir_fd, client;
	char base[108];			/* the unix socket's name in dir_fd */
	int efd;			/* wakes the thread */
	int reserved[2];		/* descriptors kept for accept4 */
	pthread_t thread;
	bool started;
	atomic_bool stopping;
	int status;			/* the VM's exit status, with stopping */

	/* lock: the breakpoint tables and events, read by vCPU threads on
	 * a debug exit, changed by the thread while the vCPUs are parked. */
	pthread_mutex_t lock;
	struct sw_bp sw[GDB_MAX_SW];
	unsigned nsw;
	struct hw_bp hw[GDB_NHW];
	struct gdb_ev *ev;		/* per vCPU */

	/* The thread's own. */
	struct gdb_rx rx;
	bool no_ack;
	bool stopped;			/* holding the pause, vCPUs parked */
	bool running;			/* gdb waits for a stop reply */
	int step_cpu;			/* -1: none */
	unsigned g_cpu, c_cpu;		/* H g / H c: by vCPU index */
	char stop_reply[96];		/* the last, for '?' */
};

/* target.c: everything that touches vCPUs; called with them parked. */
int target_get(struct gdb *g, unsigned cpu, struct gdb_cpu *c);
int target_set(struct gdb *g, unsigned cpu, const struct gdb_cpu *c);
/* Reads up to len bytes at guest virtual va as vCPU cpu sees it; returns
 * the bytes read (0: none mapped).  The stub's int3s read as the guest's
 * own bytes. */
uint64_t target_read(struct gdb *g, unsigned cpu, uint64_t va, uint8_t *buf,
		     uint64_t len);
/* Writes all of buf or nothing: 0 or -1. */
int target_write(struct gdb *g, unsigned cpu, uint64_t va, const uint8_t *buf,
		 uint64_t len);
/* Z and z: 0, or -errno (EINVAL bad kind, ENOSPC full, EFAULT unmapped). */
int target_bp_insert(struct gdb *g, unsigned cpu, int type, uint64_t addr,
		     uint64_t kind);
int target_bp_remove(struct gdb *g, unsigned cpu, int type, uint64_t addr,
		     uint64_t kind);
void target_bp_clear(struct gdb *g);
/* KVM_SET_GUEST_DEBUG on every vCPU: the breakpoints, and single-step on
 * step_cpu (-1: none).  0 or -errno. */
int target_debug_apply(struct gdb *g, int step_cpu);

#endif
