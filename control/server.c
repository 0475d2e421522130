/*
 * The control socket and its thread (control.h).  Clients are served
 * without ever blocking: each has a fixed line buffer, reads and replies
 * are non-blocking, and a client whose request is too long or who does not
 * read its replies is dropped.  When all CONTROL_MAX_CLIENTS slots are
 * taken, a new client takes the slot of the one heard from least recently
 * (told why, then closed): idle connections can never lock a script's
 * `picovm ctl` out.  Only clients waiting for the end of a stop or kill
 * keep their slot; when all of them do, the new one is refused.  The
 * thread touches the vCPUs and devices only through requests.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "../config/config.h"
#include "../seccomp/sandbox.h"
#include "../vm/log.h"
#include "../vm/machine.h"
#include "../vm/vm.h"
#include "../vm/thread.h"

/* Clients and the one refusal are opened after the sandbox caps the
 * descriptors: they must fit in its headroom. */
_Static_assert(CONTROL_MAX_CLIENTS + 1 <= SANDBOX_FD_HEADROOM,
	       "control clients do not fit in SANDBOX_FD_HEADROOM");

uint64_t control_now_ms(void)
{
	return log_ns_since_start() / 1000000;
}

void reply_put(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	if (r->truncated)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->buf) - r->len)
		r->truncated = true;
	else
		r->len += (size_t)n;
}

