/* Listening unix sockets at user-named paths (usock.h). */
#include "usock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

int usock_listen(struct usock *u, const char *key, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	char dir[sizeof(a.sun_path)];

	u->fd = u->dir_fd = -1;
	if (strlen(path) >= sizeof(a.sun_path) || !*path) {
		log_err("%s: '%s' is not a socket path of 1..%zu bytes", key, path,
			sizeof(a.sun_path) - 1);
		return -2;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	snprintf(u->base, sizeof(u->base), "%s", slash ? slash + 1 : path);
	if (slash)
		*slash = '\0';
	u->dir_fd = open(!slash ? "." : dir[0] ? dir : "/",
			 O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (u->dir_fd < 0) {
		log_err("%s: %s: %s", key, slash ? dir : ".", strerror(errno));
		return -2;
	}
	if (fstatat(u->dir_fd, u->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("%s: %s exists and is not a socket; expected a "
				"free name", key, path);
			usock_close(u, 0);
			return -2;
		}
		unlinkat(u->dir_fd, u->base, 0);	/* an old one: replaced */
	}
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0) {
		log_err("%s: socket: %s", key, strerror(errno));
		usock_close(u, 0);
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path));
	mode_t old = umask(0177);	/* 0600 from the start */
	int ret = bind(u->fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret < 0 || listen(u->fd, 1) < 0) {
		log_err("%s: %s: %s", key, path, strerror(errno));
		usock_close(u, ret == 0);
		return -2;
	}
	return 0;
}

void usock_close(struct usock *u, int unlink)
{
	if (u->fd >= 0) {
		if (unlink && u->dir_fd >= 0)
			unlinkat(u->dir_fd, u->base, 0);
		close(u->fd);
	}
	if (u->dir_fd >= 0)
		close(u->dir_fd);
	u->fd = u->dir_fd = -1;
}
