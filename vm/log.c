/* picovm's message sink; see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static struct timespec start_ts;
/* Messages a full sink refused, per sink (0: stderr, 1: the log file),
 * and in all (for `picovm ctl NAME stats`). */
static atomic_ullong dropped[2], dropped_total;
static bool stderr_sock;	/* written with send(MSG_DONTWAIT) */

__attribute__((constructor(101))) static void log_mark_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_ts);
}

uint64_t log_ns_since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - start_ts.tv_sec) * 1000000000ULL +
	       (uint64_t)now.tv_nsec - (uint64_t)start_ts.tv_nsec;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

int log_nonblocking_stderr(void)
{
	struct stat st;

	if (fstat(2, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return 0;	/* a file never waits for a reader */
	if (S_ISSOCK(st.st_mode)) {
		/* Cannot be reopened, and O_NONBLOCK on it would be the
		 * shell's too: each send says MSG_DONTWAIT instead. */
		stderr_sock = true;
		return 0;
	}
	/* A description of our own (the one we inherited may be shared with
	 * the shell: O_NONBLOCK on it would be theirs too). */
	int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY |
		      O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return errno == ENXIO ? 0 : -errno;	/* a FIFO nobody reads:
							   writes fail, never wait */
	int ret = dup2(fd, 2) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

bool log_stderr_is_socket(void)
{
	return stderr_sock;
}

/* One write that never waits (log.h). */
static ssize_t sink_write(int fd, const char *buf, size_t len)
{
	if (fd == 2 && stderr_sock)
		return send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(fd, buf, len);
}

unsigned long long log_dropped(void)
{
	return atomic_load(&dropped_total);
}

/* One write, never waiting (the sink is non-blocking, log.h): a line the
 * sink has no room for is counted, and the next line that fits is
 * preceded by how many were dropped. */
static void log_write(int fd, const char *buf, size_t len)
{
	atomic_ullong *d = &dropped[fd == 2 ? 0 : 1];
	unsigned long long lost = atomic_exchange(d, 0);

	if (lost) {
		char note[96];
		int n = snprintf(note, sizeof(note), "picovm: log: %llu messages "
				 "dropped: nobody read them\n", lost);
		if (n < 0 || sink_write(fd, note, (size_t)n) != n) {
			atomic_fetch_add(d, lost + 1);
			atomic_fetch_add(&dropped_total, 1);
			return;
		}
	}
	/* One write per message so lines from different threads never mix
	 * (a pipe takes up to PIPE_BUF bytes whole or not at all). */
	if (len && sink_write(fd, buf, len) != (ssize_t)len) {
		atomic_fetch_add(d, 1);
		atomic_fetch_add(&dropped_total, 1);
	}
}

static void log_emit(int fd, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "picovm: ");
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);

	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	log_write(fd, buf, len);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(log_fd, fmt, ap);
	va_end(ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(2, fmt, ap);
	va_end(ap);
	if (log_fd != 2) {
		va_start(ap, fmt);
		log_emit(log_fd, fmt, ap);
		va_end(ap);
	}
}

static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_limit *limits;

void log_limited(struct log_limit *l, const char *fmt, ...)
{
	uint64_t now = log_ns_since_start() / 1000000, suppressed = 0;
	bool emit = false;
	va_list ap;

	pthread_mutex_lock(&limit_lock);
	if (!l->burst && !l->suppressed && !l->last_ms) {
		l->next = limits;	/* first use */
		limits = l;
	}
	if (l->burst < LOG_LIMIT_BURST || now - l->last_ms >= LOG_LIMIT_PERIOD_MS) {
		if (l->burst < LOG_LIMIT_BURST)
			l->burst++;
		l->last_ms = now ? now : 1;
		suppressed = l->suppressed;
		l->suppressed = 0;
		emit = true;
	} else {
		l->suppressed++;
	}
	pthread_mutex_unlock(&limit_lock);
	if (!emit)
		return;
	char msg[900];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed)
		log_err("%s (%llu more like this suppressed)", msg,
			(unsigned long long)suppressed);
	else
		log_err("%s", msg);
}

void log_limit_summary(void)
{
	/* Dropped lines not yet told: say so now if there is room. */
	log_write(2, "", 0);
	if (log_fd != 2)
		log_write(log_fd, "", 0);
	pthread_mutex_lock(&limit_lock);
	for (struct log_limit *l = limits; l; l = l->next)
		if (l->suppressed)
			log_err("%llu guest-triggered messages suppressed (%s)",
				(unsigned long long)l->suppressed, l->site);
	pthread_mutex_unlock(&limit_lock);
}
