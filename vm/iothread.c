/* The I/O thread's loop; see iothread.h. */
#include "iothread.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "machine.h"
#include "../seccomp/sandbox.h"
#include "thread.h"

/* How long a stopping VM waits for the I/O already in flight (a few
 * chunks per disk, see virtio/blk.c) before it cancels it, and then for
 * the cancellations.  Part of the stop's bound (picovm(1)). */
#define IOTHREAD_DRAIN_MS 400
#define IOTHREAD_CANCEL_MS 200

#define IO_MAX_FILES 128
/* The thread's own requests in flight at most: its stop and pause
 * events, the cancel at the stop, and the test build's two probes. */
#define IO_OWN_INFLIGHT 5
/* The largest ring (io_uring allows 32768 submission entries). */
#define IO_MAX_ENTRIES 4096

static struct io_uring ring;
static int files[IO_MAX_FILES];
static unsigned nfiles;
static bool ring_up;
static pthread_t thread;
static bool thread_up;
static atomic_bool stop;
static int (*drain_fn)(void *);
static void *drain_arg;
static struct io_event stop_ev;
static int stop_fd = -1;
/* Pause (iothread_pause()): the thread parks inside on_pause(). */
static struct io_event pause_ev;
static int pause_fd = -1;
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pause_cond = PTHREAD_COND_INITIALIZER;
static bool pause_req, paused;
static struct machine *machine;
static struct io_flush *flush_list;
static struct io_timer *timer_list;	/* armed ones, I/O thread only */
static _Thread_local bool on_io_thread;
static bool left_busy;		/* the kernel may still write guest memory */
/* Every SQE picovm takes yields exactly one CQE (no multishot requests),
 * so their difference is what the kernel still holds. */
static uint64_t sqes_taken, cqes_seen;
/* For PICOVM_STATS: the ring's size, the most requests in flight at
 * once, and whether the kernel ever had to hold completions back because
 * the completion ring was full (IORING_SQ_CQ_OVERFLOW). */
static unsigned ring_entries, peak_inflight;
static bool cq_overflowed;

bool io_stopping(void)
{
	return atomic_load(&stop);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void reap(void);

/* Submits what is queued, then waits until want completions have arrived
 * or the deadline (now_ms() clock) has passed, and handles what came.
 * The wait ends with the last completion it asked for: there is no idle
 * slice to sit out (nothing waits for "no completion in N ms"). */
static void wait_for(unsigned want, uint64_t deadline)
{
	struct io_uring_cqe *cqe;
	uint64_t now = now_ms();

	if (want == 0 || now >= deadline) {
		io_uring_submit(&ring);
		reap();
		return;
	}
	uint64_t left = deadline - now;
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(left / 1000),
		.tv_nsec = (long long)(left % 1000) * 1000000,
	};
	io_uring_submit_and_wait_timeout(&ring, &cqe, want, &ts, NULL);
	reap();
}

/* What the kernel still holds (every SQE yields exactly one CQE). */
static unsigned outstanding(void)
{
	uint64_t n = sqes_taken - cqes_seen;

	return n > UINT_MAX ? UINT_MAX : (unsigned)n;
}

struct io_uring_sqe *io_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	sqes_taken++;
	if (outstanding() > peak_inflight)
		peak_inflight = outstanding();
	while (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	return sqe;
}

static void io_event_done(struct io_op *op, int res)
{
	struct io_event *ev = (struct io_event *)op;

	if (res == -ECANCELED)
		return;
	if (res > 0 || res == -EAGAIN || res == -EINTR) {
		if (atomic_load(&stop))
			return;	/* a stopping thread arms nothing new */
		if (res > 0)
			ev->fn(ev->arg);
	} else {
		log_err("io thread: eventfd read failed: %s", strerror(-res));
		return;
	}
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_read(sqe, ev->fd, &ev->buf, sizeof(ev->buf), 0);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &ev->op);
}

void io_event_arm(struct io_event *ev, int fd, void (*fn)(void *), void *arg)
{
	ev->op.done = io_event_done;
	ev->fd = fd;
	ev->fn = fn;
	ev->arg = arg;
	io_file(fd);
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_read(sqe, fd, &ev->buf, sizeof(ev->buf), 0);
	io_fix(sqe);
	io_uring_sqe_set_data(sqe, &ev->op);
}

int io_file(int fd)
{
	for (unsigned i = 0; i < nfiles; i++)
		if (files[i] == fd)
			return (int)i;
	if (nfiles == IO_MAX_FILES)
		return -ENOSPC;
	files[nfiles] = fd;
	return (int)nfiles++;
}

