/*
 * pvnet: the host side of the virtio-net tests (tests/t-net.sh), on an
 * AF_PACKET socket bound to one interface (a tap, a veth) -- run it inside
 * the test's network namespace.  Test frames use ethertype 0x88b5 with an
 * ASCII tag + NUL at the start of the payload (guest/t_net.h).
 *
 *   pvnet echo IF MAC MIN MAX       frames of every size MIN..MAX to MAC,
 *                                   one at a time; each must come back
 *                                   with the MACs swapped, bytes intact
 *   pvnet send IF MAC SIZE TAG [COUNT [GAP_US]]
 *   pvnet flood IF MAC SIZE TAG SECONDS   as fast as the socket takes them
 *   pvnet capture IF SECONDS [UNTIL]  one line per frame received from
 *                                   the guest: "LEN TYPE TAG"; stops early
 *                                   after a frame tagged UNTIL
 *   pvnet count IF TAG SECONDS      frames tagged TAG received, until
 *                                   SECONDS or 1 s without one
 *   pvnet pingpong IF MAC SIZE COUNT  round trips, one at a time
 *   pvnet tcpseg IF SECONDS PAYLOAD checks the segments of guest/t_net_tso.c
 *
 * Capturing modes print "ready" once the socket is bound.  Results are one
 * line each; exit status 0 when the mode's checks held, 1 if not, 2 for
 * usage or socket errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_TEST 0x88b5
#define MAXF 70000
/* How long a frame may take to come back before it counts as lost: a
 * watchdog against a device that lost it, never a measure of speed (a
 * loaded host may stall the guest for seconds).  The first loss ends the
 * mode, so a broken device costs one wait, not one per frame. */
#define LOST_AFTER 30.0

static int sock = -1, ifindex;
static uint8_t mymac[6];
static uint8_t buf[MAXF], out[MAXF];

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "pvnet: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void open_if(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr;
	int one = 1;

	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (sock < 0)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0)
		die(name);
	ifindex = ifr.ifr_ifindex;
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR");
	memcpy(mymac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = ifindex;
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind");
	/* Our own transmissions are not the guest's. */
	setsockopt(sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(sock, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	/* Room for bursts (the counting modes); root may exceed rmem_max. */
	int rcv = 64 << 20;
	setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	/* Drain what arrived before bind filtered. */
	while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return 0;
}

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == 0 || *end || v < 0) {
		fprintf(stderr, "pvnet: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* POSIX cksum: CRC-32 (0x04c11db7, MSB first), then the length. */
struct ck {
	uint32_t crc;
	uint64_t len;
};

static void ck_add(struct ck *c, const uint8_t *p, size_t n)
{
	c->len += n;
	while (n--) {
		c->crc ^= (uint32_t)*p++ << 24;
		for (int k = 0; k < 8; k++)
			c->crc = c->crc & 0x80000000u ? c->crc << 1 ^ 0x04c11db7u
						       : c->crc << 1;
	}
}

static uint32_t ck_final(struct ck c)
{
	for (uint64_t l = c.len; l; l >>= 8) {
		uint8_t b = (uint8_t)l;
		ck_add(&c, &b, 1);
	}
	return ~c.crc;
}

/* A test frame: dst, src, 0x88b5, tag + NUL, then pseudo-random bytes. */
static void make_frame(uint8_t *f, size_t len, const uint8_t *dst,
		       const char *tag, uint32_t seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
	size_t t = strlen(tag) + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		f[i] = (uint8_t)x;
	}
	memcpy(f, dst, 6);
	memcpy(f + 6, mymac, 6);
	f[12] = ETHERTYPE_TEST >> 8, f[13] = ETHERTYPE_TEST & 0xff;
	if (len >= 14 + t)
		memcpy(f + 14, tag, t);
	if (len >= 14 + t + 4)
		memcpy(f + 14 + t, &seed, 4);
}

static void xmit(const uint8_t *f, size_t len)
{
	while (send(sock, f, len, 0) < 0) {
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			die("send");
		usleep(100);
	}
}

/* One incoming frame within timeout seconds: its length, or -1; *csum_nr
 * (if not NULL) = the kernel's "checksum not ready" status. */
static ssize_t rx(double timeout, int *csum_nr)
{
	double end = now() + timeout;
	char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];

	for (;;) {
		struct sockaddr_ll from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from),
				    .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		double left = end - now();
		struct pollfd p = { sock, POLLIN, 0 };

		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT);
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (csum_nr) {
			*csum_nr = 0;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c;
			     c = CMSG_NXTHDR(&m, c)) {
				struct tpacket_auxdata a;

				if (c->cmsg_level != SOL_PACKET ||
				    c->cmsg_type != PACKET_AUXDATA)
					continue;
				memcpy(&a, CMSG_DATA(c), sizeof(a));
				*csum_nr = !!(a.tp_status & TP_STATUS_CSUMNOTREADY);
			}
		}
		return n;
	}
}

static int tagged(const uint8_t *f, ssize_t n, const char *tag)
{
	size_t t = strlen(tag) + 1;

	return n >= (ssize_t)(14 + t) && f[12] == (ETHERTYPE_TEST >> 8) &&
	       f[13] == (ETHERTYPE_TEST & 0xff) && memcmp(f + 14, tag, t) == 0;
}

