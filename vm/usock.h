/*
 * A listening unix stream socket at a path the user named, for the
 * sockets whose clients own part of the VM (gdb's stub, the second serial
 * port): created before the sandbox with mode 0600, an old socket of the
 * same name replaced, anything else there refused.  The folder stays open
 * (dir_fd) so that a sandboxed thread may remove the socket by name
 * (unlinkat) at exit.
 */
#ifndef PICOVM_VM_USOCK_H
#define PICOVM_VM_USOCK_H

struct usock {
	int fd;			/* listening, non-blocking */
	int dir_fd;		/* its folder (O_PATH) */
	char base[108];		/* its name in dir_fd */
};

/* key names the config key in messages.  0, or -2 (the user's error:
 * exit status 2) / -1 after printing why; u's fds are -1 then. */
int usock_listen(struct usock *u, const char *key, const char *path);
/* Removes the socket (unless unlink is false) and closes both. */
void usock_close(struct usock *u, int unlink);

#endif
