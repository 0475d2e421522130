/* Tap set-up; see tap.h. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../seccomp/sandbox.h"
#include "../vm/log.h"

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret;

	if (s < 0)
		return -errno;
	ret = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return ret;
}

static const char *priv_hint(int err)
{
	return err == -EPERM || err == -EACCES ? " (this needs CAP_NET_ADMIN: run "
						 "picovm as root, or hand it a "
						 "prepared tap with net.N.fd)" : "";
}

/* The MTU (unless it already is: a new tap's is 1500, and setting it runs
 * the kernel's notifiers) and up, on one socket. */
static int tap_up(struct tap *t, unsigned mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu != (int)mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			ret = -errno;
	}
	if (ret == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	if (ret == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(s);
	return ret;
}

static int tap_bridge(struct tap *t, const char *bridge)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	if ((ret = ifreq_ioctl(SIOCGIFINDEX, &ifr)) < 0)
		return ret;
	int index = ifr.ifr_ifindex;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
	ifr.ifr_ifindex = index;
	return ifreq_ioctl(SIOCBRADDIF, &ifr);
}

/* How long tap = auto waits for its name (tun_set_iff()). */
#define TAP_NAME_WAIT_MS 1000

/* TUNSETIFF for t->name: 0 or -errno.  tap = auto waits for its name for
 * up to TAP_NAME_WAIT_MS while it is busy: a VM of the same name that
 * has just stopped leaves its tap to its reaper, which takes it down and
 * renames it after that picovm's exit (vm/reaper.h), within a
 * millisecond or so. */
static int tun_set_iff(struct tap *t)
{
	struct timespec start, now, pause = { .tv_nsec = 50 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (ioctl(t->fd, TUNSETIFF, &ifr) == 0)
			return 0;
		if (errno != EBUSY || !t->created)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 >= TAP_NAME_WAIT_MS)
			return -EBUSY;
		nanosleep(&pause, NULL);
	}
}

int tap_open(const struct config *c, unsigned n, struct tap *t)
{
	const struct net_config *nc = &c->net[n];
	struct ifreq ifr;
	int ret;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	memset(&ifr, 0, sizeof(ifr));
	if (nc->fd >= 0) {
		/* Inherited: it must have been open when picovm started (so it
		 * cannot name one of picovm's own descriptors, such as another
		 * net's tap or a disk image), and be a tap with a vnet header. */
		if (!sandbox_inherited(nc->fd)) {
			log_err("%s: net.%u.fd: descriptor %d was not open when "
				"picovm started; expected a tap descriptor inherited "
				"from the parent", c->file, n, nc->fd);
			return -1;
		}
		if (ioctl(nc->fd, TUNGETIFF, &ifr) < 0) {
			log_err("%s: net.%u.fd: descriptor %d is not a tap device: %s",
				c->file, n, nc->fd, strerror(errno));
			return -1;
		}
		if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_VNET_HDR) ||
		    !(ifr.ifr_flags & IFF_NO_PI)) {
			log_err("%s: net.%u.fd: tap %s must be opened with IFF_TAP, "
				"IFF_NO_PI and IFF_VNET_HDR", c->file, n, ifr.ifr_name);
			return -1;
		}
		t->fd = fcntl(nc->fd, F_DUPFD_CLOEXEC, 3);
		if (t->fd < 0) {
			log_err("%s: net.%u.fd: %s", c->file, n, strerror(errno));
			return -1;
		}
		close(nc->fd);
		snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	} else {
		t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (t->fd < 0) {
			log_err("%s: net.%u.tap: cannot open /dev/net/tun: %s", c->file,
				n, strerror(errno));
			return -1;
		}
		t->created = strcmp(nc->tap, "auto") == 0;
		/* TUNSETIFF would quietly create a missing tap: a name must be
		 * one that exists. */
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", nc->tap);
		if (!t->created && ifreq_ioctl(SIOCGIFINDEX, &ifr) == -ENODEV) {
			log_err("%s: net.%u.tap: there is no interface %s (create it "
				"with `ip tuntap add dev %s mode tap vnet_hdr`, or use "
				"tap = auto)", c->file, n, nc->tap, nc->tap);
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		if (t->created)
			snprintf(t->name, sizeof(t->name), "%.11s-t%u", c->name, n);
		else
			snprintf(t->name, sizeof(t->name), "%s", nc->tap);
		int r = tun_set_iff(t);
		if (r < 0) {
			int e = -r;
			log_err("%s: net.%u.tap: cannot %s tap %s: %s%s", c->file, n,
				t->created ? "create" : "attach to", t->name,
				e == EBUSY ? "it is in use by another process" : strerror(e),
				priv_hint(-e));
			goto fail;
		}
	}
	int hdr = TAP_VNET_HDR_LEN;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		log_err("%s: net.%u: TUNSETVNETHDRSZ: %s", c->file, n, strerror(errno));
		goto fail;
	}
	if (t->created && (ret = tap_up(t, nc->mtu)) < 0) {
		log_err("%s: net.%u.tap: cannot bring %s up: %s%s", c->file, n, t->name,
			strerror(-ret), priv_hint(ret));
		goto fail;
	}
	if (nc->bridge && *nc->bridge && (ret = tap_bridge(t, nc->bridge)) < 0) {
		log_err("%s: net.%u.bridge: cannot add %s to bridge %s: %s%s", c->file,
			n, t->name, nc->bridge,
			ret == -ENODEV ? "no such bridge" : strerror(-ret),
			priv_hint(ret));
		goto fail;
	}
	return 0;
fail:
	tap_close(t);
	return -1;
}

int tap_set_offload(struct tap *t, unsigned flags)
{
	return ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
