/*
 * Unit tests of the AML writer (boot/aml.c) and the DSDT built with it
 * (boot/acpi.c): PkgLength encodings of 1-4 bytes at their boundaries,
 * integers, names, nested packages of each PkgLength size read back with
 * a decoder of the test's own, every refusal (full buffer, bad names,
 * unbalanced or too deep packages), and the DSDT for 0, 1 and 16 virtio
 * devices walked term by term.  t-acpi.sh has iasl check the same DSDT.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../boot/aml.h"
#include "../../boot/boot.h"
#include "../../virtio/mmio.h"

/* The PkgLength at p: *n gets its size; returns the length it holds. */
static size_t pkglen_decode(const uint8_t *p, unsigned *n)
{
	unsigned extra = p[0] >> 6;
	size_t v = extra ? (p[0] & 0x0f) : (p[0] & 0x3f);

	for (unsigned i = 1; i <= extra; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	*n = extra + 1;
	return v;
}

static void test_pkglen(void)
{
	static const struct {
		size_t len;
		unsigned n;
		uint8_t enc[4];
	} cases[] = {
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },
		{ 63, 2, { 0x41, 0x04 } },		/* 65 */
		{ 4093, 2, { 0x4f, 0xff } },		/* 4095 */
		{ 4094, 3, { 0x81, 0x00, 0x01 } },	/* 4097 */
		{ 0xffffc, 3, { 0x8f, 0xff, 0xff } },	/* 0xfffff */
		{ 0xffffd, 4, { 0xc1, 0x00, 0x00, 0x01 } },
		{ 0xffffffb, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[4] = { 0 };
		unsigned n = aml_pkglen(cases[i].len, out);
		snprintf(name, sizeof(name), "pkglen %zu: %u bytes", cases[i].len,
			 cases[i].n);
		check(name, n == cases[i].n && memcmp(out, cases[i].enc, n) == 0,
		      "got %u bytes %02x %02x %02x %02x", n, out[0], out[1],
		      out[2], out[3]);
	}
	uint8_t out[4];
	check("pkglen: 0xffffffc refused (above 28 bits)",
	      aml_pkglen(0xffffffc, out) == 0, "encoded");
	check("pkglen: SIZE_MAX refused", aml_pkglen(SIZE_MAX, out) == 0, "encoded");
	/* Every length up to 70000, and a spread beyond, decodes back to
	 * itself plus the encoding's size, in the fewest bytes. */
	bool ok = true;
	size_t bad = 0;
	for (size_t len = 0; len < 0xffffff0 && ok; len = len < 70000 ? len + 1 : len * 3 + 7) {
		unsigned n = aml_pkglen(len, out), dn;
		size_t v = pkglen_decode(out, &dn);
		unsigned want = len + 1 <= 0x3f ? 1 : len + 2 <= 0xfff ? 2 :
				len + 3 <= 0xfffff ? 3 : 4;
		if (n != want || dn != n || v != len + n || (n > 1 && (out[0] & 0x30)))
			ok = false, bad = len;
	}
	check("pkglen: round trip, fewest bytes", ok, "length %zu", bad);
}

static void test_terms(void)
{
	uint8_t buf[64];
	struct aml a;
	const char *why;

	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x12345678);
	aml_integer(&a, 0x100000000ULL);
	aml_integer(&a, UINT64_MAX);
	static const uint8_t want[] = {
		0x00, 0x01, 0x0a, 0xff, 0x0b, 0x00, 0x01,
		0x0c, 0x78, 0x56, 0x34, 0x12,
		0x0e, 0, 0, 0, 0, 1, 0, 0, 0, 0xff,
	};
	long n = aml_finish(&a, &why);
	check("integers: Zero, One, Byte, Word, DWord, QWord, Ones",
	      n == (long)sizeof(want) && !memcmp(buf, want, sizeof(want)),
	      "length %ld", n);

	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "\\_SB.PCI0.S1");
	aml_name(&a, "^AB.CD");
	aml_string(&a, "hi");
	static const uint8_t want2[] = {
		0x08, '\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		'S', '1', '_', '_',
		0x08, '^', 0x2e, 'A', 'B', '_', '_', 'C', 'D', '_', '_',
		0x0d, 'h', 'i', 0,
	};
	n = aml_finish(&a, &why);
	check("names: root, multi, parent, dual, padding; string",
	      n == (long)sizeof(want2) && !memcmp(buf, want2, sizeof(want2)),
	      "length %ld", n);

	static const char *const bad[] = {
		"", "1ABC", "ABCDE", "ab", "A..B", "AB.", "A\\B", "\\", "A-B",
		"\\^AB", "^\\AB",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		aml_init(&a, buf, sizeof(buf));
		aml_name(&a, bad[i]);
		snprintf(name, sizeof(name), "name '%s' refused", bad[i]);
		check(name, aml_finish(&a, &why) < 0 && why, "accepted");
	}
	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "\xc3\xa9");
	check("string: non-ASCII refused", aml_finish(&a, &why) < 0, "accepted");
}

