/*
 * Unit tests of the gdb stub's pure parts, no KVM: the framing and the
 * packet parser (gdb/packet.c), the register layout (gdb/regs.c) and the
 * guest page-table walk (gdb/walk.c) over a guest RAM built here.
 *
 * Prints "ok    NAME" or "FAIL  NAME: why" per check; exits 1 if any
 * failed.  tests/t-unit.sh turns the lines into test results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../gdb/packet.h"
#include "../../gdb/regs.h"
#include "../../gdb/walk.h"

/* Feeds s (n bytes); returns the last event that was not NONE. */
static enum gdb_rx_event feed(struct gdb_rx *rx, const char *s, size_t n)
{
	enum gdb_rx_event last = GDB_RX_NONE, e;

	for (size_t i = 0; i < n; i++)
		if ((e = gdb_rx_feed(rx, (uint8_t)s[i])) != GDB_RX_NONE)
			last = e;
	return last;
}

static void test_framing(void)
{
	struct gdb_rx rx;
	char out[64];

	gdb_rx_init(&rx);
	check("rx: a good packet", feed(&rx, "+$m10,4#2e", 10) == GDB_RX_PACKET &&
	      rx.len == 5 && memcmp(rx.buf, "m10,4", 5) == 0, "len %zu", rx.len);
	check("rx: a bad checksum is refused",
	      feed(&rx, "$m10,4#00", 9) == GDB_RX_BAD, "not BAD");
	check("rx: a non-hex checksum is refused",
	      feed(&rx, "$g#zz", 5) == GDB_RX_BAD, "not BAD");
	check("rx: 0x03 between packets is an interrupt",
	      gdb_rx_feed(&rx, 0x03) == GDB_RX_INTERRUPT, "not INTERRUPT");
	check("rx: 0x03 inside a packet is data",
	      feed(&rx, "$\x03", 2) == GDB_RX_NONE, "not NONE");
	gdb_rx_init(&rx);
	char *big = malloc(GDB_PKT_MAX + 100);
	memset(big, 'A', GDB_PKT_MAX + 100);
	big[0] = '$';
	feed(&rx, big, GDB_PKT_MAX + 100);
	free(big);
	check("rx: a packet over the maximum is refused, bounded",
	      feed(&rx, "#00", 3) == GDB_RX_BAD && rx.len == GDB_PKT_MAX,
	      "len %zu", rx.len);
	check("rx: a new $ starts over", feed(&rx, "$junk$g#67", 10) == GDB_RX_PACKET &&
	      rx.len == 1 && rx.buf[0] == 'g', "len %zu", rx.len);

	size_t n = gdb_frame(out, sizeof(out), "a$b#c}d*", 8);
	check("frame: $ # } * escaped", n > 0 && memcmp(out, "$a}\x04" "b}\x03" "c}]d}\x0a#", 14) == 0,
	      "got %.*s", (int)n, out);
	gdb_rx_init(&rx);
	check("frame: round trip through rx", feed(&rx, out, n) == GDB_RX_PACKET &&
	      rx.len == 8 && memcmp(rx.buf, "a$b#c}d*", 8) == 0, "len %zu", rx.len);
	check("frame: too small a buffer", gdb_frame(out, 6, "abcdef", 6) == 0,
	      "framed anyway");

	uint8_t b[4];
	check("hex: decode", gdb_hex_decode(b, "0aFf10ee", 4) == 0 && b[0] == 0x0a &&
	      b[1] == 0xff && b[3] == 0xee, "wrong bytes");
	check("hex: a non-hex digit is refused", gdb_hex_decode(b, "0g", 1) < 0,
	      "accepted");
}

static struct gdb_cmd parse(const char *s)
{
	struct gdb_cmd c;

	gdb_parse(s, strlen(s), &c);
	return c;
}

