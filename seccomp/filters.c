/*
 * One seccomp filter per thread role.  Every allowed call says which code
 * path needs it; anything else traps to the SIGSYS handler in sandbox.c.
 * ioctl request numbers are compared on their low 32 bits only (a libc
 * whose ioctl takes an int sign-extends numbers with bit 31 set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <asm/ioctls.h>
#include <linux/sockios.h>

#include "filters.h"
#include "../vm/log.h"

#define ALLOW(call) { SCMP_SYS(call), 0, { { 0, 0, 0, 0 } } }
#define IOCTL(req) { SCMP_SYS(ioctl), 1, { SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, (uint32_t)(req)) } }
#define NO_EXEC(call, arg) { SCMP_SYS(call), 1, { arg(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) } }

struct rule {
	int nr;
	unsigned nargs;
	struct scmp_arg_cmp arg[1];
};

/* Every thread: locks, its own exit, messages, signal returns, memory for
 * malloc (never executable). */
#define COMMON \
	ALLOW(futex),		/* pthread mutexes (devices, stop) */ \
	ALLOW(write),		/* log lines, eventfd signals */ \
	ALLOW(exit),		/* the thread's own end */ \
	ALLOW(exit_group),	/* picovm's end, also from the SIGSYS handler */ \
	ALLOW(rt_sigreturn),	/* returning from the vCPU kick handler */ \
	ALLOW(restart_syscall),	/* a wait resumed after a stop signal */ \
	ALLOW(rt_sigprocmask),	/* glibc around thread exit */ \
	ALLOW(madvise),		/* glibc frees a finished thread's stack */ \
	ALLOW(munmap),		/* free() of large blocks */ \
	NO_EXEC(mmap, SCMP_A2),	/* malloc; never executable memory */ \
	NO_EXEC(mprotect, SCMP_A2), \
	ALLOW(brk),		/* malloc in the main arena */ \
	ALLOW(clock_gettime),	/* log time stamps (vDSO fallback) */ \
	ALLOW(gettid),		/* glibc internals */ \
	ALLOW(getpid)		/* glibc internals (raise, pthread_kill) */

static const struct rule vcpu_rules[] = {
	COMMON,
	IOCTL(KVM_RUN),		/* vcpu.c: the run loop */
	IOCTL(KVM_GET_REGS),	/* vcpu.c: RIP for a fatal exit's message */
	IOCTL(KVM_IRQ_LINE),	/* devices/serial.c: the UART's IRQ 4 */
	IOCTL(TUNSETOFFLOAD),	/* virtio/net.c: offloads at DRIVER_OK */
};

static const struct rule io_rules[] = {
	COMMON,
	/* io_uring_enter: see sandbox_build(), only on picovm's ring */
};

static const struct rule console_rules[] = {
	COMMON,
	ALLOW(poll),		/* devices/console.c: wait for stdin/stdout */
	ALLOW(ppoll),		/* poll() on some libcs */
	ALLOW(read),		/* stdin, the wake eventfd */
	IOCTL(KVM_IRQ_LINE),	/* devices/serial.c: input or drained output
				   raises the UART's IRQ 4 */
};

/* devices/console.c for serial.1 = unix:PATH: the console's calls, plus
 * its one client at a time (accept4 on the socket and unlinkat in its
 * folder are added with their descriptors, sandbox_build). */
static const struct rule serial1_rules[] = {
	COMMON,
	ALLOW(poll),		/* wait for the client, the UART, the stop */
	ALLOW(ppoll),
	ALLOW(read),		/* the client's bytes, the wake eventfd */
	ALLOW(close),		/* a client gone or refused */
	IOCTL(KVM_IRQ_LINE),	/* devices/serial.c: COM2's IRQ 3 */
};

/* control/server.c: the control socket's clients and systemd's notify
 * socket; pause and stop reach the vCPUs (kick) and the ACPI SCI.
 * accept4 and unlinkat are added with their descriptor (sandbox_build). */
