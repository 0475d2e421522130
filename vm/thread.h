/*
 * picovm's threads (vCPUs, I/O, console, control, gdb): each is started
 * once and lives until the VM's stop, so its stack, mapped here, is never
 * unmapped.  pthread_join() would otherwise unmap the stack the library
 * mapped for it, in the middle of picovm's stop: a TLB shootdown to the
 * other CPUs that ran picovm's threads or its reaper (about 50 us each
 * here).  The process's exit (or the reaper's, vm/reaper.h) takes them.
 */
#ifndef PICOVM_VM_THREAD_H
#define PICOVM_VM_THREAD_H

#include <pthread.h>

/* Every thread's stack: 256 KiB above a guard page, not RLIMIT_STACK's 8
 * MiB.  Each uses a few KiB (the deepest, the gdb stub's packet handling,
 * about 30 KiB); a stack in a 2 MiB region of its own would cost a
 * page-table page per thread (kernel memory, per clone) where these few
 * share one.  The resident pages are the same either way. */
#define THREAD_STACK (256u << 10)

/* pthread_create(t, NULL, fn, arg) on a stack of THREAD_STACK: 0 or an
 * errno value. */
int thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
