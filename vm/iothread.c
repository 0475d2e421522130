/* The I/O thread's loop; see iothread.h. */
#include "iothread.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

/* How long a stopping VM waits for in-flight disk I/O to finish. */
#define IOTHREAD_DRAIN_MS 10000

static struct io_uring ring;
static bool ring_up;
static pthread_t thread;
static bool thread_up;
static atomic_bool stop;
static int (*drain_fn)(void *);
static void *drain_arg;
static struct io_event stop_ev;
static int stop_fd = -1;

struct io_uring_sqe *io_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

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
		if (res > 0 && !atomic_load(&stop))
			ev->fn(ev->arg);
	} else {
		log_err("io thread: eventfd read failed: %s", strerror(-res));
		return;
	}
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_read(sqe, ev->fd, &ev->buf, sizeof(ev->buf), 0);
	io_uring_sqe_set_data(sqe, &ev->op);
}

void io_event_arm(struct io_event *ev, int fd, void (*fn)(void *), void *arg)
{
	ev->op.done = io_event_done;
	ev->fd = fd;
	ev->fn = fn;
	ev->arg = arg;
	struct io_uring_sqe *sqe = io_sqe();
	io_uring_prep_read(sqe, fd, &ev->buf, sizeof(ev->buf), 0);
	io_uring_sqe_set_data(sqe, &ev->op);
}

int iothread_init(unsigned entries)
{
	int ret = io_uring_queue_init(entries, &ring, 0);

	if (ret < 0) {
		log_err("io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	ring_up = true;
	return 0;
}

static void on_stop(void *arg)
{
	(void)arg;
	atomic_store(&stop, true);
}

static void reap(void)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&ring, head, cqe) {
		struct io_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		n++;
		if (op)
			op->done(op, res);
	}
	io_uring_cq_advance(&ring, n);
}

static void *iothread_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			log_err("io thread: io_uring_enter: %s", strerror(-ret));
			break;
		}
		reap();
	}
	/* Let what the guest already handed us finish: a write it was told
	 * about must not be lost because the VM is stopping. */
	for (int ms = 0; drain_fn && drain_fn(drain_arg) && ms < IOTHREAD_DRAIN_MS;) {
		struct __kernel_timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
		struct io_uring_cqe *cqe;
		io_uring_submit(&ring);
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == -ETIME)
			ms += 10;
		reap();
	}
	return NULL;
}

int iothread_start(void)
{
	stop_fd = eventfd(0, EFD_CLOEXEC);
	if (stop_fd < 0)
		return -errno;
	io_event_arm(&stop_ev, stop_fd, on_stop, NULL);
	int ret = pthread_create(&thread, NULL, iothread_main, NULL);
	if (ret) {
		log_err("cannot start the io thread: %s", strerror(ret));
		return -ret;
	}
	pthread_setname_np(thread, "io");
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
	if (write(stop_fd, &one, sizeof(one)) < 0)
		log_err("cannot stop the io thread: %s", strerror(errno));
	pthread_join(thread, NULL);
	thread_up = false;
}

void iothread_exit(void)
{
	if (ring_up)
		io_uring_queue_exit(&ring);
	ring_up = false;
	if (stop_fd >= 0)
		close(stop_fd);
	stop_fd = -1;
}
