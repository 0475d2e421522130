/* What server.c (socket, thread, clients, notify) and requests.c share. */
#ifndef PICOVM_CONTROL_INTERNAL_H
#define PICOVM_CONTROL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control.h"
#include "../devices/chardev.h"

struct client {
	int fd;				/* -1: free slot */
	bool waiting;			/* on stop/kill: replied at the end */
	uint64_t last_seen;		/* ctl->events when it last sent or
					 * came: the smallest is the idlest */
	size_t len;
	char buf[CONTROL_LINE_MAX];
};

struct control {
	struct vm *vm;
	struct machine *m;
	const char *name;
	char path[108];			/* the socket; "" when none */
	int fd, dir_fd;			/* listening socket, its folder */
	char base[108];			/* its name in dir_fd */
	uid_t owner;			/* served: this uid and root */
	int notify_fd;			/* NOTIFY_SOCKET, connected; -1 */
	int efd;			/* wakes the thread */
	pthread_t thread;
	bool started;
	bool accept_blocked;		/* accept4 failed: until a client goes */
	uint64_t events;		/* clients accepted or heard from */

	/* lock: held by the thread while it handles a request, taken by
	 * control_stopping() and control_finish(). */
	pthread_mutex_t lock;
	bool stopping, finished;
	int status;			/* with finished */

	/* The thread's own. */
	bool paused, stop_asked, ready_sent;
	uint64_t stop_deadline_ms;	/* 0: none */
	bool has_console;
	struct chardev console;
	struct client cl[CONTROL_MAX_CLIENTS];
};

/* A reply being built: key = value lines, then ok or error. */
struct reply {
	char buf[4096];
	size_t len;
	bool truncated;
};
void reply_put(struct reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

uint64_t control_now_ms(void);
/* Sends text to systemd's notify socket, when there is one. */
void control_notify(struct control *ctl, const char *text);

/* requests.c: handles one request line; returns true when the client
 * waits for the end of the VM (stop, kill) instead of a reply now. */
bool control_request(struct control *ctl, char *line, struct reply *r);
/* The VM stopping while paused: forget the pause. */
const char *control_state(const struct control *ctl);

#endif
