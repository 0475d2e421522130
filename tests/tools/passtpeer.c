/*
 * Host side of tests/t-passt.sh.
 *
 *   passtpeer udp PORT MAXPAYLOAD
 *       a UDP peer on the namespace's loopback: sends 127.0.0.1:PORT one
 *       datagram of every payload size 1..MAXPAYLOAD (each tried up to 5
 *       times, 2 s each), checks that the echo (from any port) is the same
 *       bytes; then the stop datagram.  Prints "udp: sizes=N bad=N lost=N".
 *   passtpeer fake SOCKET MODE [ARG]
 *       a fake passt: listens on SOCKET, takes one connection, then MODE:
 *       zero | huge | truncated   a zero length / 0x7fffffff / a length
 *                                 of 1000 and 500 bytes, then close
 *       echo MTU                  test frames of every size 60..MTU+14,
 *                                 each written in three pieces (so that
 *                                 picovm reads partial frames); each must
 *                                 come back (net-echo swaps the MACs)
 *                                 byte for byte; then the stop frame
 *       drain SIZE:COUNT          reads slowly from a small receive
 *                                 buffer (so that picovm's writes come
 *                                 up short) until COUNT frames came;
 *                                 each must be the bench guest's test
 *                                 frame of SIZE bytes, byte for byte
 *                                 from the ethertype on ("back"), else
 *                                 "bad"
 *       hangup BYTES              reads nothing until BYTES of
 *                                 picovm's frames wait in its receive
 *                                 queue (at most 60 s), prints
 *                                 "fake: hangup queued=N" and closes
 *                                 the connection, unread
 *       flood SECONDS             frames tagged "flood" for SECONDS
 *                                 (writes that would block are counted,
 *                                 not waited for), then 50 tagged "after"
 *                                 and the stop frame
 *       The end: waits for picovm to close the connection (it ends).
 *       Prints "fake: MODE sent=N back=N bad=N".
 *   passtpeer udpflood PORT PAYLOAD SECONDS
 *       datagrams of PAYLOAD bytes to 127.0.0.1:PORT for SECONDS, as fast
 *       as they go (a benchmark's host side: bench/net.sh); prints the
 *       count.
 *   passtpeer connect SOCKET FD CMD...
 *       connects to SOCKET, makes the connection descriptor FD and execs
 *       CMD (picovm with net.N.passt.fd = FD).
 * The frames are the test guest's (guest/t_net.h): ethertype 0x88b5, a tag
 * and NUL, then byte i = i * 7 + seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STOP_TAG "picotest-stop"

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static unsigned frame(uint8_t *f, unsigned len, const char *tag, uint8_t seed)
{
	for (unsigned i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
	memset(f, 0xff, 6);				/* broadcast */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88, f[13] = 0xb5;
	memcpy(f + 14, tag, strlen(tag) + 1);
	return len;
}

static void put_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("fake: write");
		b += k;
		n -= (size_t)k;
	}
}

/* Reads exactly n bytes within 10 s: 0, or -1 (end, error, time out). */
static int get_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 10000) <= 0)
			return -1;
		ssize_t k = read(fd, b, n);
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static void send_frame(int fd, const uint8_t *f, uint32_t len, int pieces)
{
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
			   (uint8_t)(len >> 8), (uint8_t)len };
	if (pieces < 3) {
		put_all(fd, hdr, 4);
		put_all(fd, f, len);
		return;
	}
	/* Three pieces, cut inside the length and inside the frame. */
	struct timespec pause = { 0, 200000 };
	put_all(fd, hdr, 2);
	nanosleep(&pause, NULL);
	put_all(fd, hdr + 2, 2);
	put_all(fd, f, len / 2);
	nanosleep(&pause, NULL);
	put_all(fd, f + len / 2, len - len / 2);
}

static int mode_echo(int fd, unsigned mtu, unsigned long *sent, unsigned long *back)
{
	static uint8_t f[70000], g[70000];
	int bad = 0;

	for (unsigned len = 60; len <= mtu + 14; len++) {
		uint8_t hdr[4];
		frame(f, len, "echo", (uint8_t)len);
		send_frame(fd, f, len, 3);
		(*sent)++;
		for (;;) {	/* skip what is not a test frame */
			if (get_all(fd, hdr, 4) < 0)
				return bad + 1;
			uint32_t n = (uint32_t)hdr[0] << 24 | hdr[1] << 16 |
				     hdr[2] << 8 | hdr[3];
			if (n > sizeof(g) || get_all(fd, g, n) < 0)
				return bad + 1;
			if (n < 14 || g[12] != 0x88 || g[13] != 0xb5)
				continue;
			(*back)++;
			if (n != len || memcmp(g, f + 6, 6) || memcmp(g + 6, f, 6) ||
			    memcmp(g + 12, f + 12, len - 12)) {
				fprintf(stderr, "fake: frame of %u bytes came back as "
					"%u bytes or different\n", len, n);
				bad++;
			}
			break;
		}
	}
	return bad;
}

