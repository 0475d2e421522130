/*
 * The sandbox: what picovm does between opening everything it will ever
 * need and the first guest instruction, so that a guest that breaks out of
 * device emulation finds a process that can do almost nothing.
 *
 *   sandbox_std_fds(),         first thing in main(): /dev/null on a closed
 *   sandbox_note_inherited()
 *                              0, 1 or 2, and a record of which descriptors
 *                              were inherited (sandbox_inherited())
 *   sandbox_close_inherited()  at start: close every inherited descriptor
 *                              but stdio and the ones net.N.fd names
 *   sandbox_process()          after set-up: rlimits, NO_NEW_PRIVS,
 *                              chroot (sandbox.chroot), uid/gid
 *                              (sandbox.user), all capabilities dropped
 *   sandbox_thread(role)       each thread, before its loop: its own
 *                              seccomp filter (seccomp/filters.c)
 *
 * A forbidden system call kills the process: a SIGSYS handler writes one
 * line naming the thread and the call and exits with SANDBOX_EXIT_STATUS.
 * `sandbox = off` skips all of this (for debugging; warns every start).
 */
#ifndef PICOVM_SECCOMP_SANDBOX_H
#define PICOVM_SECCOMP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

struct config;

#define SANDBOX_EXIT_STATUS 159	/* 128 + SIGSYS, as a shell reports it */

/* sandbox_process() caps RLIMIT_NOFILE at the highest open descriptor + 1
 * + this: room for what picovm still opens once sandboxed (the control
 * socket's clients and its one refusal, control/control.h), never more. */
#define SANDBOX_FD_HEADROOM 16

enum sandbox_role {
	SANDBOX_MAIN,		/* control: signals, stop, teardown */
	SANDBOX_VCPU,		/* KVM_RUN and register accesses */
	SANDBOX_IO,		/* the io_uring I/O thread */
	SANDBOX_CONSOLE,	/* stdin/stdout of the console */
	SANDBOX_CONTROL,	/* the control socket and systemd notify */
	SANDBOX_GDB,		/* the gdb stub (gdb/) */
	SANDBOX_SERIAL1,	/* serial.1's socket: COM2 to its client */
	SANDBOX_REAPER,		/* vm/reaper.c with taps to release or
				   PIT reinjection to turn off */
	SANDBOX_NROLES
};

/* What the filters need to know: the descriptors calls may be made on. */
struct sandbox_fds {
	int ring_fd;		/* io_uring_enter only on this */
	bool snapshot;		/* snapshot.path: the main thread saves state */
	bool passt;		/* net.N.passt = auto: the main thread reaps passt */
	int control_fd;		/* accept4 only on this listening socket */
	int control_dir_fd;	/* unlinkat only in this folder (-1: none) */
	bool log_send;		/* stderr is a socket: every thread may
				   sendto fd 2 (vm/log.h: MSG_DONTWAIT) */
	int gdb_fd;		/* the gdb stub's listening socket (-1: none);
				   with it vCPUs may re-inject the guest's int3 */
	int gdb_dir_fd;		/* its folder, for unlinkat (-1: none) */
	int serial1_fd;		/* serial.1 = unix:PATH, listening (-1: none) */
	int serial1_dir_fd;	/* its folder, for unlinkat (-1: none) */
};

/* Run before picovm opens anything.  A closed 0, 1 or 2 gets /dev/null:
 * otherwise the first file picovm opens (a disk image) would become
 * "stdout" and take the console's output.  Returns 0, or -1 when
 * /dev/null cannot be opened (nothing is safe then). */
int sandbox_std_fds(void);
/* Then, before picovm opens anything but own_fd (-1: nothing): notes
 * which descriptors are open, own_fd aside: the inherited ones, the only
 * ones net.N.fd may name. */
void sandbox_note_inherited(int own_fd);
/* Whether fd (>= 3) was open when sandbox_note_inherited() ran. */
bool sandbox_inherited(int fd);
/* own_fd (-1: none) is picovm's own, opened since: kept too.  Closes
 * ranges of numbers: no other thread may open a file meanwhile (nor during
 * sandbox_note_inherited()'s scan); the CPUID thread, the only one then,
 * opens none (vcpu/cpuid.c). */
void sandbox_close_inherited(const struct config *c, int own_fd);
int sandbox_process(const struct config *c);
/* Loads the calling thread's filter; returns 0 or -1 after printing why.
 * name is what the SIGSYS line calls the thread. */
int sandbox_thread(enum sandbox_role role, const char *name);
void sandbox_set_fds(const struct sandbox_fds *fds);
/* Whether role's threads write picovm's log (and so may need sendto on
 * a socket stderr; seccomp/variant.c). */
bool sandbox_logs(enum sandbox_role role);
/* The longest seccomp program of any role (seccomp/bpf.h). */
#define SANDBOX_PROG_MAX 256
struct sock_filter;
/* role's seccomp program for the descriptors set so far, into prog (room
 * for cap instructions): its length, 0 when the sandbox is off, -1 when
 * there is none.  For a helper that loads its own (vm/pit.c). */
int sandbox_program(enum sandbox_role role, struct sock_filter *prog, size_t cap);
void sandbox_enable(bool on);

/* Test builds only (-DPICOVM_TEST_HOOKS): PICOVM_TEST_VIOLATE=ROLE:KIND
 * makes the thread of that role break its filter right after loading it
 * (KIND: syscall, mmap-exec, ioctl). */
void sandbox_test_hook(enum sandbox_role role);

#endif