void control_notify(struct control *ctl, const char *text)
{
	if (ctl->notify_fd >= 0 &&
	    send(ctl->notify_fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_err("control: systemd notify: %s", strerror(errno));
}

/* NOTIFY_SOCKET: a path, or @name in the abstract namespace. */
static int notify_open(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len;

	if (!s || !*s)
		return -1;
	len = strlen(s);
	if ((s[0] != '/' && s[0] != '@') || len >= sizeof(a.sun_path)) {
		log_err("NOTIFY_SOCKET: '%s' is not a socket path; not notifying", s);
		return -1;
	}
	memcpy(a.sun_path, s, len);
	if (s[0] == '@')
		a.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		log_err("NOTIFY_SOCKET: %s: %s; not notifying", s, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* What answers on path: 0 a VM (connect() succeeds), else the errno of
 * connect(): ECONNREFUSED means nobody listens (a stale socket), EACCES
 * that this user may not connect (another user's socket, live or not). */
static int socket_probe(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return errno;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		err = errno;
	close(fd);
	return err;
}

/* Removes the socket; says so when it cannot (a VM that runs as
 * sandbox.user may not write the folder root made the socket in). */
static void socket_remove(struct control *ctl)
{
	int err = unlinkat(ctl->dir_fd, ctl->base, 0) < 0 ? errno : 0;

	if (err && err != ENOENT)
		log_err("control: cannot remove %s: %s%s; it stays, stale (no "
			"VM answers on it): the next start of %s replaces it, "
			"`picovm ls` skips it", ctl->path, strerror(err),
			err == EACCES ? " (as sandbox.user picovm may not "
			"write the folder)" : "", ctl->name);
}

/* Binds ctl->path, replacing a stale socket.  -2: the user's error. */
static int socket_open(struct control *ctl)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	char dir[sizeof(ctl->path)];

	snprintf(dir, sizeof(dir), "%s", ctl->path);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	snprintf(ctl->base, sizeof(ctl->base), "%s", slash + 1);
	ctl->dir_fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctl->dir_fd < 0) {
		log_err("control: %s: %s", dir, strerror(errno));
		return -2;
	}
	if (fstatat(ctl->dir_fd, ctl->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("control: %s exists and is not a socket; expected a "
				"free name", ctl->path);
			return -2;
		}
		int err = socket_probe(ctl->path);
		if (err == 0) {
			log_err("a VM named %s is already running (control socket "
				"%s)", ctl->name, ctl->path);
			return -2;
		}
		if (err != ECONNREFUSED && err != ENOENT) {
			log_err("control: %s belongs to uid %u and this user (uid "
				"%u) cannot tell whether a VM answers on it (%s); "
				"expected a free name: another name= or control = "
				"PATH", ctl->path, (unsigned)st.st_uid,
				(unsigned)geteuid(), strerror(err));
			return -2;
		}
		/* Stale (nobody listens): replaced, whoever left it. */
		if (unlinkat(ctl->dir_fd, ctl->base, 0) < 0 && errno != ENOENT) {
			log_err("control: %s is a stale control socket (no VM "
				"answers on it, owner uid %u) and cannot be "
				"removed: %s; remove it or choose another name",
				ctl->path, (unsigned)st.st_uid, strerror(errno));
			return -2;
		}
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->fd < 0) {
		log_err("control: socket: %s", strerror(errno));
		return -1;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", ctl->path);
	mode_t old = umask(0177);	/* mode 0600 from the start */
	int ret = bind(ctl->fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret < 0) {
		if (errno == EADDRINUSE)
			log_err("a VM named %s is already running (control socket "
				"%s)", ctl->name, ctl->path);
		else
			log_err("control: %s: %s", ctl->path, strerror(errno));
		return errno == EADDRINUSE || errno == EACCES ||
		       errno == ENOENT ? -2 : -1;
	}
	if (listen(ctl->fd, CONTROL_MAX_CLIENTS) < 0) {
		log_err("control: listen: %s", strerror(errno));
		unlinkat(ctl->dir_fd, ctl->base, 0);
		return -1;
	}
	return 0;
}

/* unlink: remove the socket too (only before the main thread's filter,
 * which does not allow it: otherwise the control thread has removed it,
 * or it stays, stale, for the next start to replace). */
static void control_free(struct control *ctl, bool unlink)
{
	if (ctl->fd >= 0) {
		/* Removed before it stops answering: a VM of the same name
		 * starting now sees a live socket or none, never ours stale. */
		if (unlink)
			socket_remove(ctl);
		close(ctl->fd);
	}
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->cl[i].fd >= 0)
			close(ctl->cl[i].fd);
	if (ctl->dir_fd >= 0)
		close(ctl->dir_fd);
	if (ctl->notify_fd >= 0)
		close(ctl->notify_fd);
	if (ctl->efd >= 0)
		close(ctl->efd);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

int control_open(const struct config *c, struct control **out)
{
	bool want_socket = c->control && *c->control;
	int notify_fd = notify_open();

	*out = NULL;
	if (!want_socket && notify_fd < 0)
		return 0;
	struct control *ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		log_err("control: out of memory");
		if (notify_fd >= 0)
			close(notify_fd);
		return -1;
	}
	ctl->name = c->name;
	ctl->fd = ctl->dir_fd = -1;
	ctl->notify_fd = notify_fd;
	ctl->owner = geteuid();
	pthread_mutex_init(&ctl->lock, NULL);
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		ctl->cl[i].fd = -1;
	ctl->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctl->efd < 0) {
		log_err("control: eventfd: %s", strerror(errno));
		control_free(ctl, true);
		return -1;
	}
	if (want_socket) {
		char dir[4096];
		if (strcmp(c->control, "auto") == 0) {
			if (control_runtime_dir(dir, sizeof(dir)) < 0) {
				control_free(ctl, true);
				return -2;
			}
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				log_err("control: cannot create %s: %s", dir,
					strerror(errno));
				control_free(ctl, true);
				return -2;
			}
		}
		int ret = control_socket_path(c->control, c->name, ctl->path,
					      sizeof(ctl->path));
		if (ret == 0)
			ret = socket_open(ctl);
		if (ret < 0) {
			if (ctl->fd >= 0)
				close(ctl->fd);
			ctl->fd = -1;	/* not ours to remove */
			control_free(ctl, true);
			return ret == -1 ? -1 : -2;
		}
	}
	control_notify(ctl, "STATUS=booting");
	*out = ctl;
	return 0;
}

int control_event_fd(const struct control *ctl)
{
	return ctl ? ctl->efd : -1;
}

void control_sandbox_fds(const struct control *ctl, struct sandbox_fds *f)
{
	f->control_fd = ctl ? ctl->fd : -1;
	f->control_dir_fd = ctl && ctl->fd >= 0 ? ctl->dir_fd : -1;
}

static void client_drop(struct control *ctl, struct client *cl)
{
	ctl->accept_blocked = false;
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
	cl->waiting = false;
}

/* Sends a whole reply or drops the client: one that does not read its
 * replies gets no buffer on our side. */
static void client_send(struct control *ctl, struct client *cl, const char *buf, size_t len)
{
	ssize_t n = send(cl->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 || (size_t)n != len)
		client_drop(ctl, cl);
}

static void client_reply(struct control *ctl, struct client *cl, struct reply *r)
{
	if (r->truncated) {
		r->len = 0;
		r->truncated = false;
		reply_put(r, "error: the reply is too long\n");
	}
	client_send(ctl, cl, r->buf, r->len);
}

static void client_error(struct control *ctl, struct client *cl, const char *why)
{
	struct reply r = { .len = 0 };

	reply_put(&r, "error: %s\n", why);
	client_reply(ctl, cl, &r);
}

/* A slot for a new client: a free one, else the one heard from least
 * recently, dropped with a reason; NULL when every client waits for the
 * end of a stop or kill (those keep their slot). */
static struct client *client_slot(struct control *ctl)
{
	struct client *idlest = NULL;

	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &ctl->cl[i];
		if (cl->fd < 0)
			return cl;
		if (!cl->waiting && (!idlest || cl->last_seen < idlest->last_seen))
			idlest = cl;
	}
	if (idlest) {
		client_error(ctl, idlest, "dropped: idle while every client "
			     "slot was taken");
		if (idlest->fd >= 0)
			client_drop(ctl, idlest);
	}
	return idlest;
}

