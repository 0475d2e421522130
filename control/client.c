/*
 * The client side (control.h): `picovm ctl TARGET REQUEST...` sends one
 * request and prints the reply (its `error:` line to stderr); `picovm ls`
 * asks every socket in the runtime folder for its status.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define EXIT_CTL_OK 0
#define EXIT_CTL_ERROR 1
#define EXIT_CTL_USAGE 2
#define LS_TIMEOUT_S 5		/* a VM that does not answer `ls` in time */

static int connect_to(const char *path, char *why, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(why, n, "%s: the path is too long", path);
		return -1;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(why, n, "cannot connect to %s: %s%s", path,
			 strerror(errno), errno == ECONNREFUSED ?
			 " (a stale socket: its VM is gone)" : errno == ENOENT ?
			 " (is the VM running?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends request and reads the reply up to its final line into buf.
 * Returns 0 (ok), 1 (error: ...), -1 (no complete reply; why set). */
static int exchange(int fd, const char *request, char *buf, size_t n,
		    char *why, size_t wn)
{
	size_t len = 0, rlen = strlen(request);
	char *line = malloc(rlen + 2);

	if (!line) {
		snprintf(why, wn, "out of memory");
		return -1;
	}
	memcpy(line, request, rlen);
	memcpy(line + rlen, "\n", 2);
	ssize_t s = send(fd, line, rlen + 1, MSG_NOSIGNAL);
	int send_errno = errno;
	free(line);
	/* A server that refuses (too many clients, another user) replies
	 * and closes at once: its reply is still there to read. */
	bool sent = s >= 0 && (size_t)s == rlen + 1;
	for (;;) {
		if (len + 1 >= n) {
			snprintf(why, wn, "the reply is too long");
			return -1;
		}
		ssize_t r = recv(fd, buf + len, n - 1 - len, 0);
		if (r <= 0 && !sent) {
			snprintf(why, wn, "cannot send the request: %s",
				 strerror(send_errno));
			return -1;
		}
		if (r <= 0) {
			snprintf(why, wn, r == 0 ? "the VM closed the connection "
				 "without a reply" : "reading the reply: %s",
				 strerror(errno));
			return -1;
		}
		len += (size_t)r;
		buf[len] = '\0';
		/* The final line: "ok" or "error: ..." at a line start. */
		char *last = len >= 1 && buf[len - 1] == '\n' ? buf + len - 1 : NULL;
		if (!last)
			continue;
		char *start = last;
		while (start > buf && start[-1] != '\n')
			start--;
		if (strncmp(start, "ok\n", 3) == 0)
			return 0;
		if (strncmp(start, "error:", 6) == 0)
			return 1;
	}
}

/* TARGET: a path (it has a '/') or a VM name in the runtime folder. */
static int target_path(const char *target, char *buf, size_t n)
{
	if (strchr(target, '/')) {
		if (strlen(target) >= n) {
			fprintf(stderr, "picovm: ctl: %s: the path is too long\n",
				target);
			return -1;
		}
		snprintf(buf, n, "%s", target);
		return 0;
	}
	return control_socket_path("auto", target, buf, n);
}

int control_ctl_main(int argc, char **argv)
{
	char path[108], why[256], reply[65536], request[CONTROL_LINE_MAX];
	size_t len = 0;

	if (argc < 3) {
		fputs("usage: picovm ctl TARGET REQUEST...\n"
		      "  TARGET: a control socket path, or a VM name in the "
		      "runtime folder\n"
		      "  REQUEST: status | pause | resume | stop [TIMEOUT] | "
		      "kill | stats\n", stderr);
		return EXIT_CTL_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		int w = snprintf(request + len, sizeof(request) - len, "%s%s",
				 i > 2 ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(request) - len - 1 ||
		    strchr(argv[i], '\n')) {
			fprintf(stderr, "picovm: ctl: the request is not one line "
				"of at most %d bytes\n", CONTROL_LINE_MAX - 1);
			return EXIT_CTL_USAGE;
		}
		len += (size_t)w;
	}
	if (target_path(argv[1], path, sizeof(path)) < 0)
		return EXIT_CTL_USAGE;
	int fd = connect_to(path, why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "picovm: ctl: %s\n", why);
		return EXIT_CTL_ERROR;
	}
	int ret = exchange(fd, request, reply, sizeof(reply), why, sizeof(why));
	close(fd);
	if (ret < 0) {
		fprintf(stderr, "picovm: ctl: %s\n", why);
		return EXIT_CTL_ERROR;
	}
	char *last = reply + strlen(reply) - 1;	/* its final '\n' */
	while (last > reply && last[-1] != '\n')
		last--;
	fwrite(reply, 1, (size_t)(last - reply), stdout);
	fputs(last, ret == 0 ? stdout : stderr);
	if (fflush(stdout))
		return EXIT_CTL_ERROR;
	return ret == 0 ? EXIT_CTL_OK : EXIT_CTL_ERROR;
}

/* The value of "key = " in a reply, up to its line end, into buf. */
static void reply_value(const char *reply, const char *key, char *buf,
			size_t n)
{
	size_t klen = strlen(key);

	snprintf(buf, n, "?");
	for (const char *l = reply; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, klen) == 0 && strncmp(l + klen, " = ", 3) == 0) {
			const char *v = l + klen + 3;
			size_t vl = strcspn(v, "\n");
			snprintf(buf, n, "%.*s", (int)(vl < n ? vl : n - 1), v);
			return;
		}
}

int control_ls_main(int argc, char **argv)
{
	char dir[4096];

	(void)argv;
	if (argc != 1) {
		fputs("usage: picovm ls\n", stderr);
		return EXIT_CTL_USAGE;
	}
	if (control_runtime_dir(dir, sizeof(dir)) < 0)
		return EXIT_CTL_ERROR;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? EXIT_CTL_OK : EXIT_CTL_ERROR;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name);
		char path[108], why[256], reply[8192];
		if (nl < 6 || strcmp(e->d_name + nl - 5, ".sock") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path))
			continue;
		int fd = connect_to(path, why, sizeof(why));
		if (fd < 0)
			continue;	/* stale: its VM is gone */
		struct timeval tv = { .tv_sec = LS_TIMEOUT_S };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		int ret = exchange(fd, "status", reply, sizeof(reply), why,
				   sizeof(why));
		close(fd);
		char name[80], pid[16], state[16], up[32];
		if (ret != 0) {
			printf("%.*s ? unresponsive ?\n", (int)(nl - 5), e->d_name);
			continue;
		}
		reply_value(reply, "name", name, sizeof(name));
		reply_value(reply, "pid", pid, sizeof(pid));
		reply_value(reply, "state", state, sizeof(state));
		reply_value(reply, "uptime.ms", up, sizeof(up));
		unsigned long long ms = strtoull(up, NULL, 10);
		printf("%s %s %s %llu.%03llus\n", name, pid, state, ms / 1000,
		       ms % 1000);
	}
	closedir(d);
	return fflush(stdout) ? EXIT_CTL_ERROR : EXIT_CTL_OK;
}
