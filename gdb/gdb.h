/*
 * The gdb remote stub (picovm(1), DEBUGGING; `gdb = unix:PATH |
 * 127.0.0.1:PORT`, `gdb.wait = on`).  Off by default: without the key
 * nothing here runs and the vCPU loop pays nothing (struct machine's gdb
 * pointer is NULL, KVM never reports a debug exit).
 *
 * Parts: packet.c (the protocol's bytes, pure), regs.c (the register
 * layout and target.xml, pure), walk.c (guest page-table walks through
 * gmem_ptr, pure), target.c (the vCPUs: registers, memory, breakpoints,
 * KVM_SET_GUEST_DEBUG, the vCPU side of a debug exit), stub.c (the
 * socket and the thread "gdb", with its own seccomp role).
 *
 * All-stop, as gdb expects: while gdb looks at the VM every vCPU is
 * parked by the VM's one pause mechanism (vm/pause.h), as holder
 * MACHINE_PAUSE_GDB; a single-step lets only the stepping vCPU run
 * (struct machine's solo_vcpu).  A connection stops the VM, a detach or
 * a disconnect (at any byte) removes every breakpoint and lets it run on.
 *
 * In vm/vmm.c's order:
 *   gdb_open()     before the sandbox: bind and listen (-2: the user's
 *                  error, exit status 2)
 *   gdb_attach()   the VM is built: vCPU descriptors known; with
 *                  gdb.wait the vCPUs will park before their first
 *                  instruction
 *   gdb_start()    the vCPUs run: the thread starts
 *   gdb_stopping() the VM is stopping: gdb is told the exit status
 *   gdb_finish()   joins the thread, removes the socket, frees
 */
#ifndef PICOVM_GDB_GDB_H
#define PICOVM_GDB_GDB_H

#include <stdbool.h>

struct config;
struct vm;
struct vcpu;
struct sandbox_fds;
struct gdb;

int gdb_open(const struct config *c, struct gdb **out);
void gdb_sandbox_fds(const struct gdb *g, struct sandbox_fds *f);
int gdb_attach(struct gdb *g, struct vm *vm);
int gdb_start(struct gdb *g);
void gdb_stopping(struct gdb *g);
void gdb_finish(struct gdb *g, int status);

/* vCPU threads, on KVM_EXIT_DEBUG: a guest int3 that is not one of the
 * stub's goes back to the guest (#BP re-injected); anything else is
 * recorded for gdb and the VM stops.  False when the vCPU cannot go on. */
bool gdb_debug_exit(struct gdb *g, struct vcpu *v);

#endif