static int mode_flood(int fd, unsigned secs, unsigned long *sent, unsigned long *back)
{
	static uint8_t f[1514];
	time_t end = time(NULL) + secs;
	unsigned long would_block = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	frame(f, 1000, "flood", 1);
	uint8_t rec[1004] = { 0, 0, 1000 >> 8, 1000 & 255 };
	memcpy(rec + 4, f, 1000);
	size_t off = 0;
	while (time(NULL) < end) {
		ssize_t k = write(fd, rec + off, sizeof(rec) - off);
		if (k < 0 && errno == EAGAIN) {
			would_block++;
			struct pollfd pf = { fd, POLLOUT, 0 };
			poll(&pf, 1, 50);
			continue;
		}
		if (k <= 0)
			die("fake: flood write");
		off += (size_t)k;
		if (off == sizeof(rec)) {
			off = 0;
			(*sent)++;
		}
	}
	fcntl(fd, F_SETFL, 0);
	if (off)
		put_all(fd, rec + off, sizeof(rec) - off);
	printf("fake: flood would-block=%lu\n", would_block);
	for (int i = 0; i < 50; i++) {
		frame(f, 200, "after", (uint8_t)i);
		send_frame(fd, f, 200, 1);
	}
	(void)back;
	return 0;
}

static int mode_drain(int fd, unsigned size, unsigned count, unsigned long *back)
{
	static uint8_t g[70000];
	struct timespec pause = { 0, 100000 };
	int bad = 0, small = 4096;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	while (*back < count && !bad) {
		uint8_t hdr[4];
		if (get_all(fd, hdr, 4) < 0)
			break;
		uint32_t n = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
		if (n > sizeof(g)) {
			fprintf(stderr, "fake: drain: a length of %u\n", n);
			return bad + 1;
		}
		/* in pieces of at most 1000 bytes, a pause after each */
		for (uint32_t got = 0; got < n;) {
			uint32_t k = n - got < 1000 ? n - got : 1000;
			if (get_all(fd, g + got, k) < 0)
				return bad + 1;
			got += k;
			nanosleep(&pause, NULL);
		}
		if (n < 14 || g[12] != 0x88 || g[13] != 0xb5)
			continue;	/* not a test frame */
		/* the bench guest's frame: from the ethertype on, as frame()
		 * makes it (tag "bench", seed 0) */
		static uint8_t want[70000];
		frame(want, n, "bench", 0);
		if (n == size && !memcmp(g + 12, want + 12, n - 12)) {
			(*back)++;
		} else {
			fprintf(stderr, "fake: drain: frame %lu: %u bytes, or "
				"not the bench frame\n", *back, n);
			bad++;
		}
	}
	return bad;
}

/* Reads nothing until at least min bytes wait in fd's receive queue
 * (picovm's writes then come up short or wait), at most 60 s; prints how
 * many, then closes the connection under picovm's writes. */
static int mode_hangup(int fd, unsigned min)
{
	int queued = 0;

	for (int i = 0; i < 6000 && (unsigned)queued < min; i++) {
		struct timespec pause = { 0, 10000000 };
		if (ioctl(fd, FIONREAD, &queued) < 0)
			die("fake: FIONREAD");
		nanosleep(&pause, NULL);
	}
	printf("fake: hangup queued=%d\n", queued);
	fflush(stdout);
	close(fd);
	return (unsigned)queued >= min ? 0 : 1;
}