static void test_parse(void)
{
	struct gdb_cmd c;

	c = parse("m1000,40");
	check("parse: m", c.kind == GDB_CMD_READ_MEM && c.addr == 0x1000 &&
	      c.len == 0x40, "kind %d", c.kind);
	check("parse: m with 17 digits", parse("m11111111111111111,1").kind ==
	      GDB_CMD_BAD, "not BAD");
	check("parse: m without a length", parse("m1000").kind == GDB_CMD_BAD,
	      "not BAD");
	check("parse: m with trailing bytes", parse("m10,4x").kind == GDB_CMD_BAD,
	      "not BAD");
	c = parse("M20,2:abcd");
	check("parse: M", c.kind == GDB_CMD_WRITE_MEM && c.len == 2 &&
	      c.datalen == 4, "kind %d", c.kind);
	check("parse: M with less data than its length",
	      parse("M20,3:abcd").kind == GDB_CMD_BAD, "not BAD");
	check("parse: M longer than a reply", parse("M20,ffffffff:").kind ==
	      GDB_CMD_BAD, "not BAD");
	c = parse("p10");
	check("parse: p", c.kind == GDB_CMD_READ_REG && c.reg == 16, "kind %d", c.kind);
	check("parse: p of a huge number", parse("p100000").kind == GDB_CMD_BAD,
	      "not BAD");
	c = parse("P10=0011223344556677");
	check("parse: P", c.kind == GDB_CMD_WRITE_REG && c.datalen == 16, "kind %d",
	      c.kind);
	c = parse("Z2,601000,8");
	check("parse: Z2", c.kind == GDB_CMD_BP_INSERT && c.type == 2 &&
	      c.addr == 0x601000 && c.len == 8, "kind %d", c.kind);
	check("parse: Z of an unknown type", parse("Z5,0,1").kind == GDB_CMD_BAD,
	      "not BAD");
	check("parse: Z with conditions is not supported",
	      parse("Z0,10,1;X2,aa").kind == GDB_CMD_UNKNOWN, "not UNKNOWN");
	c = parse("vCont;s:2;c");
	check("parse: vCont step one thread", c.kind == GDB_CMD_VCONT &&
	      c.vcont_step && c.tid == 2, "kind %d step %d", c.kind, c.vcont_step);
	c = parse("vCont;c");
	check("parse: vCont continue", c.kind == GDB_CMD_VCONT && !c.vcont_step,
	      "kind %d", c.kind);
	check("parse: vCont with an unknown action", parse("vCont;t:1").kind ==
	      GDB_CMD_BAD, "not BAD");
	check("parse: vCont without actions", parse("vCont").kind == GDB_CMD_BAD,
	      "not BAD");
	check("parse: vCont?", parse("vCont?").kind == GDB_CMD_VCONT_QUERY, "no");
	c = parse("Hg-1");
	check("parse: H -1", c.kind == GDB_CMD_SET_THREAD && c.type == 'g' &&
	      c.tid == GDB_TID_ALL, "kind %d", c.kind);
	check("parse: H of another kind", parse("Hx1").kind == GDB_CMD_BAD, "no");
	c = parse("qXfer:features:read:target.xml:10,200");
	check("parse: qXfer", c.kind == GDB_CMD_XFER_FEATURES && c.addr == 0x10 &&
	      c.len == 0x200 && strcmp(c.annex, "target.xml") == 0, "kind %d",
	      c.kind);
	check("parse: qXfer with an over-long annex",
	      parse("qXfer:features:read:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:0,1")
	      .kind == GDB_CMD_BAD, "not BAD");
	check("parse: s with an address", parse("s1000").has_addr, "no address");
	check("parse: C with a signal", parse("C05").kind == GDB_CMD_CONT, "no");
	check("parse: an empty packet", parse("").kind == GDB_CMD_UNKNOWN, "no");
	check("parse: an unknown query", parse("qRcmd,abcd").kind ==
	      GDB_CMD_UNKNOWN, "no");
}

static void test_regs(void)
{
	struct gdb_cpu c, d;
	uint8_t raw[GDB_REGS_BYTES], raw2[GDB_REGS_BYTES];
	size_t total = 0;

	for (unsigned n = 0; n < GDB_NREGS; n++)
		total += gdb_reg_size(n);
	check("regs: sizes add up to the g packet", total == GDB_REGS_BYTES,
	      "%zu", total);
	check("regs: no register past the table", gdb_reg_size(GDB_NREGS) == 0,
	      "size %zu", gdb_reg_size(GDB_NREGS));
	memset(&c, 0, sizeof(c));
	c.regs.rax = 0x1122334455667788ull;
	c.regs.rip = 0xffffffff81000000ull;
	c.regs.rflags = 0x246;
	c.sregs.cs.selector = 0x10;
	c.sregs.cr3 = 0x9000;
	c.fpu.xmm[3][0] = 0xab;
	c.fpu.ftwx = 0x01;
	gdb_regs_get(&c, raw);
	check("regs: rax first, little-endian", raw[0] == 0x88 && raw[7] == 0x11,
	      "%02x %02x", raw[0], raw[7]);
	check("regs: rip at 128", raw[128] == 0 && raw[131] == 0x81 &&
	      raw[135] == 0xff, "%02x", raw[131]);
	check("regs: eflags at 136", raw[136] == 0x46 && raw[137] == 0x02, "%02x",
	      raw[136]);
	memset(&d, 0, sizeof(d));
	gdb_regs_set(&d, raw);
	gdb_regs_get(&d, raw2);
	check("regs: g then G round trip", memcmp(raw, raw2, sizeof(raw)) == 0 &&
	      d.regs.rip == c.regs.rip && d.sregs.cr3 == 0x9000 &&
	      d.fpu.xmm[3][0] == 0xab && d.fpu.ftwx == 0x01, "differs");
	uint8_t one[8] = { 0x34, 0x12 };
	gdb_reg_set(&d, 1, one);
	check("regs: P writes one register", d.regs.rbx == 0x1234 &&
	      d.regs.rax == c.regs.rax, "rbx %llx", (unsigned long long)d.regs.rbx);
	const char *xml = gdb_target_xml();
	check("regs: target.xml names the architecture and every register",
	      strstr(xml, "<architecture>i386:x86-64</architecture>") &&
	      strstr(xml, "name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\"") &&
	      strstr(xml, "regnum=\"64\"") && !strstr(xml, "regnum=\"65\"") &&
	      strstr(xml, "</target>"), "%.80s", xml);
}

