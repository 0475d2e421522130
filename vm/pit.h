/*
 * The in-kernel PIT, and its reinjection off without waiting for it.
 *
 * KVM's in-kernel PIT starts with reinjection on (ticks the guest has not
 * acknowledged are delivered again later).  Turning it off unregisters
 * the PIT's interrupt-acknowledge and mask notifiers, each of which waits
 * for an SRCU grace period (kvm->irq_srcu; up to about 20 ms here when
 * the second one misses the expedited path); left on, the same wait
 * happens when the VM is destroyed (kvm_free_pit).  The reaper
 * ("picovm-reaper", vm/reaper.h) makes the KVM_REINJECT_CONTROL call
 * while the guest runs, and creates the PIT itself first (a restore's
 * loaded with its state: see pit_reinject_off()), while picovm goes on
 * with its set-up.  It once was a helper process of its own; the
 * reaper, which runs from picovm's start, saves that process's start
 * (a clone() and two pipes: 35-45 us of every start here).
 *
 * Not before the guest runs: the call holds the PIT's lock through both
 * grace periods, and vCPU 0's first KVM_RUN takes that lock
 * (__kvm_migrate_pit_timer: vCPU 0 owns the PIT's timer and moves it on
 * every change of host CPU, the first load included).  Made right after
 * KVM_CREATE_PIT2, the call held up the guest's first instruction by a
 * grace period in about half the runs.  So the reaper makes it on
 * pit_go(), which vCPU 0 calls once its first KVM_RUN has returned.
 * Until the call ends, vCPU 0 moving to another host CPU, a guest access
 * to the PIT's ports and a snapshot's KVM_GET_PIT2 still wait for it (at
 * most one grace period, once).  A picovm that ends before vCPU 0 ran
 * leaves reinjection on.
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

/* Call once, from the main thread, instead of KVM_CREATE_PIT2: the reaper
 * makes the PIT (and loads state, a restore's, into it).  (Creating the
 * PIT waits for the kernel to make the PIT's worker thread and for SRCU
 * grace periods as it adds its I/O devices: 0.1-0.5 ms here, which then
 * overlap the vCPUs' set-up, the tables, the sandbox and the vCPU
 * threads' start; the vCPUs wait for it in pit_gate_wait(), before their
 * first KVM_RUN.)  Call it after the vCPUs: KVM_CREATE_VCPU would wait for the
 * VM's lock meanwhile.  Without a reaper, makes the PIT and the call
 * itself (waiting for them).  Returns 0, or -errno after printing why
 * the call failed. */
int pit_reinject_off(int vm_fd, const struct kvm_pit_state2 *state);
/* After pit_reinject_off(fd, state): waits for the reaper's PIT
 * (makes it here should the reaper have died first), loaded with state
 * when there was one (a restore: KVM_SET_PIT2, copied, before reinjection
 * goes off).  0, or -errno after printing why, with PIT_STATE_REFUSED set
 * in it when KVM refused the state; 0 at once otherwise.  Main thread;
 * the vCPUs may be told to go before it (they wait in pit_gate_wait()). */
int pit_ready(void);
#define PIT_STATE_REFUSED 0x10000
/* vCPU threads, before their first KVM_RUN: waits until the PIT is there
 * (whoever made it opened the gate: usually the reaper, so the vCPUs do
 * not wait for picovm's main thread to learn it first, a wake-up less
 * between the PIT and the guest's first instruction).  False when it
 * failed or the VM stops first (pit_gate_fail()): then never run. */
bool pit_gate_wait(void);
/* The stop, or a failed PIT: pit_gate_wait() returns false (unless the
 * gate was open already). */
void pit_gate_fail(void);
/* vCPU 0, after its first KVM_RUN that returned 0 (it was in the guest):
 * lets the reaper make its call.  Only the first call does anything; it
 * never blocks. */
void pit_go(void);

/* The PIT on vm_fd (made already counts), loaded with a restore's state,
 * as the byte the reaper answers (0, an errno, or 0x80 | the errno of a
 * refused state); and the call, 0 or -errno.  Raw system calls only
 * (vm/rawsys.h), so that the reaper may make them; picovm makes them
 * itself without a reaper. */
unsigned char pit_child_create(int vm_fd);
long pit_child_reinject_off(int vm_fd);

#endif