static const struct rule control_rules[] = {
	COMMON,
	ALLOW(poll),		/* wait for clients, events, the stop deadline */
	ALLOW(ppoll),
	ALLOW(read),		/* its wake eventfd */
	ALLOW(recvfrom),	/* a client's request (recv) */
	ALLOW(sendto),		/* replies; READY=1 etc. on the notify socket */
	ALLOW(close),		/* a client gone */
	ALLOW(tgkill),		/* vcpu.c: pause kicks vCPUs out of KVM_RUN */
	ALLOW(tkill),		/* the same from musl's pthread_kill */
	{ SCMP_SYS(getsockopt), 1, { SCMP_A2(SCMP_CMP_EQ, SO_PEERCRED) } },
				/* the client's uid: SO_PEERCRED only */
	IOCTL(KVM_IRQ_LINE),	/* devices/acpi_pm.c: the power button's SCI */
};

/* gdb/stub.c: its one client, the vCPUs' registers while they are
 * parked, their debug registers and breakpoints (target.c).  accept4 and
 * unlinkat are added with their descriptor (sandbox_build). */
static const struct rule gdb_rules[] = {
	COMMON,
	ALLOW(poll),		/* wait for the client, vCPU events, the stop */
	ALLOW(ppoll),
	ALLOW(read),		/* its wake eventfd */
	ALLOW(recvfrom),	/* packets (recv) */
	ALLOW(sendto),		/* replies */
	ALLOW(close),		/* a client gone or refused */
	ALLOW(tgkill),		/* vcpu.c: stopping kicks vCPUs out of KVM_RUN */
	ALLOW(tkill),		/* the same from musl's pthread_kill */
	IOCTL(KVM_GET_REGS), IOCTL(KVM_SET_REGS),	/* g G p P */
	IOCTL(KVM_GET_SREGS), IOCTL(KVM_SET_SREGS),	/* also paging for m M Z */
	IOCTL(KVM_GET_FPU), IOCTL(KVM_SET_FPU),		/* x87, SSE */
	IOCTL(KVM_SET_GUEST_DEBUG),	/* breakpoints, watchpoints, step */
};

/* vCPUs with the gdb stub (gdb/target.c): a guest int3 that is not a
 * breakpoint of gdb's goes back to the guest. */
static const struct rule vcpu_gdb_rules[] = {
	IOCTL(KVM_GET_VCPU_EVENTS), IOCTL(KVM_SET_VCPU_EVENTS),
};

static const struct rule main_rules[] = {
	COMMON,
	ALLOW(poll),		/* vmm.c: wait for stop, signals, timeout */
	ALLOW(ppoll),
	ALLOW(read),		/* the signalfd and stop eventfd */
	ALLOW(tgkill),		/* vcpu.c: kick vCPUs out of KVM_RUN */
	ALLOW(tkill),		/* the same from musl's pthread_kill */
	ALLOW(close),		/* teardown */
	ALLOW(fdatasync),	/* virtio/blk.c: flush disks at stop */
	IOCTL(TCSETS),		/* console.c: restore the terminal */
	IOCTL(TCSETSW),
	IOCTL(TCGETS),
};

/* The main thread with snapshot.path set (vm/snapshot.c): reads the state
 * of the paused vCPUs and the VM, writes the files opened before the
 * sandbox.  Restoring needs nothing: it happens before the filters. */
