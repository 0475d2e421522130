/* Host side of the serial console; see console.h. */
#include "console.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "chardev.h"
#include "../seccomp/sandbox.h"
#include "../vm/log.h"
#include "../vm/machine.h"
#include "../vm/thread.h"

#define CONSOLE_CHUNK 4096
/* How long a stopping console keeps trying to deliver the guest's last
 * output to a slow reader before it gives up on the rest (part of the
 * stop's bound, picovm(1)). */
#define CONSOLE_FLUSH_MS 300
/* A write to a terminal or pipe nobody reads blocks, and O_NONBLOCK
 * cannot be set on stdout (it belongs to the open file description,
 * shared with the shell).  So console_stop() interrupts the thread's
 * write with this signal (its handler does nothing and has no
 * SA_RESTART: the write returns EINTR or a partial count, nothing is
 * lost) every CONSOLE_KICK_MS until the thread ends, and gives up on it
 * after CONSOLE_GIVEUP_MS. */
#define CONSOLE_KICK_SIGNAL SIGUSR1
#define CONSOLE_KICK_MS 20
#define CONSOLE_GIVEUP_MS 600
#define CTRL_A 0x01
/* End of input for the guest's tty (VEOF, ^D): sent when stdin is not a
 * terminal and reaches end of file, so a shell reading the console sees
 * end of input, as it would on the host: once after a newline (or no
 * input at all), twice after a last line without one (the first ^D only
 * ends that line in a tty's canonical mode, as at a terminal). */
#define CONSOLE_EOF 0x04

struct console {
	struct machine *m;
	struct chardev cd;
	int out_fd, in_fd, wake_fd;
	bool in_eof, tty, escape;
	bool in_any, in_nl;	/* stdin gave bytes; the last was a newline */
	unsigned eof_left;	/* ^D still to send after end of file */
	struct termios saved;
	atomic_bool stop;
	bool stopping;			/* console_stop_begin() ran */
	pthread_t thread;
	/* console_start_listen(): the socket; in_fd and out_fd are then its
	 * client's (-1: none). */
	int listen_fd, dir_fd;
	char base[108];
	int reserved_fd;	/* keeps a number free for the client */
	bool accept_blocked;	/* accept4 failed: until the client goes */
};

static void console_kick_handler(int sig)
{
	(void)sig;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void drop_client(struct console *c)
{
	close(c->in_fd);
	c->in_fd = c->out_fd = -1;
	c->accept_blocked = false;
}

/* A new client of the listening socket, or a refusal: one at a time. */
static void accept_client(struct console *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		/* Out of descriptors (the reserve makes it unlikely): never
		 * spin on it; wait for the client to go. */
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			c->accept_blocked = true;
		return;
	}
	if (c->in_fd >= 0) {
		close(fd);
		return;
	}
	c->in_fd = c->out_fd = fd;
}

/* Writes what the UART holds, as far as the sink takes it now.  Returns
 * false when the sink is gone (EPIPE, EIO...): output is then discarded. */
static bool pump_output(struct console *c)
{
	uint8_t buf[CONSOLE_CHUNK];
	size_t n = c->cd.peek_output(c->cd.opaque, buf, sizeof(buf));

	if (n == 0)
		return true;
	if (c->out_fd < 0) {
		c->cd.consume_output(c->cd.opaque, n);
		return true;
	}
	ssize_t w = write(c->out_fd, buf, n);
	if (w < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return true;
		if (c->listen_fd >= 0) {	/* a client gone: wait for another */
			drop_client(c);
			return true;
		}
		log_err("console output: %s; discarding further output",
			strerror(errno));
		c->out_fd = -1;
		return false;
	}
	c->cd.consume_output(c->cd.opaque, (size_t)w);
	return true;
}

/* Handles the Ctrl-A escapes of an interactive terminal; returns the
 * number of bytes left in buf for the guest. */
