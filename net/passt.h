/*
 * passt as virtio-net's host side: user-mode networking without any
 * privilege.  passt (Debian package passt) turns the guest's frames into
 * ordinary host sockets; it talks to a VMM over a UNIX stream socket on
 * which every frame is a 32-bit big-endian length followed by that many
 * bytes of Ethernet frame (QEMU's `-netdev stream`), no virtio-net header.
 * Three ways in, like taps (net/tap.h):
 *   net.N.passt = auto      picovm makes a socketpair and starts
 *                           `passt --foreground --quiet --fd 3 --mtu MTU
 *                           -t ... -u ...` with one end, before the sandbox;
 *                           passt ends when picovm closes its end (--fd
 *                           implies --one-off) and, should picovm die
 *                           without closing it, by PR_SET_PDEATHSIG
 *   net.N.passt = PATH      connect to a passt started with `-s PATH`
 *   net.N.passt.fd = K      an inherited, connected stream socket
 * The frames themselves are virtio/netstream.c's.
 */
#ifndef PICOVM_NET_PASST_H
#define PICOVM_NET_PASST_H

#include <sys/types.h>

#include "../config/config.h"

struct passt {
	int fd;			/* picovm's end of the stream */
	pid_t pid;		/* the passt picovm started; 0: none */
	char what[24];		/* "passt (pid N)", "passt" for the log */
};

/* Starts/connects/takes over per c->net[n]; prints "picovm: FILE:
 * net.N.KEY: why" and returns -1 on failure. */
int passt_open(const struct config *c, unsigned n, struct passt *p);
/* Closes the stream; a passt picovm started then ends by itself and is
 * reaped (killed after about a second if it does not end); a failure
 * exit status of it is logged.  Needs wait4 in the main thread's
 * filter (seccomp/filters.c). */
void passt_close(struct passt *p, unsigned n);

#endif
