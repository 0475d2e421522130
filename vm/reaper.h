/*
 * The reaper: a small child process that holds the last references to the
 * VM's KVM descriptors (the VM and its vCPUs) and lets go of them only
 * after picovm has exited.  Destroying a VM waits for RCU grace periods in
 * the kernel (the PIT, the I/O buses: tens of milliseconds); with the
 * reaper that wait happens after picovm's exit status has reached its
 * caller, not before.
 *
 *   reaper_start()   before picovm opens anything the next VM needs free
 *                    (disk images, which are locked; taps): the child
 *                    closes every descriptor but its socket, so it holds
 *                    nothing but what reaper_hand() gives it
 *   reaper_hand()    once the VM and its vCPUs exist, before the sandbox:
 *                    copies of their descriptors go to the child
 *
 * The child waits for the end of picovm's side of the socket (picovm's
 * exit, however it ends: a SIGKILL too), closes what it holds and exits
 * with status 0.  Until then it can do nothing but read and exit (seccomp
 * strict mode).  It has no other way to end and nothing it waits for can
 * stall: no reaper outlives picovm by more than the VM's destruction.
 */
#ifndef PICOVM_VM_REAPER_H
#define PICOVM_VM_REAPER_H

/* Forks the reaper.  Single-threaded callers only.  Returns 0 or -errno
 * (picovm then runs without one: the destroy happens in picovm's exit).
 * Does not wait for the child to drop its copies of picovm's inherited
 * descriptors: reaper_settle() does, later, when it has surely done so. */
int reaper_start(void);
/* Waits for the child's first byte (it holds nothing of picovm's but its
 * socket from then on).  Before picovm exits; reaper_hand() calls it.
 * 0, or -errno after printing why (picovm then has no reaper). */
int reaper_settle(void);
/* Sends copies of fds[0..n) to the reaper.  Returns 0 or -errno; without
 * a reaper, does nothing and returns 0. */
int reaper_hand(const int *fds, unsigned n);

#endif
