/*
 * picovm's own messages.  Everything picovm says goes through here so that
 * `log = file:PATH` can redirect it.  Errors always reach stderr as well,
 * because a user watching a failed run must see why.
 *
 * All functions are thread-safe (one write(2) per message).
 */
#ifndef PICOVM_VM_LOG_H
#define PICOVM_VM_LOG_H

#include <stdint.h>

/* Redirects informational messages to fd (taken over; closed at exit). */
void log_set_fd(int fd);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Nanoseconds since picovm's process started running code (a
 * constructor records the moment; for a static binary that is a few
 * microseconds after exec). */
uint64_t log_ns_since_start(void);

#endif
