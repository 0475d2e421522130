/*
 * libFuzzer target: the gdb stub's pure parts, as a hostile peer or guest
 * drives them.  The input's bytes go through the framing (gdb/packet.c)
 * as a peer would send them; every complete packet is parsed, its data
 * decoded the way stub.c does (bounded by what the parse said), framed
 * again and read back (the same payload).  The last 8 bytes of the input
 * also pick page-table registers for a walk (gdb/walk.c) over a small
 * guest RAM filled with the input, starting at the first 8 bytes taken as
 * an address: the walk must end without reading outside RAM (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gdb/packet.h"
#include "../../gdb/regs.h"
#include "../../gdb/walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void packet(const char *p, size_t n)
{
	static char framed[2 * GDB_PKT_MAX + 8];
	static struct gdb_rx back;
	struct gdb_cmd c;
	uint8_t bytes[GDB_REGS_BYTES > GDB_MEM_MAX ? GDB_REGS_BYTES : GDB_MEM_MAX];

	gdb_parse(p, n, &c);
	if (c.kind == GDB_CMD_WRITE_MEM) {
		if (c.datalen != 2 * c.len || c.len > GDB_MEM_MAX)
			abort();
		(void)gdb_hex_decode(bytes, c.data, c.len);
	}
	if (c.kind == GDB_CMD_WRITE_REGS && c.datalen == 2 * GDB_REGS_BYTES) {
		struct gdb_cpu cpu;
		memset(&cpu, 0, sizeof(cpu));
		if (gdb_hex_decode(bytes, c.data, GDB_REGS_BYTES) == 0)
			gdb_regs_set(&cpu, bytes);
	}
	if (c.kind == GDB_CMD_WRITE_REG && gdb_reg_size(c.reg) &&
	    c.datalen == 2 * gdb_reg_size(c.reg)) {
		struct gdb_cpu cpu;
		memset(&cpu, 0, sizeof(cpu));
		if (gdb_hex_decode(bytes, c.data, gdb_reg_size(c.reg)) == 0)
			gdb_reg_set(&cpu, c.reg, bytes);
	}
	size_t f = gdb_frame(framed, sizeof(framed), p, n);
	if (!f)
		abort();	/* any packet rx accepts fits framed */
	gdb_rx_init(&back);
	enum gdb_rx_event e = GDB_RX_NONE;
	for (size_t i = 0; i < f; i++)
		e = gdb_rx_feed(&back, (uint8_t)framed[i]);
	if (e != GDB_RX_PACKET || back.len != n || memcmp(back.buf, p, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gdb_rx rx;
	static struct guest_mem m;

	gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++)
		if (gdb_rx_feed(&rx, data[i]) == GDB_RX_PACKET)
			packet(rx.buf, rx.len);
	if (!m.host && gmem_init(&m, 1 << 20, false) < 0)
		abort();
	memset(m.host, 0, m.size);
	memcpy(m.host, data, size < m.size ? size : m.size);
	if (size >= 8) {
		const uint8_t *t = data + size - 8;
		struct gdb_paging p = {
			.cr0 = t[0] & 1 ? 0x80000001u : 1,
			.cr3 = (uint64_t)t[1] << 12 | (uint64_t)(t[2] & 0xf) << 20,
			.cr4 = (t[3] & 1 ? 0x20u : 0) | (t[3] & 2 ? 0x10u : 0) |
			       (t[3] & 4 ? 0x1000u : 0),
			.efer = t[3] & 8 ? 0x500u : 0,
		};
		uint64_t va, gpa, span;
		memcpy(&va, data, 8);
		if (gdb_translate(&m, &p, va, &gpa, &span) == 0 && span == 0)
			abort();	/* a mapped address has a page */
	}
	return 0;
}
