/*
 * Operating a running VM (picovm(1), CONTROL): the control socket that
 * `control = auto | PATH` asks for, the thread that serves it, systemd's
 * notify protocol, and the client side (`picovm ctl`, `picovm ls`).
 *
 * Protocol: one request per line (at most CONTROL_LINE_MAX bytes with its
 * newline); the reply is `key = value` lines and a last line `ok` or
 * `error: why`, sent once the action is complete.
 *
 * The server, in vm/vmm.c's order:
 *   control_open()      before the sandbox: the socket (a live one of the
 *                       same name is refused, a stale one replaced) and
 *                       the connected NOTIFY_SOCKET; *out stays NULL when
 *                       there is neither
 *   control_start()     once the vCPUs run: the thread "control", with its
 *                       own seccomp filter; it never blocks a vCPU or the
 *                       I/O thread (clients are served non-blocking, with
 *                       bounded lines and a bounded number of clients)
 *   control_stopping()  the VM is stopping: STOPPING=1; from now on only
 *                       `status` is answered
 *   control_finish()    the VM is gone: clients waiting on `stop` or
 *                       `kill` get the exit status, the socket is removed,
 *                       the thread joined
 */
#ifndef PICOVM_CONTROL_CONTROL_H
#define PICOVM_CONTROL_CONTROL_H

#include <stddef.h>

struct config;
struct vm;
struct chardev;
struct sandbox_fds;
struct control;

#define CONTROL_LINE_MAX 256	/* a request, its newline included */
#define CONTROL_MAX_CLIENTS 8	/* more at once: the idlest is dropped */
/* The exit status after `picovm ctl kill`, or a `stop` whose TIMEOUT ran
 * out: 128 + SIGKILL, as a shell reports a killed process. */
#define EXIT_VM_KILLED 137
#define CONTROL_STOP_TIMEOUT_MS 30000	/* `stop` without TIMEOUT */

/* Returns 0 (*out NULL when nothing was asked for), -1 after printing
 * why, or -2 for the user's error (a VM of that name already runs, a bad
 * path): exit status 2. */
int control_open(const struct config *c, struct control **out);
/* The eventfd that wakes the control thread (machine.event_efd), or -1. */
int control_event_fd(const struct control *ctl);
void control_sandbox_fds(const struct control *ctl, struct sandbox_fds *f);
/* console may be NULL (no console device). */
int control_start(struct control *ctl, struct vm *vm,
		  const struct chardev *console);
void control_stopping(struct control *ctl);
/* Frees ctl (NULL included). */
void control_finish(struct control *ctl, int status);

/* path.c: the runtime folder ($XDG_RUNTIME_DIR/picovm, or /run/picovm
 * for root without it) and socket paths.  -1 after printing why. */
int control_runtime_dir(char *buf, size_t n);
/* spec: "auto" (the runtime folder's NAME.sock) or a path. */
int control_socket_path(const char *spec, const char *name, char *buf,
			size_t n);

/* client.c: `picovm ctl TARGET REQUEST...` and `picovm ls`; argv[0] is
 * the command's name.  Exit status 0 on ok, 1 on error, 2 on bad usage. */
int control_ctl_main(int argc, char **argv);
int control_ls_main(int argc, char **argv);

#endif