/* Guest RAM with long-mode tables: PML4 at 0x1000, PDPT 0x2000, PD 0x3000,
 * PT 0x4000.  VA 0x40201000 -> 0x5000 (4 KiB), VA 0x40400000 -> 2 MiB
 * page at 0x200000, VA 0x40600000: PD entry pointing outside RAM. */
static void put64(struct guest_mem *m, uint64_t gpa, uint64_t v)
{
	memcpy(gmem_ptr(m, gpa, 8), &v, 8);
}

static void test_walk(void)
{
	struct guest_mem m;
	uint64_t gpa, span;

	if (gmem_init(&m, 16 << 20, false) < 0) {
		check("walk: guest RAM", false, "gmem_init failed");
		return;
	}
	put64(&m, 0x1000, 0x2000 | 3);			/* PML4[0] */
	put64(&m, 0x2000 + 1 * 8, 0x3000 | 3);		/* PDPT[1]: 1 GiB */
	put64(&m, 0x3000 + 1 * 8, 0x4000 | 3);		/* PD[1]: 0x40200000 */
	put64(&m, 0x4000 + 1 * 8, 0x5000 | 3);		/* PT[1]: 0x40201000 */
	put64(&m, 0x3000 + 2 * 8, 0x200000 | 0x83);	/* PD[2]: 2 MiB page */
	put64(&m, 0x3000 + 3 * 8, 0x7fff0000000ull | 3);	/* outside RAM */
	struct gdb_paging p = { .cr0 = 0x80000001, .cr3 = 0x1000, .cr4 = 0x20,
				.efer = 0x500 };

	check("walk: 4 KiB page", gdb_translate(&m, &p, 0x40201010, &gpa, &span) == 0 &&
	      gpa == 0x5010 && span == 4096 - 0x10, "gpa %llx span %llx",
	      (unsigned long long)gpa, (unsigned long long)span);
	check("walk: 2 MiB page", gdb_translate(&m, &p, 0x40412345, &gpa, &span) == 0 &&
	      gpa == 0x212345 && span == 0x200000 - 0x12345, "gpa %llx",
	      (unsigned long long)gpa);
	check("walk: not present", gdb_translate(&m, &p, 0x40202000, &gpa, &span) < 0,
	      "mapped");
	check("walk: a table outside RAM", gdb_translate(&m, &p, 0x40600000, &gpa,
							 &span) < 0, "mapped");
	check("walk: not canonical", gdb_translate(&m, &p, 0x0000800000000000ull,
						   &gpa, &span) < 0, "mapped");
	p.cr3 = 0xfffff000;	/* the top table itself outside RAM */
	check("walk: CR3 outside RAM", gdb_translate(&m, &p, 0x1000, &gpa, &span) < 0,
	      "mapped");
	p.cr0 = 1;
	check("walk: paging off is identity", gdb_translate(&m, &p, 0x123456, &gpa,
							    &span) == 0 &&
	      gpa == 0x123456 && span == 0x1000 - 0x456, "gpa %llx",
	      (unsigned long long)gpa);
	/* 32-bit paging: PD at 0x8000, PT at 0x9000; VA 0x00401000 -> 0x6000. */
	uint32_t pde = 0x9000 | 3, pte = 0x6000 | 3;
	memcpy(gmem_ptr(&m, 0x8000 + 1 * 4, 4), &pde, 4);
	memcpy(gmem_ptr(&m, 0x9000 + 1 * 4, 4), &pte, 4);
	p = (struct gdb_paging){ .cr0 = 0x80000001, .cr3 = 0x8000 };
	check("walk: 32-bit paging", gdb_translate(&m, &p, 0x00401004, &gpa, &span) == 0 &&
	      gpa == 0x6004, "gpa %llx", (unsigned long long)gpa);
	gmem_free(&m);
}

int main(void)
{
	test_framing();
	test_parse();
	test_regs();
	test_walk();
	return check_failures ? 1 : 0;
}
