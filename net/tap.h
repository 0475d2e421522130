/*
 * Tap devices for virtio-net.  Three ways in, each needing only the
 * privilege it really needs:
 *   net.N.tap = NAME   attach to an existing tap (needs: permission on
 *                      that tap, e.g. created with `ip tuntap add ... user`)
 *   net.N.tap = auto   create one named after the VM, up, removed at exit
 *                      (needs CAP_NET_ADMIN)
 *   net.N.fd = K       a tap descriptor inherited from the parent (needs
 *                      nothing: an unprivileged launcher can hand one over)
 * plus net.N.bridge = BR to enslave the tap (CAP_NET_ADMIN).
 * The tap always carries a 12-byte virtio-net header (IFF_VNET_HDR).
 */
#ifndef PICOVM_NET_TAP_H
#define PICOVM_NET_TAP_H

#include <stdbool.h>

#include "../config/config.h"

#define TAP_VNET_HDR_LEN 12

struct tap {
	int fd;
	char name[16];
	bool created;		/* by us: goes away with the fd */
};

/* Opens/creates/attaches per c->net[n]; prints "picovm: FILE: net.N.KEY:
 * why" and returns -1 on failure. */
int tap_open(const struct config *c, unsigned n, struct tap *t);
/* TUNSETOFFLOAD with TUN_F_* flags. */
int tap_set_offload(struct tap *t, unsigned flags);
void tap_close(struct tap *t);

#endif