static void accept_clients(struct control *ctl)
{
	for (;;) {
		int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* Out of descriptors (cannot happen within the
			 * sandbox's headroom, but never spin on it): wait for
			 * a client to go. */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				ctl->accept_blocked = true;
			return;
		}
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client tmp = { .fd = fd, .last_seen = ++ctl->events };
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != ctl->owner && cred.uid != 0)) {
			client_error(ctl, &tmp, "permission denied: only the VM's "
				     "user and root may control it");
			if (tmp.fd >= 0)
				close(fd);
			continue;
		}
		struct client *cl = client_slot(ctl);
		if (!cl) {
			client_error(ctl, &tmp, "too many clients waiting for the "
				     "VM to end; try again later");
			if (tmp.fd >= 0)
				close(fd);
			continue;
		}
		*cl = tmp;
	}
}

/* Reads what the client sent and answers each complete line. */
static void client_read(struct control *ctl, struct client *cl)
{
	ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len,
			 MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Gone.  A stop or kill it asked for goes on. */
		client_drop(ctl, cl);
		return;
	}
	if (n < 0)
		return;
	cl->last_seen = ++ctl->events;
	cl->len += (size_t)n;
	char *nl;
	while (cl->fd >= 0 && !cl->waiting &&
	       (nl = memchr(cl->buf, '\n', cl->len))) {
		struct reply r = { .len = 0 };
		size_t used = (size_t)(nl - cl->buf) + 1;
		*nl = '\0';
		pthread_mutex_lock(&ctl->lock);
		cl->waiting = control_request(ctl, cl->buf, &r);
		pthread_mutex_unlock(&ctl->lock);
		memmove(cl->buf, cl->buf + used, cl->len - used);
		cl->len -= used;
		if (!cl->waiting)
			client_reply(ctl, cl, &r);
	}
	if (cl->fd >= 0 && cl->len == sizeof(cl->buf)) {
		char why[64];
		snprintf(why, sizeof(why), "request longer than %d bytes",
			 CONTROL_LINE_MAX - 1);
		client_error(ctl, cl, why);
		if (cl->fd >= 0)
			client_drop(ctl, cl);
	}
}

/* The end: the VM is gone, status is its exit status. */
static void finish(struct control *ctl)
{
	struct reply r = { .len = 0 };

	reply_put(&r, "status = %d\nok\n", ctl->status);
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->cl[i].fd >= 0 && ctl->cl[i].waiting)
			client_send(ctl, &ctl->cl[i], r.buf, r.len);
}

