/*
 * The reaper: a small child process that holds the last references to the
 * VM's KVM descriptors (the VM and its vCPUs) and lets go of them only
 * after picovm has exited.  Destroying a VM waits for RCU grace periods in
 * the kernel (the PIT, the I/O buses: tens of milliseconds); with the
 * reaper that wait happens after picovm's exit status has reached its
 * caller, not before.  It also makes the VM's PIT and turns its
 * reinjection off (vm/pit.h).
 *
 *   reaper_start()   before picovm opens anything the next VM needs free
 *                    (disk images, which are locked; taps): the child
 *                    closes every descriptor but its socket, so it holds
 *                    nothing but what it is given
 *   reaper_pit()     once the vCPUs exist: the VM goes to the child,
 *                    which makes its PIT while picovm's set-up goes on
 *   reaper_hand()    once the vCPUs run: copies of their descriptors
 *                    (and of the VM's, unless it has it) go to the child,
 *                    and of the taps picovm created (net.N.tap = auto)
 *   reaper_release() at the stop: the taps' names are set free
 *
 * The child waits for the end of picovm's side of the socket (picovm's
 * exit, however it ends: a SIGKILL too), closes what it holds and exits
 * with status 0.  After the hand-over it can do nothing but read and exit
 * (seccomp strict mode); with taps, also take them down and rename them,
 * and until vCPU 0 has run, make the PIT's call (its own program,
 * seccomp/filters.c; after a SIGKILL to picovm a tap's name is free once
 * the reaper has ended).  It has no other way to end and nothing it
 * waits for can stall: no reaper outlives picovm by more than the VM's
 * destruction.
 */
#ifndef PICOVM_VM_REAPER_H
#define PICOVM_VM_REAPER_H

#include <stdbool.h>

/* Starts the reaper (a process of its own in picovm's memory: clone with
 * CLONE_VM, no fork's copy).  Returns 0 or -errno
 * (picovm then runs without one: the destroy happens in picovm's exit).
 * Does not wait for the child to drop its copies of picovm's inherited
 * descriptors: reaper_settle() does, later, when it has surely done so. */
int reaper_start(void);
/* Waits for the child's first byte (it holds nothing of picovm's but its
 * socket from then on).  Before picovm exits; reaper_hand() calls it.
 * 0, or -errno after printing why (picovm then has no reaper). */
int reaper_settle(void);
/* The PIT (vm/pit.h): the reaper makes it on vm_fd, which it keeps,
 * and answers with one byte (pit_child_create()).  0, or -errno (no
 * reaper, or the request failed: picovm then makes the PIT itself). */
int reaper_pit(int vm_fd);
/* The answer to reaper_pit(), waited for: the byte, or -1 when the reaper
 * died first. */
int reaper_pit_answer(void);
/* vCPU 0 has run (pit_go()): the reaper turns PIT reinjection off.
 * Never blocks; without a PIT request does nothing. */
void reaper_pit_go(void);
/* Whether the reaper already holds the VM (reaper_pit()): reaper_hand()
 * then need not send it. */
bool reaper_holds_vm(void);
/* Sends copies of fds[0..n) (the VM, the vCPUs) and of tap_fds[0..ntap)
 * (taps picovm created: net.N.tap = auto) to the reaper.  Returns 0 or
 * -errno; without a reaper, does nothing and returns 0. */
int reaper_hand(const int *fds, unsigned n, const int *tap_fds, unsigned ntap);
/* At the stop, once nothing writes to the taps any more (the I/O thread
 * stopped), before picovm closes them: the reaper takes the taps it holds
 * down and renames them ("pvrPID.N"), so that their names are free for a
 * VM started next, and picovm's close is not the last one: the tap's
 * slow unregistering (an RCU barrier, 10-30 ms here) happens at the
 * reaper's exit, after picovm's.  picovm does not wait for it (the
 * reaper's two ioctls take about 0.3 ms here, each waiting for a grace
 * period): a VM of the same name started at once waits for the name
 * instead (net/tap.c).  Without taps, or again, does nothing. */
void reaper_release(void);

#endif