/* A Scope holding a Device holding a Buffer of blen bytes: each
 * PkgLength read back covers exactly its package. */
static void nested(size_t blen, unsigned want_n)
{
	size_t cap = blen + 64;
	uint8_t *buf = malloc(cap), *data = malloc(blen);
	struct aml a;
	const char *why;
	char name[64];

	memset(data, 0x5a, blen);
	aml_init(&a, buf, cap);
	aml_scope(&a, "\\_SB");
	aml_device(&a, "DEV0");
	aml_name(&a, "BUF0");
	aml_buffer(&a, data, blen);
	aml_close(&a);
	aml_close(&a);
	long len = aml_finish(&a, &why);
	snprintf(name, sizeof(name), "nested packages, %zu-byte buffer", blen);
	bool ok = len > 0 && buf[0] == 0x10;
	unsigned n1 = 0, n2 = 0, n3 = 0;
	if (ok) {
		size_t scope = pkglen_decode(buf + 1, &n1);
		ok = scope == (size_t)len - 1 && !memcmp(buf + 1 + n1, "\\_SB_", 5);
		const uint8_t *d = buf + 1 + n1 + 5;
		ok = ok && d[0] == 0x5b && d[1] == 0x82;
		size_t dev = ok ? pkglen_decode(d + 2, &n2) : 0;
		ok = ok && d + 2 + dev == buf + len && !memcmp(d + 2 + n2, "DEV0", 4);
		const uint8_t *b = d + 2 + n2 + 4;
		ok = ok && b[0] == 0x08 && !memcmp(b + 1, "BUF0", 4) && b[5] == 0x11;
		size_t bl = ok ? pkglen_decode(b + 6, &n3) : 0;
		ok = ok && b + 6 + bl == buf + len && n3 == want_n;
		const uint8_t *size = b + 6 + n3;
		size_t sz = size[0] == 0x0a ? size[1] : size[0] == 0x0b ?
			    (size_t)(size[1] | size[2] << 8) : size[0] == 0x0c ?
			    (size_t)size[1] | (size_t)size[2] << 8 | (size_t)size[3] << 16 : 0;
		size_t szlen = size[0] == 0x0a ? 2 : size[0] == 0x0b ? 3 : 5;
		ok = ok && sz == blen && size + szlen + blen == buf + len &&
		     size[szlen] == 0x5a && buf[len - 1] == 0x5a;
	}
	check(name, ok, "length %ld (%s), PkgLength sizes %u %u %u", len,
	      len < 0 ? why : "ok", n1, n2, n3);
	free(buf);
	free(data);
}

static void test_errors(void)
{
	struct aml a;
	const char *why;
	uint8_t buf[16];

	/* An exact-size heap buffer: ASan catches a write past it. */
	uint8_t *small = malloc(10);
	aml_init(&a, small, 10);
	aml_string(&a, "LNRO0005");
	aml_string(&a, "LNRO0005");
	long n = aml_finish(&a, &why);
	check("full buffer refused, nothing written past it",
	      n < 0 && why && strstr(why, "full") && a.len == 10,
	      "length %ld, used %zu", n, a.len);
	free(small);

	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "\\_SB");
	check("unclosed package refused", aml_finish(&a, &why) < 0, "accepted");
	aml_init(&a, buf, sizeof(buf));
	aml_close(&a);
	check("close without open refused", aml_finish(&a, &why) < 0, "accepted");
	uint8_t big[256];
	aml_init(&a, big, sizeof(big));
	for (unsigned i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package(&a, 0);
	for (unsigned i = 0; i <= AML_MAX_DEPTH; i++)
		aml_close(&a);
	check("nesting deeper than AML_MAX_DEPTH refused",
	      aml_finish(&a, &why) < 0 && strstr(why, "deep"), "accepted");
	/* An error sticks: later terms write nothing. */
	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "bad");
	size_t used = a.len;
	aml_integer(&a, 7);
	check("an error sticks", aml_finish(&a, &why) < 0 && a.len == used &&
	      strstr(why, "segment"), "len %zu, %s", a.len, why ? why : "none");
}

