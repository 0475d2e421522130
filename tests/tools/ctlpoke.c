/*
 * ctlpoke: careless and hostile clients of picovm's control socket, and a
 * systemd notify socket, for tests/t-control.sh.
 *
 *   ctlpoke send PATH           sends stdin as is, prints what comes back
 *                               until the server closes or has ended one
 *                               reply (ok / error:) per line sent; 60 s
 *                               watchdog
 *   ctlpoke hold PATH N         opens N connections, says "held N" once
 *                               they are open, then, for each the server
 *                               drops, "dropped K: WHAT IT SAID"; runs
 *                               until killed
 *   ctlpoke flood PATH N        sends N "status" lines, reads nothing,
 *                               then waits to be killed
 *   ctlpoke stale PATH          binds PATH and exits without removing it
 *                               (a socket nobody listens on any more)
 *   ctlpoke notify PATH SECS    binds a datagram socket at PATH, prints
 *                               each message's lines until one holds
 *                               STOPPING=1 or SECS pass
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int sock(const char *path, int type, bool do_bind)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || (do_bind ? bind(fd, (struct sockaddr *)&a, sizeof(a)) :
		       connect(fd, (struct sockaddr *)&a, sizeof(a))) < 0) {
		fprintf(stderr, "ctlpoke: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void wait_forever(void)
{
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: ctlpoke send|hold|flood|stale|notify PATH [N]\n", stderr);
		return 2;
	}
	const char *mode = argv[1], *path = argv[2];
	long n = argc > 3 ? atol(argv[3]) : 0;
	char buf[65536];

	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "send")) {
		int fd = sock(path, SOCK_STREAM, false);
		ssize_t r;
		long lines = 0, ends = 0;
		while ((r = read(0, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				lines += buf[i] == '\n';
			if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r)
				break;
		}
		/* Replies end in "ok" or "error: ..." lines; a reply never
		 * holds a line starting so otherwise. */
		char line[512];
		size_t ll = 0;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		while ((!lines || ends < lines) && poll(&p, 1, 60000) > 0 &&
		       (r = recv(fd, buf, sizeof(buf), 0)) > 0) {
			fwrite(buf, 1, (size_t)r, stdout);
			for (ssize_t i = 0; i < r; i++) {
				if (buf[i] != '\n') {
					if (ll < sizeof(line) - 1)
						line[ll++] = buf[i];
					continue;
				}
				line[ll] = '\0';
				ends += !strcmp(line, "ok") || !strncmp(line, "error:", 6);
				ll = 0;
			}
		}
		return 0;
	}
	if (!strcmp(mode, "hold")) {
		struct pollfd p[64];
		if (n < 1 || n > 64)
			return 2;
		for (long i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = sock(path, SOCK_STREAM, false),
						.events = POLLIN };
		printf("held %ld\n", n);
		fflush(stdout);
		for (;;) {
			if (poll(p, (nfds_t)n, -1) < 0)
				continue;
			for (long i = 0; i < n; i++) {
				if (!p[i].revents)
					continue;
				ssize_t r = recv(p[i].fd, buf, sizeof(buf) - 1, 0);
				buf[r > 0 ? r : 0] = '\0';
				buf[strcspn(buf, "\n")] = '\0';
				printf("dropped %ld: %s\n", i, buf);
				fflush(stdout);
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
	}
	if (!strcmp(mode, "flood")) {
		int fd = sock(path, SOCK_STREAM, false);
		long sent = 0;
		for (long i = 0; i < n; i++)
			if (send(fd, "status\n", 7, MSG_NOSIGNAL | MSG_DONTWAIT) == 7)
				sent++;
		printf("flooded %ld\n", sent);
		fflush(stdout);
		wait_forever();
	}
	if (!strcmp(mode, "stale")) {
		sock(path, SOCK_STREAM, true);
		return 0;
	}
	if (!strcmp(mode, "notify")) {
		int fd = sock(path, SOCK_DGRAM, true);
		time_t end = time(NULL) + n;
		printf("listening\n");
		fflush(stdout);
		while (time(NULL) < end) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 1000) <= 0)
				continue;
			ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0);
			if (r <= 0)
				continue;
			buf[r] = '\0';
			printf("%s\n", buf);
			fflush(stdout);
			if (strstr(buf, "STOPPING=1"))
				return 0;
		}
		return 1;
	}
	fprintf(stderr, "ctlpoke: unknown mode %s\n", mode);
	return 2;
}