static const struct rule snapshot_rules[] = {
	ALLOW(pwrite64),	/* the state, memory and vm.conf files */
	ALLOW(pread64),		/* virtio/overlay.c: an ephemeral disk's
				   sectors, copied into the folder */
	ALLOW(ftruncate),	/* emptied before each snapshot */
	ALLOW(fadvise64),	/* the memory file's page cache dropped */
	IOCTL(KVM_GET_REGS), IOCTL(KVM_GET_SREGS), IOCTL(KVM_GET_XSAVE),
	IOCTL(KVM_GET_XCRS), IOCTL(KVM_GET_MSRS), IOCTL(KVM_GET_LAPIC),
	IOCTL(KVM_GET_VCPU_EVENTS), IOCTL(KVM_GET_DEBUGREGS),
	IOCTL(KVM_GET_MP_STATE),	/* vcpu/state.c, per vCPU */
	IOCTL(KVM_GET_IRQCHIP), IOCTL(KVM_GET_PIT2),
	IOCTL(KVM_GET_CLOCK),		/* vm/snapshot.c, the VM */
};

/* vm/reaper.c with taps of net.N.tap = auto or the PIT's call still to
 * make (without either it is in strict mode): its socket, on vCPU 0's go
 * byte reinjection off, and on picovm's stop each tap down and renamed. */
static const struct rule reaper_rules[] = {
	ALLOW(read),			/* picovm's requests, then its end */
	ALLOW(exit),			/* its end (exit, not exit_group) */
	IOCTL(KVM_REINJECT_CONTROL),	/* PIT reinjection off (vm/pit.h) */
	IOCTL(SIOCGIFFLAGS),		/* is the tap up */
	IOCTL(SIOCSIFFLAGS),		/* take it down (a renaming needs it) */
	IOCTL(SIOCSIFNAME),		/* its name free for a restart */
};

/* The rules of role, n set to their count. */
static const struct rule *role_rules(enum sandbox_role role, size_t *n)
{
	switch (role) {
	case SANDBOX_VCPU:
		*n = sizeof(vcpu_rules) / sizeof(vcpu_rules[0]);
		return vcpu_rules;
	case SANDBOX_IO:
		*n = sizeof(io_rules) / sizeof(io_rules[0]);
		return io_rules;
	case SANDBOX_CONSOLE:
		*n = sizeof(console_rules) / sizeof(console_rules[0]);
		return console_rules;
	case SANDBOX_CONTROL:
		*n = sizeof(control_rules) / sizeof(control_rules[0]);
		return control_rules;
	case SANDBOX_GDB:
		*n = sizeof(gdb_rules) / sizeof(gdb_rules[0]);
		return gdb_rules;
	case SANDBOX_SERIAL1:
		*n = sizeof(serial1_rules) / sizeof(serial1_rules[0]);
		return serial1_rules;
	case SANDBOX_REAPER:
		*n = sizeof(reaper_rules) / sizeof(reaper_rules[0]);
		return reaper_rules;
	default:
		*n = sizeof(main_rules) / sizeof(main_rules[0]);
		return main_rules;
	}
}

/* The rules that name one of picovm's descriptors: the call is allowed
 * with that descriptor as its first argument only. */
static int fd_rules(scmp_filter_ctx ctx, enum sandbox_role role,
		    const struct sandbox_fds *fds)
{
	const struct { enum sandbox_role role; int nr, fd; } r[] = {
		/* iothread.c: the loop, and dropping the files at stop. */
		{ SANDBOX_IO, SCMP_SYS(io_uring_enter), fds->ring_fd },
		{ SANDBOX_IO, SCMP_SYS(io_uring_register), fds->ring_fd },
		/* control/server.c: a new client, on the listening socket
		 * only; removing the socket at exit, in its folder only. */
		{ SANDBOX_CONTROL, SCMP_SYS(accept4), fds->control_fd },
		{ SANDBOX_CONTROL, SCMP_SYS(unlinkat), fds->control_dir_fd },
		/* gdb/stub.c: a debugger connects; a unix socket removed. */
		{ SANDBOX_GDB, SCMP_SYS(accept4), fds->gdb_fd },
		{ SANDBOX_GDB, SCMP_SYS(unlinkat), fds->gdb_dir_fd },
		/* devices/console.c for serial.1: the same. */
		{ SANDBOX_SERIAL1, SCMP_SYS(accept4), fds->serial1_fd },
		{ SANDBOX_SERIAL1, SCMP_SYS(unlinkat), fds->serial1_dir_fd },
	};
	int ret = 0;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]) && ret == 0; i++)
		if (r[i].role == role && r[i].fd >= 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 1,
					       SCMP_A0(SCMP_CMP_EQ, (uint64_t)r[i].fd));
	if (ret == 0 && fds->log_send && sandbox_logs(role))
		/* vm/log.c: a message to a stderr that is a socket, sent
		 * MSG_DONTWAIT (control allows sendto already). */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
				       SCMP_A0(SCMP_CMP_EQ, 2));
	if (ret == 0 && role == SANDBOX_MAIN && fds->passt)
		/* net/passt.c: reaping the passt picovm started, at exit
		 * (WNOHANG: a stuck one is killed with tgkill). */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 1,
				       SCMP_A2(SCMP_CMP_EQ, WNOHANG));
	return ret;
}