void io_fix(struct io_uring_sqe *sqe)
{
	for (unsigned i = 0; i < nfiles; i++) {
		if (files[i] == sqe->fd) {
			sqe->fd = (int)i;
			sqe->flags |= IOSQE_FIXED_FILE;
			return;
		}
	}
	/* Not registered: left as is, and the sealed ring refuses it. */
}

int iothread_ring_fd(void)
{
	return ring_up ? ring.ring_fd : -1;
}

int iothread_seal(void)
{
	/* Exactly the operations the devices submit (iothread.c, virtio/). */
	static const uint8_t ops[] = {
		IORING_OP_READ,		/* eventfds: kicks, host wake-ups */
		IORING_OP_READV,	/* virtio-blk reads, virtio-net RX */
		IORING_OP_WRITEV,	/* virtio-blk writes, virtio-net TX */
		IORING_OP_FSYNC,	/* virtio-blk FLUSH */
		IORING_OP_FALLOCATE,	/* virtio-blk DISCARD, WRITE_ZEROES */
		IORING_OP_ASYNC_CANCEL,	/* stopping: cancel what still waits */
	};
	struct io_uring_restriction res[sizeof(ops) + 2];
	int ret;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < sizeof(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[sizeof(ops)].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[sizeof(ops)].sqe_flags = IOSQE_FIXED_FILE;
	/* The one registration allowed after sealing: dropping the files
	 * when the VM stops. */
	res[sizeof(ops) + 1].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[sizeof(ops) + 1].register_op = IORING_UNREGISTER_FILES;
	if (nfiles && (ret = io_uring_register_files(&ring, files, nfiles)) < 0) {
		log_err("io_uring: registering files: %s", strerror(-ret));
		return ret;
	}
	if ((ret = io_uring_register_restrictions(&ring, res,
						  (unsigned)(sizeof(ops) + 2))) < 0) {
		log_err("io_uring: IORING_REGISTER_RESTRICTIONS: %s", strerror(-ret));
		return ret;
	}
	if ((ret = io_uring_enable_rings(&ring)) < 0) {
		log_err("io_uring: enabling the ring: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int iothread_init(unsigned inflight)
{
	/* As many submission and completion entries as requests can be in
	 * flight: a batch never waits for room, and no completion ever waits
	 * in the kernel's overflow list.  Every submission entry is 64
	 * bytes of kernel memory mapped into picovm, resident (its PSS), so
	 * no more than that: 16 for a VM with one disk, where a fixed 512
	 * (and 1024 completion entries) took 52 KiB per VM. */
	struct io_uring_params p = {
		.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE,
	};
	unsigned entries = 8;

	while (entries < IO_MAX_ENTRIES && entries < inflight + IO_OWN_INFLIGHT)
		entries *= 2;
	p.cq_entries = entries;
	int ret = io_uring_queue_init_params(entries, &ring, &p);
	if (ret < 0) {
		log_err("io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	ring_entries = entries;
	ring_up = true;
	return 0;
}

void iothread_log_stats(void)
{
	if (!ring_up) {
		log_info("stats: io ring: none (no virtio device, no io thread)");
		return;
	}
	log_info("stats: io ring: %u entries, at most %u requests in flight, "
		 "completions %s", ring_entries, peak_inflight,
		 cq_overflowed ? "overflowed the ring" : "never overflowed");
}

static void on_stop(void *arg)
{
	(void)arg;
	atomic_store(&stop, true);
}

/* On the I/O thread, as one completion of a batch: the rest of the batch
 * and its deferred interrupts wait; nothing is reaped, submitted or
 * pushed to a used ring until the resume (or the stop). */
static void on_pause(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pause_lock);
	if (pause_req && !atomic_load(&stop)) {
		paused = true;
		pthread_cond_broadcast(&pause_cond);
		while (pause_req && !atomic_load(&stop))
			pthread_cond_wait(&pause_cond, &pause_lock);
		paused = false;
		pthread_cond_broadcast(&pause_cond);
	}
	pthread_mutex_unlock(&pause_lock);
}

bool iothread_pause(void)
{
	uint64_t one = 1;

	if (!thread_up)
		return true;
	pthread_mutex_lock(&pause_lock);
	pause_req = true;
	pthread_mutex_unlock(&pause_lock);
	if (write(pause_fd, &one, sizeof(one)) < 0)
		return false;
	/* Rechecked every 100 ms: a thread that failed meanwhile stopped
	 * the machine instead of parking. */
	pthread_mutex_lock(&pause_lock);
	while (!paused && !atomic_load(&stop) && !machine_stopping(machine)) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100000000;
		if (t.tv_nsec >= 1000000000)
			t.tv_sec++, t.tv_nsec -= 1000000000;
		pthread_cond_timedwait(&pause_cond, &pause_lock, &t);
	}
	bool ok = paused;
	pthread_mutex_unlock(&pause_lock);
	return ok;
}

void iothread_resume(void)
{
	pthread_mutex_lock(&pause_lock);
	pause_req = false;
	pthread_cond_broadcast(&pause_cond);
	while (paused)
		pthread_cond_wait(&pause_cond, &pause_lock);
	pthread_mutex_unlock(&pause_lock);
}

static void flush_run(void)
{
	while (flush_list) {
		struct io_flush *f = flush_list;
		flush_list = f->next;
		f->queued = false;
		f->fn(f->arg);
	}
}

static void reap(void)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	if (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW)
		cq_overflowed = true;
	io_uring_for_each_cqe(&ring, head, cqe) {
		struct io_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		n++;
		cqes_seen++;
		if (op)
			op->done(op, res);
	}
	io_uring_cq_advance(&ring, n);
	flush_run();
}

void io_flush_later(struct io_flush *f)
{
	if (f->queued)
		return;
	f->queued = true;
	f->next = flush_list;
	flush_list = f;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void io_timer_cancel(struct io_timer *t)
{
	for (struct io_timer **p = &timer_list; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
}

bool io_timer_armed(const struct io_timer *t)
{
	for (const struct io_timer *p = timer_list; p; p = p->next)
		if (p == t)
			return true;
	return false;
}

void io_timer_arm(struct io_timer *t, uint64_t delay_us)
{
	io_timer_cancel(t);
	t->at_ns = now_ns() + delay_us * 1000;
	t->next = timer_list;
	timer_list = t;
}

/* The earliest deadline, 0 for none. */
static uint64_t timer_next(void)
{
	uint64_t at = 0;

	for (struct io_timer *t = timer_list; t; t = t->next)
		if (!at || t->at_ns < at)
			at = t->at_ns;
	return at;
}

/* Runs the timers whose deadline has passed (each may arm itself again:
 * it is off the list while it runs). */
static void timers_run(void)
{
	uint64_t now = now_ns();

	for (bool again = true; again;) {
		again = false;
		for (struct io_timer *t = timer_list; t; t = t->next)
			if (t->at_ns <= now) {
				io_timer_cancel(t);
				t->fn(t->arg);
				again = true;	/* the list changed */
				break;
			}
	}
	flush_run();	/* what the timers marked (interrupts) */
}

/* The loop's wait: for one completion, or until the earliest timer.
 * Without IORING_FEAT_EXT_ARG (before Linux 5.11) liburing would time
 * the wait with a timeout request, which the sealed ring refuses: timers
 * then run only after the next completion. */
static int wait_next(void)
{
	uint64_t at = timer_next();

	if (!at || !(ring.features & IORING_FEAT_EXT_ARG))
		return io_uring_submit_and_wait(&ring, 1);
	uint64_t now = now_ns(), left = at > now ? at - now : 0;
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(left / 1000000000u),
		.tv_nsec = (long long)(left % 1000000000u),
	};
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
	return ret == -ETIME ? 0 : ret;
}

bool io_on_thread(void)
{
	return on_io_thread;
}

static void cancel_all_done(struct io_op *op, int res)
{
	(void)op;
	if (res < 0 && res != -ENOENT)
		log_err("io thread: cancelling at stop: %s", strerror(-res));
}
static struct io_op cancel_all_op = { cancel_all_done };

#ifdef PICOVM_TEST_HOOKS
/* PICOVM_TEST_URING=1: prove the sealed ring refuses what it must: an
 * operation on a file that is not registered, and an opcode outside the
 * list.  Each result is logged when its completion arrives. */
static void uring_test_done(struct io_op *op, int res);
static struct io_op uring_test_ops[2] = { { uring_test_done }, { uring_test_done } };

static void uring_test_done(struct io_op *op, int res)
{
	log_info("io_uring test: %s: res=%d", op == &uring_test_ops[0] ?
		 "unregistered file" : "opcode outside the list", res);
}

static void uring_test_hook(void)
{
	static char buf[8];

	if (!getenv("PICOVM_TEST_URING"))
		return;
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_read(sqe, 0, buf, sizeof(buf), 0);	/* not fixed */
	io_uring_sqe_set_data(sqe, &uring_test_ops[0]);
	sqe = io_sqe();
	io_uring_prep_nop(sqe);					/* not allowed */
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, &uring_test_ops[1]);
}
#else
static void uring_test_hook(void) {}
#endif

static void *iothread_main(void *arg)
{
	(void)arg;
	on_io_thread = true;
	if (sandbox_thread(SANDBOX_IO, "io") < 0) {
		/* An I/O thread without its filter must not run. */
		machine_stop(machine, EXIT_VM_FAILURE, NULL);
		return NULL;
	}
	uring_test_hook();
	while (!atomic_load(&stop)) {
		int ret = wait_next();
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			machine_stop(machine, EXIT_VM_FAILURE,
				     "io thread: io_uring_enter: %s", strerror(-ret));
			break;
		}
		reap();
		if (!atomic_load(&stop))
			timers_run();
	}
	/* Let the chunks already submitted finish (devices submit nothing
	 * new once stopping): a write the guest was told about is done
	 * already; one it was not told about may be cut short.  Bounded by
	 * wall time, not by a count of idle waits. */
	uint64_t end = now_ms() + IOTHREAD_DRAIN_MS;
	while (drain_fn && drain_fn(drain_arg) && now_ms() < end)
		wait_for(1, end);
	/* Cancel what still waits (eventfd reads, a tap read with no traffic,
	 * a disk chunk on a stalled device), then wait for exactly the
	 * completions still owed: the cancel's own and one per request. */
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
	sqe->flags |= IOSQE_FIXED_FILE;	/* the sealed ring wants it */
	io_uring_sqe_set_data(sqe, &cancel_all_op);
	end = now_ms() + IOTHREAD_CANCEL_MS;
	do
		wait_for(outstanding(), end);
	while (sqes_taken != cqes_seen && now_ms() < end);
	/* A request that neither finished nor was cancelled (a disk chunk on
	 * a stalled device) may still write into guest memory: picovm then
	 * keeps guest RAM mapped and the ring open until it exits
	 * (iothread_left_busy()).  Otherwise,
	 * drop the ring's references to our files now: the kernel would
	 * release them only some time after we exit, keeping an
	 * auto-created tap alive and "busy" for the next VM of that name.
	 * (Unregistering waits for every request using the files, so it is
	 * skipped when some are left.) */
	if (sqes_taken != cqes_seen) {
		left_busy = true;
		log_err("io thread: %llu I/O requests still in flight at stop; "
			"exiting without waiting for them",
			(unsigned long long)(sqes_taken - cqes_seen));
		return NULL;
	}
	int r0;
	if (nfiles && (r0 = io_uring_unregister_files(&ring)) < 0)
		log_err("io_uring: unregistering files: %s", strerror(-r0));
	return NULL;
}

int iothread_prepare(void)
{
	stop_fd = eventfd(0, EFD_CLOEXEC);
	pause_fd = eventfd(0, EFD_CLOEXEC);
	if (stop_fd < 0 || pause_fd < 0) {
		int e = errno;
		log_err("io thread: eventfd: %s", strerror(e));
		return -e;
	}
	io_event_arm(&stop_ev, stop_fd, on_stop, NULL);
	io_event_arm(&pause_ev, pause_fd, on_pause, NULL);
	return 0;
}

int iothread_start(struct machine *m)
{
	machine = m;
	if (!ring_up)
		return 0;	/* no virtio device: nothing to serve */
	int ret = thread_spawn(&thread, iothread_main, NULL);
	if (ret) {
		log_err("cannot start the io thread: %s", strerror(ret));
		return -ret;
	}
	thread_up = true;
	return 0;
}

void iothread_stop(int (*drain)(void *), void *arg)
{
	uint64_t one = 1;

	if (!thread_up)
		return;
	drain_fn = drain;
	drain_arg = arg;
	/* A paused thread must see the stop: the stop ends a pause. */
	atomic_store(&stop, true);
	iothread_resume();
	if (write(stop_fd, &one, sizeof(one)) < 0)
		log_err("cannot stop the io thread: %s", strerror(errno));
	pthread_join(thread, NULL);
	thread_up = false;
}

bool iothread_left_busy(void)
{
	return left_busy;
}

void iothread_exit(void)
{
	if (left_busy)
		return;	/* the process exit tears the ring down */
	if (ring_up)
		io_uring_queue_exit(&ring);
	ring_up = false;
	if (stop_fd >= 0)
		close(stop_fd);
	stop_fd = -1;
	if (pause_fd >= 0)
		close(pause_fd);
	pause_fd = -1;
}
