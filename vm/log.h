/*
 * picovm's own messages.  Everything picovm says goes through here so that
 * `log = file:PATH` can redirect it.  Errors always reach stderr as well,
 * because a user watching a failed run must see why.
 *
 * All functions are thread-safe (one write(2) per message) and never block
 * (see log_nonblocking_stderr()).
 */
#ifndef PICOVM_VM_LOG_H
#define PICOVM_VM_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* Redirects informational messages to fd (taken over; closed at exit).
 * A log FIFO or character device is opened non-blocking (vmm.c). */
void log_set_fd(int fd);
/*
 * Log writes never wait: a message goes out in one write(2), or, when the
 * sink has no room (a pipe, FIFO or terminal nobody reads), is dropped and
 * counted; the next message that fits is preceded by
 * "picovm: log: N messages dropped: nobody read them".  So a vCPU, the I/O
 * thread or the console never stalls on a stderr nobody reads.
 * log_nonblocking_stderr() (before the sandbox: it opens a file) gives
 * stderr, when it is a pipe, FIFO or terminal, an open file description of
 * picovm's own with O_NONBLOCK (through /proc/self/fd/2), so that the
 * shell's stays as it was.  Regular files are left alone.  A socket (as
 * under systemd) cannot be reopened, and O_NONBLOCK on it would be the
 * shell's too: it is written with send(MSG_DONTWAIT) instead (every
 * thread's seccomp filter then allows sendto on fd 2).  0 or -errno.
 */
int log_nonblocking_stderr(void);
/* Whether stderr is a socket (after log_nonblocking_stderr()). */
bool log_stderr_is_socket(void);
/* Messages dropped so far, all sinks. */
unsigned long long log_dropped(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Messages a guest can trigger (its actions, not the host's state) go
 * through log_limited() with a static struct log_limit per message site:
 * at most LOG_LIMIT_BURST of them, then one per LOG_LIMIT_PERIOD_MS; the
 * next one let through says how many were suppressed meanwhile, and
 * log_limit_summary() reports those still pending at exit.  So a guest
 * looping on one mistake costs a bounded number of lines.
 */
#define LOG_LIMIT_BURST 5
#define LOG_LIMIT_PERIOD_MS 10000
struct log_limit {
	const char *site;	/* for the summary; set by LOG_LIMIT() */
	uint64_t last_ms;	/* when the last message went out */
	unsigned burst;		/* messages let through so far */
	uint64_t suppressed;	/* since the last one let through */
	struct log_limit *next;	/* registered on first use */
};
#define LOG_LIMIT(name) static struct log_limit name = { .site = #name }
void log_limited(struct log_limit *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One line per site with messages suppressed since its last one; and
 * the count of dropped lines not yet told, if there is room now. */
void log_limit_summary(void);

/* Nanoseconds since picovm's process started running code (a
 * constructor records the moment; for a static binary that is a few
 * microseconds after exec). */
uint64_t log_ns_since_start(void);

#endif
