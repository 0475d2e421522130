/*
 * The Intel MultiProcessor Specification 1.4 tables, read-only.
 *
 * Floating pointer: "_MP_", physptr u32 @4, length (16-byte units) @8,
 * checksum over length*16 bytes, feature byte 1 @11 (non-zero: a default
 * configuration without a table).  Configuration table: "PCMP", base
 * length u16 @4, checksum over the base table, entry count u16 @34, LAPIC
 * address u32 @36, extended length u16 @40, extended checksum @42,
 * entries from @44 to the base length.  The entry count is not used, as
 * in Linux: some tables (qboot's) leave it 0.  Processor entry (type 0, 20 bytes): APIC id @1,
 * flags @3 (bit 0 enabled, bit 1 boot processor); the other base entry
 * types are 8 bytes.
 */
#include <stdint.h>

#include "rt.h"
#include "smp.h"

#define BDA_EBDA_SEG	0x40e
#define MPC_ENTRIES	44

static uint8_t sum(uint64_t addr, uint64_t len)
{
	const uint8_t *p = (const uint8_t *)addr;
	uint8_t s = 0;

	for (uint64_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static uint16_t ld16(uint64_t addr)
{
	uint16_t v;
	memcpy(&v, (const void *)addr, sizeof(v));
	return v;
}

static uint32_t ld32(uint64_t addr)
{
	uint32_t v;
	memcpy(&v, (const void *)addr, sizeof(v));
	return v;
}

static uint64_t scan(uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a + 16 <= start + len; a += 16) {
		uint8_t units;

		if (memcmp((const void *)a, "_MP_", 4))
			continue;
		units = *(const uint8_t *)(a + 8);
		if (units == 0 || units > 4)
			continue;
		if (sum(a, units * 16u) == 0)
			return a;
	}
	return 0;
}

static int parse_table(struct mp_info *mi, const char **why)
{
	uint64_t t = mi->table, e, end;
	uint16_t len, ext_len;

	if (t == 0 || t >= (4ULL << 30) - 0x10000) {
		*why = "MP configuration table address out of range";
		return -1;
	}
	if (memcmp((const void *)t, "PCMP", 4)) {
		*why = "MP configuration table signature is not PCMP";
		return -1;
	}
	len = ld16(t + 4);
	if (len < MPC_ENTRIES || sum(t, len) != 0) {
		*why = "MP configuration table checksum";
		return -1;
	}
	ext_len = ld16(t + 40);
	if (ext_len && (uint8_t)(sum(t + len, ext_len) +
				 *(const uint8_t *)(t + 42)) != 0) {
		*why = "MP extended table checksum";
		return -1;
	}
	mi->lapic = ld32(t + 36);
	e = t + MPC_ENTRIES;
	end = t + len;
	while (e < end) {
		uint8_t type = *(const uint8_t *)e;

		if (type == 0) {
			if (e + 20 > end) {
				*why = "MP processor entry overruns the table";
				return -1;
			}
			if (mi->ncpus < MAX_CPUS) {
				uint8_t flags = *(const uint8_t *)(e + 3);
				struct mp_cpu *c = &mi->cpu[mi->ncpus++];

				c->apic_id = *(const uint8_t *)(e + 1);
				c->enabled = flags & 1;
				c->bsp = flags & 2;
			}
			e += 20;
		} else if (type <= 4) {
			if (e + 8 > end) {
				*why = "MP entry overruns the table";
				return -1;
			}
			e += 8;
		} else {
			*why = "unknown MP table entry type";
			return -1;
		}
	}
	return 0;
}

int mptable_find(struct mp_info *mi, const char **why)
{
	uint64_t ebda = (uint64_t)ld16(BDA_EBDA_SEG) << 4;
	uint64_t fps;

	memset(mi, 0, sizeof(*mi));
	fps = scan(0x9fc00, 0x400);
	if (!fps && ebda && ebda < 0xa0000)
		fps = scan(ebda, 0x400);
	if (!fps)
		fps = scan(0xf0000, 0x10000);
	if (!fps) {
		*why = "no MP floating pointer";
		return -1;
	}
	mi->fps = fps;
	if (*(const uint8_t *)(fps + 11) != 0) {
		*why = "MP default configuration (no table) is not supported";
		return -1;
	}
	mi->table = ld32(fps + 4);
	return parse_table(mi, why);
}
