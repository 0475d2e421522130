/*
 * PIT reinjection off, without waiting for it.
 *
 * KVM's in-kernel PIT starts with reinjection on (ticks the guest has not
 * acknowledged are delivered again later).  Turning it off unregisters
 * the PIT's interrupt-acknowledge notifier, which waits for an RCU grace
 * period (about 16 ms here); left on, the same wait happens when the VM
 * is destroyed (kvm_free_pit).  pit_reinject_off() starts a helper that
 * makes the KVM_REINJECT_CONTROL call right after the PIT exists, so the
 * wait overlaps the rest of the start-up and the guest's run instead of
 * adding to either end.
 *
 * The helper, "picovm-pit", is a process of its own that shares picovm's
 * memory (a VM ioctl must come from the VM's address space) but not its
 * descriptor table: it closes every descriptor but the VM's first (picovm
 * waits for that, so no disk or tap outlives picovm in it), loads
 * its own seccomp filter (that one ioctl and exit; sandbox = off: none),
 * makes the call and exits.  Not being one of picovm's threads, it never
 * delays picovm's exit; picovm does not wait for it (init or the nearest
 * subreaper reaps it, as it does the reaper, vm/reaper.h).
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

/* Call once, right after KVM_CREATE_PIT2, while picovm is single-threaded.
 * Should the helper not start, makes the call itself (waiting for it).
 * Returns 0, or -errno after printing why the call failed. */
int pit_reinject_off(int vm_fd);

#endif
