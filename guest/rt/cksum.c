/*
 * POSIX cksum: the CRC `cksum` prints.  CRC-32 with polynomial
 * 0x04c11db7, not reflected, initial value 0; after the data the length
 * is fed in LSB first, as few bytes as it takes; the result is inverted.
 */
#include <stdint.h>

#include "rt.h"

static uint32_t table[256];
static int table_ready;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;

		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? c << 1 ^ 0x04c11db7u : c << 1;
		table[i] = c;
	}
	table_ready = 1;
}

static uint32_t step(uint32_t crc, uint8_t b)
{
	return crc << 8 ^ table[(crc >> 24 ^ b) & 0xff];
}

void cksum_init(struct cksum *c)
{
	if (!table_ready)
		make_table();
	c->crc = 0;
	c->len = 0;
}

void cksum_update(struct cksum *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t crc = c->crc;

	for (size_t i = 0; i < n; i++)
		crc = step(crc, p[i]);
	c->crc = crc;
	c->len += n;
}

uint32_t cksum_final(const struct cksum *c)
{
	uint32_t crc = c->crc;

	for (uint64_t n = c->len; n; n >>= 8)
		crc = step(crc, (uint8_t)n);
	return ~crc;
}

uint32_t cksum(const void *buf, size_t n)
{
	struct cksum c;

	cksum_init(&c);
	cksum_update(&c, buf, n);
	return cksum_final(&c);
}
