/*
 * The host side of the serial console: one thread ("console") that moves
 * bytes between the UART model and the host (stdout or a file; stdin), and
 * the terminal's raw mode.
 *
 * When stdin is a terminal it is put in raw mode for the VM's lifetime, so
 * keys reach the guest; Ctrl-A x stops the VM (exit status 130, as for
 * Ctrl-C), Ctrl-A Ctrl-A sends a Ctrl-A.  The terminal is restored by
 * console_stop().
 *
 * When stdin is not a terminal, its end of file becomes one ^D (0x04, the
 * tty's EOF character) for the guest, after the bytes before it.
 */
#ifndef PICOVM_DEVICES_CONSOLE_H
#define PICOVM_DEVICES_CONSOLE_H

struct machine;
struct chardev;
struct console;

/* out_fd: where guest output goes (-1: nowhere); in_fd: guest input (-1:
 * none).  Returns NULL after printing why. */
struct console *console_start(struct machine *m, const struct chardev *cd,
			      int out_fd, int in_fd);
/* serial.1's host side (a thread "serial1"): a listening socket whose
 * one client at a time gets the device's output and gives its input (a
 * second is refused; a client gone frees the place; output while no one
 * is connected is dropped, as on an unplugged line).  dir_fd and base
 * name the socket, removed when the thread ends.  reserved_fd (taken
 * over; -1: none) is closed once the thread runs, so that the sandbox's
 * descriptor limit leaves a number for the client.  NULL after printing. */
struct console *console_start_listen(struct machine *m,
				     const struct chardev *cd, int listen_fd,
				     int dir_fd, const char *base,
				     int reserved_fd);
/* Tells the thread to flush what the guest wrote (for a bounded time)
 * and end; returns at once, so the flush overlaps the rest of the stop. */
void console_stop_begin(struct console *c);
/* console_stop_begin(), then joins the thread within a bounded time
 * (interrupting a write that blocks because nobody reads the output) and
 * restores the terminal.  Never waits for a reader. */
void console_stop(struct console *c);

#endif
