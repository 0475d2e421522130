/*
 * PIT reinjection off, without waiting for it.
 *
 * KVM's in-kernel PIT starts with reinjection on (ticks the guest has not
 * acknowledged are delivered again later).  Turning it off unregisters
 * the PIT's interrupt-acknowledge and mask notifiers, each of which waits
 * for an SRCU grace period (kvm->irq_srcu; up to about 20 ms here when
 * the second one misses the expedited path); left on, the same wait
 * happens when the VM is destroyed (kvm_free_pit).  A helper process,
 * "picovm-pit", makes the KVM_REINJECT_CONTROL call while the guest runs
 * (and creates the PIT itself first, a restore's loaded with its state:
 * see pit_reinject_off()).
 *
 * Not before the guest runs: the call holds the PIT's lock through both
 * grace periods, and vCPU 0's first KVM_RUN takes that lock
 * (__kvm_migrate_pit_timer: vCPU 0 owns the PIT's timer and moves it on
 * every change of host CPU, the first load included).  Made right after
 * KVM_CREATE_PIT2, the call held up the guest's first instruction by a
 * grace period in about half the runs.  So the helper is started with
 * the PIT but waits for pit_go(), which vCPU 0 calls once its first
 * KVM_RUN has returned.  Until the call ends, vCPU 0 moving to another
 * host CPU, a guest access to the PIT's ports and a snapshot's
 * KVM_GET_PIT2 still wait for it (at most one grace period, once).
 *
 * The helper shares picovm's memory (a VM ioctl must come from the VM's
 * address space) but not its descriptor table: it closes every
 * descriptor but the VM's and its hold pipe's first (picovm waits for
 * that, so no disk or tap outlives picovm in it), loads its own seccomp
 * filter (that ioctl, read and exit; sandbox = off: none), waits for the
 * go byte, makes the call, then waits for the hold pipe's end: picovm's
 * exit, however it ends.  So it is never a zombie while picovm runs, and
 * the last user of picovm's address space is the helper, not picovm's
 * exit (whose status then reaches its caller before the teardown of the
 * memory and of KVM's MMU notifier).  A picovm that ends before vCPU 0
 * ran leaves reinjection on; the helper then just exits.  Init or the
 * nearest subreaper reaps it, as it does the reaper (vm/reaper.h).
 *
 * With reinjection off, PIT ticks the guest did not take in time are
 * merged, not replayed: what Linux and other tickless guests expect.  A
 * guest whose clock counts PIT ticks (Linux on jiffies with the PIT as its
 * tick: no usable TSC and no APIC timer) then falls behind when it misses
 * ticks: measured here with noapictimer, guest uptime 62% of wall time
 * against 75% with reinjection on, on a loaded nested host.
 */
#ifndef PICOVM_VM_PIT_H
#define PICOVM_VM_PIT_H

#include <linux/kvm.h>
#include <stdbool.h>

/* Call once, from the main thread, instead of KVM_CREATE_PIT2: the helper
 * makes the PIT (and loads state, a restore's, into it), right after
 * dropping picovm's descriptors.  (Creating the PIT waits for the kernel
 * to make the PIT's worker thread and for SRCU grace periods as it adds
 * its I/O devices: 0.3-0.6 ms here, which then overlap the tables, the
 * reaper's hand-over, the sandbox and the vCPU threads' start; picovm
 * waits for it in pit_ready(), before any vCPU runs.)  Create it after
 * the vCPUs: KVM_CREATE_VCPU would wait for the VM's lock meanwhile.
 * Starts the helper, held until pit_go().  Should it not start, makes
 * the PIT and the call itself (waiting for them).  Returns 0, or -errno
 * after printing why the call failed. */
int pit_reinject_off(int vm_fd, const struct kvm_pit_state2 *state);
/* After pit_reinject_off(fd, state): waits for the helper's PIT
 * (makes it here should the helper have died first), loaded with state
 * when there was one (a restore: KVM_SET_PIT2, copied, before reinjection
 * goes off).  0, or -errno after printing why, with PIT_STATE_REFUSED set
 * in it when KVM refused the state; 0 at once otherwise.  Main thread,
 * before any vCPU runs. */
int pit_ready(void);
#define PIT_STATE_REFUSED 0x10000
/* Waits until the helper holds none of picovm's descriptors but its own
 * two (it closes them first thing; meanwhile picovm does its CPU-bound
 * set-up instead of waiting).  Before picovm ends or starts the guest;
 * again, or without a helper, it does nothing.  Main thread only. */
void pit_settle(void);
/* vCPU 0, after its first KVM_RUN that returned 0 (it was in the guest):
 * lets the helper make its call.  Only the first call does anything; it
 * never blocks. */
void pit_go(void);

#endif