static void *control_thread(void *arg)
{
	struct control *ctl = arg;
	bool stopping_sent = false;

	if (sandbox_thread(SANDBOX_CONTROL, "control") < 0) {
		machine_stop(ctl->m, EXIT_VM_FAILURE, NULL);
		goto remove;	/* unfiltered: it still may */
	}
	for (;;) {
		struct pollfd p[2 + CONTROL_MAX_CLIENTS];
		p[0] = (struct pollfd){ .fd = ctl->efd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = ctl->accept_blocked ? -1 : ctl->fd,
					.events = POLLIN };
		for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
			p[2 + i] = (struct pollfd){ .fd = ctl->cl[i].fd,
						    .events = POLLIN };
		int timeout = -1;
		if (ctl->stop_deadline_ms) {
			uint64_t now = control_now_ms();
			timeout = now >= ctl->stop_deadline_ms ? 0 :
				  (int)(ctl->stop_deadline_ms - now);
		}
		int n = poll(p, 2 + CONTROL_MAX_CLIENTS, timeout);
		if (n < 0 && errno != EINTR)
			break;
		uint64_t v;
		if (p[0].revents & POLLIN && read(ctl->efd, &v, sizeof(v)) < 0)
			v = 0;
		pthread_mutex_lock(&ctl->lock);
		bool stopping = ctl->stopping, finished = ctl->finished;
		pthread_mutex_unlock(&ctl->lock);
		if (!ctl->ready_sent && atomic_load(&ctl->m->boot_ns)) {
			ctl->ready_sent = true;
			control_notify(ctl, "READY=1\nSTATUS=running");
		}
		if (stopping && !stopping_sent) {
			stopping_sent = true;
			control_notify(ctl, "STOPPING=1\nSTATUS=stopping");
		}
		if (finished) {
			finish(ctl);
			break;
		}
		if (ctl->stop_deadline_ms && control_now_ms() >= ctl->stop_deadline_ms) {
			ctl->stop_deadline_ms = 0;
			machine_stop(ctl->m, EXIT_VM_KILLED, "stop: the guest did not "
				     "shut down in time; ended it");
		}
		if (p[1].revents & POLLIN)
			accept_clients(ctl);
		for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
			if (ctl->cl[i].fd >= 0 && ctl->cl[i].fd == p[2 + i].fd &&
			    (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				client_read(ctl, &ctl->cl[i]);
	}
remove:
	if (ctl->fd >= 0) {
		socket_remove(ctl);
		close(ctl->fd);
		ctl->fd = -1;
	}
	return NULL;
}

int control_start(struct control *ctl, struct vm *vm,
		  const struct chardev *console)
{
	if (!ctl)
		return 0;
	ctl->vm = vm;
	ctl->m = &vm->m;
	if (console) {
		ctl->console = *console;
		ctl->has_console = true;
	}
	int ret = thread_spawn(&ctl->thread, control_thread, ctl);
	if (ret) {
		log_err("control: cannot start its thread: %s", strerror(ret));
		return -1;
	}
	ctl->started = true;
	return 0;
}

static void wake(struct control *ctl)
{
	uint64_t one = 1;

	if (write(ctl->efd, &one, sizeof(one)) < 0)
		log_err("control: cannot wake its thread: %s", strerror(errno));
}

void control_stopping(struct control *ctl)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->lock);
	ctl->stopping = true;
	pthread_mutex_unlock(&ctl->lock);
	wake(ctl);
}

void control_finish(struct control *ctl, int status)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->lock);
	ctl->stopping = ctl->finished = true;
	ctl->status = status;
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->started) {
		wake(ctl);
		pthread_join(ctl->thread, NULL);
	} else {
		control_notify(ctl, "STOPPING=1");
	}
	/* Without the thread: removed only if nothing was started (the
	 * main thread's filter is not loaded before the vCPUs run). */
	control_free(ctl, !ctl->m);
}