int sandbox_build(enum sandbox_role role, const struct sandbox_fds *fds,
		  scmp_filter_ctx *out)
{
	size_t n;
	const struct rule *r = role_rules(role, &n);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r[i].nr, r[i].nargs,
					     r[i].arg);
	for (size_t i = 0; fds->snapshot && role == SANDBOX_MAIN && ret == 0 &&
	     i < sizeof(snapshot_rules) / sizeof(*r); i++)
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, snapshot_rules[i].nr,
					     snapshot_rules[i].nargs,
					     snapshot_rules[i].arg);
	for (size_t i = 0; fds->gdb_fd >= 0 && role == SANDBOX_VCPU && ret == 0 &&
	     i < sizeof(vcpu_gdb_rules) / sizeof(*r); i++)
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, vcpu_gdb_rules[i].nr,
					     vcpu_gdb_rules[i].nargs,
					     vcpu_gdb_rules[i].arg);
	if (ret == 0)
		ret = fd_rules(ctx, role, fds);
	if (ret < 0) {
		seccomp_release(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

unsigned sandbox_count(enum sandbox_role role, unsigned *ioctls)
{
	size_t n;
	const struct rule *r = role_rules(role, &n);
	unsigned calls = 0;

	*ioctls = 0;
	bool ioctl_seen = false;
	for (size_t i = 0; i < n; i++) {
		if (r[i].nr == SCMP_SYS(ioctl)) {
			(*ioctls)++;
			if (ioctl_seen)
				continue;
			ioctl_seen = true;
		}
		calls++;
	}
	if (role == SANDBOX_IO)
		calls += 2;	/* io_uring_enter, io_uring_register */
	if (role == SANDBOX_CONTROL || role == SANDBOX_GDB ||
	    role == SANDBOX_SERIAL1)
		calls += 2;	/* accept4, unlinkat */
	return calls;
}

struct sock_filter *sandbox_compile(enum sandbox_role role,
				    const struct sandbox_fds *fds, size_t *len)
{
	scmp_filter_ctx ctx;
	FILE *f = tmpfile();
	struct sock_filter *prog = NULL;

	if (!f || sandbox_build(role, fds, &ctx) < 0)
		goto out;
	int ret = seccomp_export_bpf(ctx, fileno(f));
	seccomp_release(ctx);
	/* The export writes through the descriptor, past the FILE's buffer. */
	off_t size = ret == 0 ? lseek(fileno(f), 0, SEEK_END) : -1;
	if (size <= 0 || size % (off_t)sizeof(*prog))
		goto out;
	prog = malloc((size_t)size);
	if (prog && pread(fileno(f), prog, (size_t)size, 0) != (ssize_t)size) {
		free(prog);
		prog = NULL;
	}
	*len = (size_t)size / sizeof(*prog);
out:
	if (f)
		fclose(f);
	return prog;
}