static size_t filter_escapes(struct console *c, uint8_t *buf, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = buf[i];
		if (c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				machine_stop(c->m, EXIT_VM_SIGNAL_BASE + SIGINT,
					"stopped from the console (Ctrl-A x)");
				return o;
			}
			if (b != CTRL_A)
				continue;
		} else if (b == CTRL_A) {
			c->escape = true;
			continue;
		}
		buf[o++] = b;
	}
	return o;
}

static void pump_input(struct console *c)
{
	uint8_t buf[4096];
	size_t room = c->cd.input_space(c->cd.opaque);
	ssize_t n = read(c->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		if (c->listen_fd >= 0) {	/* a client gone: no ^D */
			drop_client(c);
			return;
		}
		c->in_eof = true;
		c->eof_left = c->in_any && !c->in_nl ? 2 : 1;
		return;
	}
	if (n < 0)
		return;
	size_t len = (size_t)n;
	if (len) {
		c->in_any = true;
		c->in_nl = buf[len - 1] == '\n';
	}
	if (c->tty)
		len = filter_escapes(c, buf, len);
	c->cd.push_input(c->cd.opaque, buf, len);
}

/* The guest's last output, for at most CONSOLE_FLUSH_MS: a write that
 * blocks is interrupted by console_stop()'s signal and the deadline is
 * checked again. */
static void flush_at_stop(struct console *c)
{
	uint64_t t0 = now_ms();
	uint8_t scratch[1];

	while (c->out_fd >= 0 && c->cd.peek_output(c->cd.opaque, scratch, 1)) {
		uint64_t ms = now_ms() - t0;
		if (ms >= CONSOLE_FLUSH_MS) {
			uint8_t buf[CONSOLE_CHUNK];
			uint64_t left = 0;
			size_t n;
			while ((n = c->cd.peek_output(c->cd.opaque, buf, sizeof(buf)))) {
				c->cd.consume_output(c->cd.opaque, n);
				left += n;
			}
			log_err("console output: the reader is not reading; dropped "
				"the guest's last %llu bytes at stop",
				(unsigned long long)left);
			break;
		}
		struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
		if (poll(&p, 1, (int)(CONSOLE_FLUSH_MS - ms)) > 0 &&
		    !pump_output(c))
			break;
	}
}

static void *console_thread(void *arg)
{
	struct console *c = arg;
	uint8_t scratch[CONSOLE_CHUNK];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, CONSOLE_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (sandbox_thread(c->listen_fd >= 0 ? SANDBOX_SERIAL1 : SANDBOX_CONSOLE,
			   c->listen_fd >= 0 ? "serial1" : "console") < 0) {
		machine_stop(c->m, EXIT_VM_FAILURE, NULL);
		return NULL;
	}
	if (c->reserved_fd >= 0) {
		close(c->reserved_fd);
		c->reserved_fd = -1;
	}

	while (!atomic_load(&c->stop)) {
		/* After the bytes before it: the device's input is a queue. */
		while (c->in_eof && !c->tty && c->eof_left &&
		       c->cd.input_space(c->cd.opaque)) {
			uint8_t eof = CONSOLE_EOF;
			if (c->cd.push_input(c->cd.opaque, &eof, 1) != 1)
				break;
			c->eof_left--;
		}
		struct pollfd p[4];
		nfds_t n = 0;
		p[n++] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
		int out_i = -1, in_i = -1, listen_i = -1;
		if (c->listen_fd >= 0 && !c->accept_blocked) {
			listen_i = (int)n;
			p[n++] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
		}
		if (c->cd.peek_output(c->cd.opaque, scratch, 1)) {
			if (c->out_fd < 0) {
				pump_output(c);
				continue;
			}
			out_i = (int)n;
			p[n++] = (struct pollfd){ .fd = c->out_fd, .events = POLLOUT };
		}
		if (c->in_fd >= 0 && !c->in_eof && c->cd.input_space(c->cd.opaque)) {
			in_i = (int)n;
			p[n++] = (struct pollfd){ .fd = c->in_fd, .events = POLLIN };
		}
		if (poll(p, n, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			uint64_t v;
			if (read(c->wake_fd, &v, sizeof(v)) < 0)
				continue;
		}
		if (out_i >= 0 && p[out_i].revents && c->out_fd >= 0)
			pump_output(c);
		if (in_i >= 0 && p[in_i].revents && c->in_fd >= 0)
			pump_input(c);
		if (listen_i >= 0 && (p[listen_i].revents & POLLIN))
			accept_client(c);
	}
	flush_at_stop(c);
	if (c->listen_fd >= 0 && c->dir_fd >= 0)
		unlinkat(c->dir_fd, c->base, 0);
	return NULL;
}

static struct console *start(struct machine *m, const struct chardev *cd,
			     int out_fd, int in_fd, int listen_fd, int dir_fd,
			     const char *base, int reserved_fd)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->m = m;
	c->cd = *cd;
	c->out_fd = out_fd;
	c->in_fd = in_fd;
	c->listen_fd = listen_fd;
	c->dir_fd = dir_fd;
	c->reserved_fd = reserved_fd;
	snprintf(c->base, sizeof(c->base), "%s", base);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0) {
		log_err("console: eventfd: %s", strerror(errno));
		free(c);
		return NULL;
	}
	c->cd.set_wake_fd(c->cd.opaque, c->wake_fd);
	struct sigaction sa = { .sa_handler = console_kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(CONSOLE_KICK_SIGNAL, &sa, NULL);	/* no SA_RESTART */
	if (in_fd >= 0 && isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
		struct termios raw = c->saved;
		cfmakeraw(&raw);
		/* Keep output processing: the guest writes "\n" and the user's
		 * terminal should still see lines. */
		raw.c_oflag = c->saved.c_oflag;
		if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
			c->tty = true;
	}
	int ret = thread_spawn(&c->thread, console_thread, c);
	if (ret) {
		log_err("console: cannot start thread: %s", strerror(ret));
		if (c->tty)
			tcsetattr(in_fd, TCSANOW, &c->saved);
		close(c->wake_fd);
		free(c);
		return NULL;
	}
	return c;
}