static int mode_echo(const uint8_t *mac, long min, long max)
{
	struct ck sent = { 0, 0 }, back = { 0, 0 };
	long ok = 0, bad = 0, lost = 0, nsent = 0;

	for (long size = min; size <= max && !lost; size++) {
		make_frame(out, (size_t)size, mac, "echo", (uint32_t)size);
		ck_add(&sent, out, (size_t)size);
		xmit(out, (size_t)size);
		nsent++;
		for (;;) {
			ssize_t n = rx(LOST_AFTER, NULL);

			if (n < 0) {
				lost++;
				fprintf(stderr, "pvnet: echo of size %ld lost\n", size);
				break;
			}
			if (!tagged(buf, n, "echo") || memcmp(buf + 6, mac, 6))
				continue;	/* not an echo */
			uint32_t seed;
			memcpy(&seed, buf + 19, 4);
			if (seed != (uint32_t)size)
				continue;	/* a late one */
			ck_add(&back, buf, (size_t)n);
			if (n == size && !memcmp(buf, out + 6, 6) &&
			    !memcmp(buf + 6, out, 6) &&
			    !memcmp(buf + 12, out + 12, (size_t)size - 12)) {
				ok++;
			} else {
				bad++;
				fprintf(stderr, "pvnet: echo of size %ld came back "
					"as %zd bytes, different\n", size, n);
			}
			break;
		}
	}
	printf("echo: sent=%ld ok=%ld bad=%ld lost=%ld bytes=%llu cksum=%u "
	       "back_cksum=%u\n", nsent, ok, bad, lost,
	       (unsigned long long)sent.len, ck_final(sent), ck_final(back));
	return ok == nsent ? 0 : 1;
}

static int mode_send(const uint8_t *mac, long size, const char *tag,
		     long count, long gap)
{
	for (long i = 0; i < count; i++) {
		make_frame(out, (size_t)size, mac, tag, (uint32_t)i);
		xmit(out, (size_t)size);
		if (gap)
			usleep((useconds_t)gap);
	}
	return 0;
}

static int mode_flood(const uint8_t *mac, long size, const char *tag,
		      double secs)
{
	double t0 = now();
	long n = 0;

	make_frame(out, (size_t)size, mac, tag, 0);
	while (now() - t0 < secs) {
		for (int k = 0; k < 64; k++, n++)
			xmit(out, (size_t)size);
	}
	printf("flood: sent=%ld bytes=%ld secs=%.3f\n", n, n * size, now() - t0);
	return 0;
}

static int mode_capture(double secs, const char *until)
{
	double end = now() + secs;

	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = rx(end - now(), NULL);

		if (n < 0)
			return 0;
		if (n >= 14 && buf[12] == (ETHERTYPE_TEST >> 8) &&
		    buf[13] == (ETHERTYPE_TEST & 0xff)) {
			printf("%zd 0x88b5 %.*s\n", n, (int)strnlen((char *)buf + 14,
				(size_t)n - 14 < 64 ? (size_t)n - 14 : 64), buf + 14);
		} else {
			printf("%zd 0x%02x%02x -\n", n, n > 13 ? buf[12] : 0,
			       n > 13 ? buf[13] : 0);
		}
		fflush(stdout);
		if (until && tagged(buf, n, until))
			return 0;
	}
}

static int mode_count(const char *tag, double secs)
{
	double t0 = 0, t1 = 0, end = now() + secs;
	long frames = 0, bytes = 0;

	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = rx(frames ? 1.0 : end - now(), NULL);

		if (n < 0 || now() > end)
			break;
		if (!tagged(buf, n, tag))
			continue;
		t1 = now();
		if (!frames++)
			t0 = t1;
		bytes += n;
	}
	printf("count: frames=%ld bytes=%ld secs=%.6f\n", frames, bytes, t1 - t0);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int mode_pingpong(const uint8_t *mac, long size, long count)
{
	double *rtt = calloc((size_t)count, sizeof(double)), sum = 0;
	long got = 0, lost = 0;

	if (!rtt)
		die("calloc");
	for (long i = 0; i < count && !lost; i++) {
		make_frame(out, (size_t)size, mac, "ping", (uint32_t)i);
		double t0 = now();
		xmit(out, (size_t)size);
		for (;;) {
			ssize_t n = rx(LOST_AFTER, NULL);
			uint32_t seed;

			if (n < 0) {
				lost++;
				break;
			}
			memcpy(&seed, buf + 19, 4);
			if (!tagged(buf, n, "ping") || n < 23 || seed != (uint32_t)i)
				continue;
			rtt[got] = (now() - t0) * 1e6;
			sum += rtt[got++];
			break;
		}
	}
	qsort(rtt, (size_t)got, sizeof(double), cmp_double);
	if (got)
		printf("pingpong: count=%ld lost=%ld size=%ld min=%.1f avg=%.1f "
		       "p50=%.1f p99=%.1f max=%.1f us\n", got, lost, size, rtt[0],
		       sum / (double)got, rtt[got / 2], rtt[got * 99 / 100],
		       rtt[got - 1]);
	else
		printf("pingpong: count=0 lost=%ld\n", lost);
	free(rtt);
	return got && !lost ? 0 : 1;
}