static int fake(const char *path, const char *mode, const char *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned long sent = 0, back = 0;
	int bad = 0;
	uint8_t f[1514];

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 1) < 0)
		die("fake: listen");
	printf("fake: listening\n");
	fflush(stdout);
	/* Bounded: a picovm that never connects must not hang the test. */
	struct pollfd lp = { ls, POLLIN, 0 };
	if (poll(&lp, 1, 60000) <= 0) {
		fprintf(stderr, "fake: nobody connected within 60 s\n");
		return 2;
	}
	int fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("fake: accept");
	close(ls);
	if (strcmp(mode, "zero") == 0) {
		put_all(fd, "\0\0\0\0", 4);
	} else if (strcmp(mode, "huge") == 0) {
		put_all(fd, "\x7f\xff\xff\xff", 4);
	} else if (strcmp(mode, "truncated") == 0) {
		uint8_t hdr[4] = { 0, 0, 1000 >> 8, 1000 & 255 };
		frame(f, 1000, "cut", 0);
		put_all(fd, hdr, 4);
		put_all(fd, f, 500);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(mode, "echo") == 0 && arg) {
		bad = mode_echo(fd, (unsigned)atoi(arg), &sent, &back);
	} else if (strcmp(mode, "drain") == 0 && arg && strchr(arg, ':')) {
		bad = mode_drain(fd, (unsigned)atoi(arg),
				 (unsigned)atoi(strchr(arg, ':') + 1), &back);
	} else if (strcmp(mode, "flood") == 0 && arg) {
		bad = mode_flood(fd, (unsigned)atoi(arg), &sent, &back);
	} else if (strcmp(mode, "hangup") == 0 && arg) {
		return mode_hangup(fd, (unsigned)atoi(arg));
	} else {
		fprintf(stderr, "fake: unknown mode %s\n", mode);
		return 2;
	}
	if (strcmp(mode, "echo") == 0 || strcmp(mode, "flood") == 0)
		send_frame(fd, f, frame(f, 100, STOP_TAG, 0), 1);
	printf("fake: %s sent=%lu back=%lu bad=%d\n", mode, sent, back, bad);
	fflush(stdout);
	/* Until picovm is gone (its end of the stream closes), at most 120 s
	 * of silence. */
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 120000) <= 0)
			break;
		ssize_t k = read(fd, f, sizeof(f));
		if (k == 0 || (k < 0 && errno != EINTR))
			break;
	}
	return bad ? 1 : 0;
}

static int udp(unsigned port, unsigned maxp)
{
	static uint8_t p[65536], q[65536];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned bad = 0, lost = 0, sizes = 0;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		die("udp: socket");
	for (unsigned len = 1; len <= maxp; len++) {
		int ok = 0;
		for (unsigned i = 0; i < len; i++)
			p[i] = (uint8_t)(i * 13 + len);
		for (int attempt = 0; attempt < 5 && !ok; attempt++) {
			if (sendto(s, p, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
				die("udp: sendto");
			for (;;) {
				struct pollfd pf = { s, POLLIN, 0 };
				if (poll(&pf, 1, 2000) <= 0)
					break;
				ssize_t k = recv(s, q, sizeof(q), 0);
				if (k == (ssize_t)len && memcmp(p, q, len) == 0) {
					ok = 1;
					break;
				}
				if (k != (ssize_t)len || memcmp(p, q, len))
					bad++;	/* stale or wrong */
			}
		}
		sizes += ok ? 1u : 0u;
		lost += ok ? 0u : 1u;
	}
	sendto(s, STOP_TAG, strlen(STOP_TAG), 0, (struct sockaddr *)&to, sizeof(to));
	printf("udp: sizes=%u bad=%u lost=%u\n", sizes, bad, lost);
	return lost || bad ? 1 : 0;
}

static int udpflood(unsigned port, unsigned len, unsigned secs)
{
	static uint8_t p[65536];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	unsigned long sent = 0;
	time_t end = time(NULL) + secs;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || len > sizeof(p))
		die("udpflood");
	while (time(NULL) < end)
		for (int i = 0; i < 256; i++)
			sent += sendto(s, p, len, 0, (struct sockaddr *)&to,
				       sizeof(to)) == (ssize_t)len;
	printf("udpflood: sent=%lu\n", sent);
	return 0;
}

static int connect_exec(const char *path, int fd, char **cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	if (s != fd && (dup2(s, fd) < 0 || close(s) < 0))
		die("dup2");
	execvp(cmd[0], cmd);
	die("exec");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "udpflood") == 0)
		return udpflood((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
				(unsigned)atoi(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "connect") == 0)
		return connect_exec(argv[2], atoi(argv[3]), argv + 4);
	if (argc == 4 && strcmp(argv[1], "udp") == 0)
		return udp((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "fake") == 0)
		return fake(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	fprintf(stderr, "usage: passtpeer udp PORT MAXPAYLOAD | fake SOCKET MODE "
		"[ARG] | connect SOCKET FD CMD...\n");
	return 2;
}
