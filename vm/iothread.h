/*
 * The I/O thread: one thread, one io_uring, all device work.  Queue kicks
 * (ioeventfd) arrive as completed eventfd reads; disk I/O is submitted and
 * completed on the same ring; interrupts leave through irqfd.  Nothing
 * here blocks except io_uring_enter, so one slow disk never stalls
 * another device's queue.
 *
 * Contract: io_sqe() and everything that submits must run on the I/O
 * thread (or before iothread_start()).  Each operation carries a struct
 * io_op whose done() runs on the I/O thread with the CQE's result.
 */
#ifndef PICOVM_VM_IOTHREAD_H
#define PICOVM_VM_IOTHREAD_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

struct io_op {
	void (*done)(struct io_op *op, int res);
};

/* An eventfd whose every signal runs fn(arg) on the I/O thread. */
struct io_event {
	struct io_op op;
	int fd;
	uint64_t buf;
	void (*fn)(void *arg);
	void *arg;
};

/* Creates the ring disabled (IORING_SETUP_R_DISABLED), sized for inflight
 * device requests at once (vdevs_inflight()) and the thread's own.  More
 * in flight stays correct (io_sqe() submits to make room, the kernel
 * holds completions that do not fit), only slower. */
int iothread_init(unsigned inflight);
/* One PICOVM_STATS line: the ring's size, the most requests it had in
 * flight at once, whether completions ever overflowed it.  After
 * iothread_stop(). */
void iothread_log_stats(void);
/* Registers fd as a fixed file of the ring (before iothread_seal()); every
 * operation on it goes through its fixed index (io_fix()). */
int io_file(int fd);
/* Registers the files, restricts the ring to the opcodes picovm uses and
 * to fixed files only (IORING_REGISTER_RESTRICTIONS), then enables it.
 * seccomp cannot see inside a ring: this is what keeps it to its job. */
int iothread_seal(void);
/* After an io_uring_prep_*(): turns sqe->fd into its fixed-file index. */
void io_fix(struct io_uring_sqe *sqe);
int iothread_ring_fd(void);
/* A free submission entry (submits the queued ones first when full). */
struct io_uring_sqe *io_sqe(void);
/* Arms ev to run fn(arg) each time ev->fd (an eventfd) is signalled. */
void io_event_arm(struct io_event *ev, int fd, void (*fn)(void *), void *arg);
/* Work deferred to the end of the current batch of completions: a device
 * marks what a completion changed and decides once per batch (one
 * interrupt for many completions). */
struct io_flush {
	struct io_flush *next;
	bool queued;
	void (*fn)(void *arg);
	void *arg;
};
/* Runs f->fn(f->arg) once after the completions being handled now, however
 * often it is queued meanwhile.  I/O thread only (io_on_thread()). */
void io_flush_later(struct io_flush *f);
/* A deadline: fn(arg) runs once on the I/O thread, after the completions
 * of the wait that reached it.  No timer operation on the ring (the sealed
 * ring allows none): the thread's wait itself ends at the earliest one
 * (IORING_FEAT_EXT_ARG, Linux 5.11; before it, at the next completion). */
struct io_timer {
	struct io_timer *next;
	uint64_t at_ns;			/* CLOCK_MONOTONIC */
	void (*fn)(void *arg);
	void *arg;
};
/* Arms t to run about delay_us (> 0) from now (moves it when armed);
 * cancels it.  I/O thread only. */
void io_timer_arm(struct io_timer *t, uint64_t delay_us);
void io_timer_cancel(struct io_timer *t);
/* Whether t is armed (it is off the list while its fn runs). */
bool io_timer_armed(const struct io_timer *t);
/* True on the I/O thread. */
bool io_on_thread(void);
/* Arms the thread's own stop event (before iothread_seal()). */
int iothread_prepare(void);
struct machine;
/* Starts the thread; a failure in it (its sandbox filter, the ring) stops
 * m like any other thread's does.  Without iothread_init() (a VM with no
 * virtio device) it starts none: pause, stop and exit are then no-ops. */
int iothread_start(struct machine *m);
/* Asks the thread to stop, lets the I/O in flight drain for a bounded
 * time (drain() returns nonzero while a device still has I/O in flight),
 * cancels the rest, then joins it.  Devices submit nothing new once
 * io_stopping() is true, so this ends within about 0.6 s. */
void iothread_stop(int (*drain)(void *), void *arg);
/* Parks the thread (as one completion of a batch) and returns once it is
 * parked: true, or false when it is stopping instead.  Until
 * iothread_resume() no completion is handled, nothing is submitted, no
 * used ring, device state or interrupt changes; I/O the kernel already
 * holds may finish meanwhile, its completion waits.  Any thread but the
 * I/O thread, one at a time (vm/pause.h serialises the callers: the
 * snapshot and the control socket); iothread_stop() ends a pause. */
bool iothread_pause(void);
void iothread_resume(void);
/* True once the thread is stopping (any thread may ask). */
bool io_stopping(void);
/* True when the stop left disk I/O in flight: the kernel may still write
 * into guest memory, so guest RAM must stay mapped (and the ring open)
 * until the process exits. */
bool iothread_left_busy(void);
void iothread_exit(void);

#endif
