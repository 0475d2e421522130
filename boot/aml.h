/*
 * A small checked AML writer (ACPI 6.5 section 20.2) for the DSDT: the few
 * terms picovm's tables use, written into a caller's buffer.
 *
 * Every call checks room and arguments; the first problem (buffer full,
 * a name that is not a NameString, a package nested too deep or longer
 * than a PkgLength holds) sticks, later calls do nothing, and
 * aml_finish() reports it.  Packages (Scope, Device, Package) are opened
 * and closed; their PkgLength is encoded at close in the fewest bytes
 * (1-4) that hold it.
 */
#ifndef PICOVM_BOOT_AML_H
#define PICOVM_BOOT_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8
#define AML_PKGLEN_MAX 0x0fffffffU	/* 28 bits, in 4 bytes */

struct aml {
	uint8_t *buf;
	size_t cap, len;
	const char *error;	/* the first problem; NULL: none */
	size_t open[AML_MAX_DEPTH];	/* where each open PkgLength starts */
	unsigned depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* The length written, or -1 with *why set (an unclosed package is one). */
long aml_finish(struct aml *a, const char **why);

/* Encodes a PkgLength for len bytes of package body (what follows it)
 * into out[4]; returns its size 1-4, or 0 when len is too long. */
unsigned aml_pkglen(size_t len, uint8_t out[4]);

/* Terms. Names are NameStrings: an optional '\' or '^'s, then one or more
 * segments of 1-4 characters (A-Z, 0-9, _; not starting with a digit)
 * separated by '.'; a short segment is padded with '_'. */
/* Name (path, value): the next term written is the value. */
void aml_name(struct aml *a, const char *path);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* Buffer (n) { data }. */
void aml_buffer(struct aml *a, const uint8_t *data, size_t n);
void aml_scope(struct aml *a, const char *path);	/* opens */
void aml_device(struct aml *a, const char *path);	/* opens */
void aml_package(struct aml *a, uint8_t nelems);	/* opens */
void aml_close(struct aml *a);

/* Resource descriptors for a _CRS buffer (ACPI 6.5 section 6.4), each
 * written at out; return their size.  aml_res_end finishes the template. */
size_t aml_res_io(uint8_t *out, uint16_t port, uint8_t len);
size_t aml_res_mem32(uint8_t *out, uint32_t base, uint32_t len);
size_t aml_res_irq(uint8_t *out, uint32_t gsi);	/* edge, high, exclusive */
size_t aml_res_end(uint8_t *out);

#endif