static uint32_t csum_add(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; n -= 2, p += 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The segments of guest/t_net_tso.c's GSO frame: 10.99.0.2:40000 ->
 * 10.99.0.1:5001, sequence numbers from 0x10000000, payload byte at
 * offset i = i * 7 + 3.  Each must have a valid IP checksum, a valid TCP
 * checksum (or, where the kernel left it to hardware, the right
 * pseudo-header sum), and the right bytes. */
static int mode_tcpseg(double secs, long payload)
{
	double end = now() + secs;
	long segs = 0, bytes = 0, bad_ip = 0, bad_tcp = 0, bad_data = 0,
	     partial = 0, maxf = 0;
	unsigned char *seen = calloc((size_t)payload, 1);

	if (!seen)
		die("calloc");
	printf("ready\n");
	fflush(stdout);
	while (bytes < payload) {
		int nr;
		ssize_t n = rx(end - now(), &nr);

		if (n < 0)
			break;
		if (n < 54 || buf[12] != 8 || buf[13] != 0 || buf[23] != 6)
			continue;
		uint8_t *ip = buf + 14, *tcp = ip + 20;
		if (ip[0] != 0x45 || (tcp[2] << 8 | tcp[3]) != 5001)
			continue;
		size_t tot = (size_t)(ip[2] << 8 | ip[3]);
		if (tot < 40 || tot + 14 > (size_t)n) {
			bad_ip++;
			continue;
		}
		segs++;
		if (n > maxf)
			maxf = n;
		if (csum_fold(csum_add(ip, 20, 0)) != 0xffff)
			bad_ip++;
		size_t tl = tot - 20;
		uint32_t ps = csum_add(ip + 12, 8, 6 + (uint32_t)tl);
		if (nr) {
			partial++;	/* field = folded pseudo-header sum */
			if ((csum_fold(ps) & 0xffff) != (tcp[16] << 8 | tcp[17]))
				bad_tcp++;
		} else if (csum_fold(csum_add(tcp, tl, ps)) != 0xffff) {
			bad_tcp++;
		}
		uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
			       (uint32_t)tcp[6] << 8 | tcp[7];
		size_t off = seq - 0x10000000u, len = tl - 20;
		for (size_t i = 0; i < len; i++) {
			if (off + i >= (size_t)payload ||
			    tcp[20 + i] != (uint8_t)((off + i) * 7 + 3)) {
				bad_data++;
				break;
			}
			if (!seen[off + i]++)
				bytes++;
		}
	}
	printf("tcpseg: segments=%ld payload=%ld bad_ip=%ld bad_tcp=%ld "
	       "bad_data=%ld partial_csum=%ld max_frame=%ld\n", segs, bytes,
	       bad_ip, bad_tcp, bad_data, partial, maxf);
	free(seen);
	return bytes == payload && !bad_ip && !bad_tcp && !bad_data ? 0 : 1;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: pvnet echo IF MAC MIN MAX | send IF MAC SIZE TAG "
		"[COUNT [GAP_US]] | flood IF MAC SIZE TAG SECONDS | capture IF "
		"SECONDS [UNTIL] | count IF TAG SECONDS | pingpong IF MAC SIZE "
		"COUNT | tcpseg IF SECONDS PAYLOAD\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint8_t mac[6];
	const char *m = argc > 1 ? argv[1] : "";

	if (argc < 4)
		usage();
	open_if(argv[2]);
	if (!strcmp(m, "capture"))
		return mode_capture((double)num(argv[3]), argc > 4 ? argv[4] : NULL);
	if (!strcmp(m, "count") && argc == 5)
		return mode_count(argv[3], (double)num(argv[4]));
	if (!strcmp(m, "tcpseg") && argc == 5)
		return mode_tcpseg((double)num(argv[3]), num(argv[4]));
	if (parse_mac(argv[3], mac))
		usage();
	if (!strcmp(m, "echo") && argc == 6 && num(argv[4]) >= 14 &&
	    num(argv[5]) < MAXF)
		return mode_echo(mac, num(argv[4]), num(argv[5]));
	if (!strcmp(m, "send") && argc >= 6 && argc <= 8 && num(argv[4]) >= 14 &&
	    num(argv[4]) < MAXF)
		return mode_send(mac, num(argv[4]), argv[5],
				 argc > 6 ? num(argv[6]) : 1, argc > 7 ? num(argv[7]) : 0);
	if (!strcmp(m, "flood") && argc == 7 && num(argv[4]) >= 14 &&
	    num(argv[4]) < MAXF)
		return mode_flood(mac, num(argv[4]), argv[5], (double)num(argv[6]));
	if (!strcmp(m, "pingpong") && argc == 6 && num(argv[4]) >= 24 &&
	    num(argv[4]) < MAXF)
		return mode_pingpong(mac, num(argv[4]), num(argv[5]));
	usage();
}
