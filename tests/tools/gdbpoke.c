/*
 * gdbpoke: a careless or hostile gdb remote peer, for tests/t-gdb.sh.
 *
 *   gdbpoke PORT OP...    connects to 127.0.0.1:PORT (or, given unix:PATH,
 *                         to that socket) and runs each OP:
 *     pkt:PAYLOAD   sends $PAYLOAD#cs (right checksum), waits for the
 *                   reply packet and prints its payload on one line
 *                   (acks skipped; at most 10 s, then "timeout")
 *     raw:BYTES     sends BYTES as they are (\xHH escapes), reads nothing
 *     big:N         sends one packet of N bytes of 'A' with its checksum
 *     rand:N        sends N bytes of /dev/urandom
 *     line          prints the next line that arrives (10 s at most)
 *     byte          prints the next byte that arrives (an ack: + or -)
 *     wait          prints what arrives within 10 s of the last byte
 *                   until a full reply packet (as pkt:)
 *   then closes the connection (a disconnect at whatever point it is).
 * Exit status 0, or 1 when the connection fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w <= 0) {
			fprintf(stderr, "gdbpoke: send: %s\n", strerror(errno));
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

static void send_packet(int fd, const char *p, size_t n)
{
	unsigned sum = 0;
	char tail[4];

	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)p[i];
	send_all(fd, "$", 1);
	send_all(fd, p, n);
	snprintf(tail, sizeof(tail), "#%02x", sum & 0xff);
	send_all(fd, tail, 3);
}

/* Reads one reply packet; prints its payload (or "timeout"/"closed"). */
static void read_reply(int fd)
{
	static char buf[65536];
	size_t n = 0;
	int state = 0;	/* 0 before $, 1 in payload, 2/3 checksum */

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;
		if (poll(&p, 1, 10000) <= 0) {
			printf("timeout\n");
			return;
		}
		if (recv(fd, &c, 1, 0) != 1) {
			printf("closed\n");
			return;
		}
		if (state == 0 && c == '$')
			state = 1;
		else if (state == 1 && c == '#')
			state = 2;
		else if (state == 1 && n + 1 < sizeof(buf))
			buf[n++] = c;
		else if (state >= 2 && ++state == 4)
			break;
	}
	if (n > 64)
		printf("<%zu bytes>\n", n);	/* register or memory dumps */
	else
		printf("%.*s\n", (int)n, buf);
}

static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		unsigned v;
		if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1) {
			out[n++] = (char)v;
			s += 4;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (argc < 2) {
		fprintf(stderr, "usage: gdbpoke PORT OP...\n");
		return 2;
	}
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	bool is_unix = strncmp(argv[1], "unix:", 5) == 0;
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", argv[1] + (is_unix ? 5 : 0));
	int fd = socket(is_unix ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || (is_unix ? connect(fd, (struct sockaddr *)&u, sizeof(u)) :
		       connect(fd, (struct sockaddr *)&a, sizeof(a))) < 0) {
		fprintf(stderr, "gdbpoke: connect: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		const char *op = argv[i];
		if (strncmp(op, "pkt:", 4) == 0) {
			char *buf = malloc(strlen(op) + 1);
			size_t n = unescape(op + 4, buf);
			send_packet(fd, buf, n);
			free(buf);
			read_reply(fd);
		} else if (strncmp(op, "raw:", 4) == 0) {
			char *buf = malloc(strlen(op) + 1);
			size_t n = unescape(op + 4, buf);
			send_all(fd, buf, n);
			free(buf);
		} else if (strncmp(op, "big:", 4) == 0) {
			size_t n = strtoul(op + 4, NULL, 10);
			char *buf = malloc(n + 1);
			memset(buf, 'A', n);
			send_packet(fd, buf, n);
			free(buf);
		} else if (strncmp(op, "rand:", 5) == 0) {
			size_t n = strtoul(op + 5, NULL, 10);
			char *buf = malloc(n + 1);
			int r = open("/dev/urandom", O_RDONLY);
			if (r < 0 || read(r, buf, n) != (ssize_t)n)
				n = 0;
			if (r >= 0)
				close(r);
			send_all(fd, buf, n);
			free(buf);
		} else if (strcmp(op, "line") == 0) {
			char c;
			struct pollfd p = { .fd = fd, .events = POLLIN };
			while (poll(&p, 1, 10000) > 0 && recv(fd, &c, 1, 0) == 1 &&
			       c != '\n')
				putchar(c);
			putchar('\n');
		} else if (strcmp(op, "byte") == 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			char c;
			if (poll(&p, 1, 10000) > 0 && recv(fd, &c, 1, 0) == 1)
				printf("%c\n", c);
			else
				printf("timeout\n");
		} else if (strcmp(op, "wait") == 0) {
			read_reply(fd);
		}
		fflush(stdout);
	}
	close(fd);
	return 0;
}