struct console *console_start(struct machine *m, const struct chardev *cd,
			      int out_fd, int in_fd)
{
	return start(m, cd, out_fd, in_fd, -1, -1, "", -1);
}

struct console *console_start_listen(struct machine *m,
				     const struct chardev *cd, int listen_fd,
				     int dir_fd, const char *base, int reserved_fd)
{
	return start(m, cd, -1, -1, listen_fd, dir_fd, base, reserved_fd);
}

void console_stop_begin(struct console *c)
{
	uint64_t one = 1;

	if (!c || c->stopping)
		return;
	c->stopping = true;
	atomic_store(&c->stop, true);
	if (write(c->wake_fd, &one, sizeof(one)) < 0)
		log_err("console: cannot wake thread: %s", strerror(errno));
}

/* Joins the thread, interrupting a blocked write every CONSOLE_KICK_MS;
 * false if it did not end within CONSOLE_GIVEUP_MS. */
static bool join_bounded(struct console *c)
{
	uint64_t t0 = now_ms();

	do {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += CONSOLE_KICK_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(c->thread, NULL, &t) == 0)
			return true;
		pthread_kill(c->thread, CONSOLE_KICK_SIGNAL);
	} while (now_ms() - t0 < CONSOLE_GIVEUP_MS);
	return false;
}

void console_stop(struct console *c)
{
	if (!c)
		return;
	console_stop_begin(c);
	bool joined = join_bounded(c);
	if (c->tty)
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
	if (!joined) {
		/* Still blocked: leave it (and its memory) to the exit. */
		log_err("console: the output thread did not stop; exiting without it");
		return;
	}
	uint64_t dropped = c->cd.dropped(c->cd.opaque);
	if (dropped)
		log_err("console: the guest wrote %llu bytes while the output "
			"buffer was full; they were dropped",
			(unsigned long long)dropped);
	c->cd.set_wake_fd(c->cd.opaque, -1);
	close(c->wake_fd);
	if (c->listen_fd >= 0 && c->in_fd >= 0)
		close(c->in_fd);	/* the client (the socket is vmm.c's) */
	free(c);
}