/* The DSDT picovm 0.1 shipped, assembled by hand and checked with iasl:
 * the writer must produce it byte for byte with no virtio device. */
static const uint8_t dsdt_v0[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
	0x10, 0x36, '\\', '_', 'S', 'B', '_',
	0x5b, 0x82, 0x2e, 'P', 'E', 'V', 'T',
	0x08, '_', 'H', 'I', 'D', 0x0d,
	'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0d, 0x0a, 0x0a,
	0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01,
	0x79, 0x00,
	0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f,
};

static const uint8_t *find(const uint8_t *p, size_t n, const void *what, size_t wn)
{
	for (size_t i = 0; i + wn <= n; i++)
		if (!memcmp(p + i, what, wn))
			return p + i;
	return NULL;
}

static void test_dsdt(void)
{
	uint8_t buf[4096];
	const char *why;
	long n = acpi_dsdt_aml(buf, sizeof(buf), 0, &why);

	check("dsdt 0 devices: the hand-assembled table, byte for byte",
	      n == (long)sizeof(dsdt_v0) && !memcmp(buf, dsdt_v0, sizeof(dsdt_v0)),
	      "length %ld", n);
	for (unsigned nv = 1; nv <= 16; nv += 15) {
		char name[80];
		n = acpi_dsdt_aml(buf, sizeof(buf), nv, &why);
		unsigned sn, found = 0;
		const uint8_t *scope = buf + 14;
		size_t slen = n > 14 ? pkglen_decode(scope + 1, &sn) : 0;
		bool ok = n > 0 && scope[0] == 0x10 && scope + 1 + slen == buf + n;
		for (unsigned i = 0; ok && i < nv; i++) {
			char dev[5];
			uint8_t crs[21] = { 0x86, 9, 0, 1 };
			uint32_t base = (uint32_t)virtio_mmio_window(i, true);
			snprintf(dev, sizeof(dev), "VR%02X", i);
			const uint8_t *d = find(buf, (size_t)n, dev, 4);
			memcpy(crs + 4, &base, 4);
			crs[9] = 0x10;		/* 0x1000 */
			crs[12] = 0x89, crs[13] = 6, crs[15] = 3, crs[16] = 1;
			crs[17] = (uint8_t)virtio_mmio_irq(i);
			if (d && (d[-2] == 0x82 || (d[-3] == 0x82 && d[-2] >> 6 == 1)) &&
			    find(d, (size_t)(buf + n - d), "LNRO0005", 9) &&
			    find(d, (size_t)(buf + n - d), crs, sizeof(crs)))
				found++;
		}
		char extra[5];
		snprintf(extra, sizeof(extra), "VR%02X", nv);
		snprintf(name, sizeof(name), "dsdt %u devices: each with its window and IRQ", nv);
		check(name, ok && found == nv && !find(buf, (size_t)n, extra, 4),
		      "length %ld, %u of %u found", n, found, nv);
	}
	n = acpi_dsdt_aml(buf, sizeof(buf), 17, &why);
	check("dsdt 17 devices refused", n < 0, "length %ld", n);
	n = acpi_dsdt_aml(buf, 100, 16, &why);
	check("dsdt in too small a buffer refused", n < 0, "length %ld", n);
}

int main(void)
{
	test_pkglen();
	test_terms();
	nested(10, 1);
	nested(100, 2);
	nested(5000, 3);
	nested(1100000, 4);
	test_errors();
	test_dsdt();
	return check_failures ? 1 : 0;
}
