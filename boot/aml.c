/* The AML writer; see aml.h. */
#include "aml.h"

#include <stdbool.h>
#include <string.h>

#include "bytes.h"

#define OP_ZERO 0x00
#define OP_ONE 0x01
#define OP_NAME 0x08
#define OP_BYTE 0x0a
#define OP_WORD 0x0b
#define OP_DWORD 0x0c
#define OP_STRING 0x0d
#define OP_QWORD 0x0e
#define OP_SCOPE 0x10
#define OP_BUFFER 0x11
#define OP_PACKAGE 0x12
#define OP_EXT 0x5b
#define OP_EXT_DEVICE 0x82
#define OP_ONES 0xff
#define PREFIX_DUAL 0x2e
#define PREFIX_MULTI 0x2f

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

static void fail(struct aml *a, const char *why)
{
	if (!a->error)
		a->error = why;
}

static void put(struct aml *a, const void *p, size_t n)
{
	if (a->error)
		return;
	if (n > a->cap - a->len) {
		fail(a, "the buffer is full");
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put1(struct aml *a, uint8_t b)
{
	put(a, &b, 1);
}

long aml_finish(struct aml *a, const char **why)
{
	if (a->depth)
		fail(a, "a package is still open");
	*why = a->error;
	return a->error ? -1 : (long)a->len;
}

unsigned aml_pkglen(size_t len, uint8_t out[4])
{
	/* The PkgLength counts itself: one byte holds 0-63 in bits 0-5;
	 * longer ones have their extra-byte count in bits 6-7 of the lead
	 * byte, whose bits 0-3 are the low nibble, then 8 bits per byte. */
	for (unsigned n = 1; n <= 4; n++) {
		size_t total = len + n;
		if (total < len)
			return 0;
		if (n == 1 && total <= 0x3f) {
			out[0] = (uint8_t)total;
			return 1;
		}
		if (n > 1 && total < (1ULL << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
			for (unsigned i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

static int seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* NameString: prefixes, then NameSeg, DualNamePath or MultiNamePath. */
static void put_namestring(struct aml *a, const char *path)
{
	const char *p = path;
	uint8_t segs[255][4];
	unsigned n = 0;

	while (*p == '\\' || *p == '^') {
		if (p != path && (*p == '\\' || path[0] == '\\')) {
			fail(a, "a name with '\\' after its start or '^' after '\\'");
			return;
		}
		put1(a, (uint8_t)*p++);
	}
	while (*p) {
		if (n == 255) {
			fail(a, "a name of more than 255 segments");
			return;
		}
		size_t k = 0;
		memset(segs[n], '_', 4);
		for (; p[k] && p[k] != '.'; k++) {
			if (k == 4 || !seg_char(p[k], k == 0)) {
				fail(a, "a name segment that is not 1-4 of A-Z, 0-9, _");
				return;
			}
			segs[n][k] = (uint8_t)p[k];
		}
		if (k == 0) {
			fail(a, "an empty name segment");
			return;
		}
		n++;
		p += k;
		if (*p == '.' && !*++p) {
			fail(a, "a name ending in '.'");
			return;
		}
	}
	if (n == 0) {
		fail(a, "an empty name");
		return;
	}
	if (n == 2)
		put1(a, PREFIX_DUAL);
	else if (n > 2) {
		put1(a, PREFIX_MULTI);
		put1(a, (uint8_t)n);
	}
	put(a, segs, 4 * (size_t)n);
}

void aml_name(struct aml *a, const char *path)
{
	put1(a, OP_NAME);
	put_namestring(a, path);
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[8];

	put_le64(b, v);
	if (v == 0)
		put1(a, OP_ZERO);
	else if (v == 1)
		put1(a, OP_ONE);
	else if (v == UINT64_MAX)
		put1(a, OP_ONES);
	else if (v <= 0xff) {
		put1(a, OP_BYTE);
		put(a, b, 1);
	} else if (v <= 0xffff) {
		put1(a, OP_WORD);
		put(a, b, 2);
	} else if (v <= 0xffffffff) {
		put1(a, OP_DWORD);
		put(a, b, 4);
	} else {
		put1(a, OP_QWORD);
		put(a, b, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c > 0x7f) {
			fail(a, "a string that is not ASCII");
			return;
		}
	put1(a, OP_STRING);
	put(a, s, strlen(s) + 1);
}

/* Reserves a 4-byte PkgLength, shrunk to its size at aml_close(). */
static void open_pkg(struct aml *a)
{
	static const uint8_t room[4];

	if (a->error)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, "packages nested too deep");
		return;
	}
	a->open[a->depth++] = a->len;
	put(a, room, sizeof(room));
}

void aml_close(struct aml *a)
{
	uint8_t enc[4];

	if (a->error)
		return;
	if (!a->depth) {
		fail(a, "a close without an open package");
		return;
	}
	size_t at = a->open[--a->depth], body = a->len - at - 4;
	unsigned n = aml_pkglen(body, enc);
	if (!n) {
		fail(a, "a package longer than a PkgLength holds");
		return;
	}
	memmove(a->buf + at + n, a->buf + at + 4, body);
	memcpy(a->buf + at, enc, n);
	a->len -= 4 - n;
}

void aml_scope(struct aml *a, const char *path)
{
	put1(a, OP_SCOPE);
	open_pkg(a);
	put_namestring(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	put1(a, OP_EXT);
	put1(a, OP_EXT_DEVICE);
	open_pkg(a);
	put_namestring(a, path);
}

void aml_package(struct aml *a, uint8_t nelems)
{
	put1(a, OP_PACKAGE);
	open_pkg(a);
	put1(a, nelems);
}

void aml_buffer(struct aml *a, const uint8_t *data, size_t n)
{
	put1(a, OP_BUFFER);
	open_pkg(a);
	aml_integer(a, n);
	put(a, data, n);
	aml_close(a);
}

size_t aml_res_io(uint8_t *out, uint16_t port, uint8_t len)
{
	out[0] = 0x47;			/* I/O port, small, 7 bytes */
	out[1] = 0x01;			/* 16-bit decode */
	put_le16(out + 2, port);	/* minimum */
	put_le16(out + 4, port);	/* maximum */
	out[6] = 1;			/* alignment */
	out[7] = len;
	return 8;
}

size_t aml_res_mem32(uint8_t *out, uint32_t base, uint32_t len)
{
	out[0] = 0x86;			/* 32-bit fixed memory range */
	put_le16(out + 1, 9);
	out[3] = 0x01;			/* read/write */
	put_le32(out + 4, base);
	put_le32(out + 8, len);
	return 12;
}

size_t aml_res_irq(uint8_t *out, uint32_t gsi)
{
	out[0] = 0x89;			/* extended interrupt */
	put_le16(out + 1, 6);
	out[3] = 0x03;			/* consumer, edge, active high, exclusive */
	out[4] = 1;			/* one interrupt */
	put_le32(out + 5, gsi);
	return 9;
}

size_t aml_res_end(uint8_t *out)
{
	out[0] = 0x79;
	out[1] = 0;			/* checksum 0: treated as valid */
	return 2;
}
