/* picovm's message sink; see log.h. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static struct timespec start_ts;

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
	/* One write per message so lines from different threads never mix;
	 * a failed log write has nowhere to be reported. */
	if (write(fd, buf, len) < 0)
		return;
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
	pthread_mutex_lock(&limit_lock);
	for (struct log_limit *l = limits; l; l = l->next)
		if (l->suppressed)
			log_err("%llu guest-triggered messages suppressed (%s)",
				(unsigned long long)l->suppressed, l->site);
	pthread_mutex_unlock(&limit_lock);
}
