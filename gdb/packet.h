/*
 * The gdb remote protocol, bytes only: framing ($data#cs, acks, the 0x03
 * interrupt), hex, and the parse of one packet into a command value.  No
 * KVM, no sockets, no vCPUs: the peer is input like any other, so this
 * part is unit-tested (tests/unit/test_gdb_packet.c) and fuzzed
 * (tests/fuzz/fuzz_gdb.c) on its own.  gdb/stub.c carries the commands out.
 *
 * Every length is bounded: a packet longer than GDB_PKT_MAX is dropped
 * (answered '-'), numbers longer than 16 hex digits are refused, and a
 * parsed memory length is capped at what one reply can carry.
 */
#ifndef PICOVM_GDB_PACKET_H
#define PICOVM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_PKT_MAX 4096	/* payload bytes, either way (PacketSize) */
#define GDB_MEM_MAX (GDB_PKT_MAX / 2)	/* bytes one m/M moves at most */

/* The receiving side of the framing: feed bytes one at a time. */
struct gdb_rx {
	enum { RX_IDLE, RX_DATA, RX_ESC, RX_CSUM1, RX_CSUM2 } state;
	bool overflow;
	uint8_t sum, want;
	size_t len;
	char buf[GDB_PKT_MAX + 1];	/* NUL-terminated when complete */
};

enum gdb_rx_event {
	GDB_RX_NONE,		/* nothing complete yet (or an ack) */
	GDB_RX_PACKET,		/* rx->buf[0, rx->len) is a good packet: ack '+' */
	GDB_RX_BAD,		/* bad checksum or too long: answer '-' */
	GDB_RX_INTERRUPT,	/* 0x03 outside a packet: stop the VM */
};

void gdb_rx_init(struct gdb_rx *rx);
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t c);

/* Frames payload[0, len) as $payload#cs into out (cap bytes, at least
 * len + 4); characters that must be escaped ($ # } *) are.  Returns the
 * framed length, or 0 when it does not fit. */
size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len);

/* Hex: n bytes of in as 2n lower-case digits (out has room for 2n). */
void gdb_hex_encode(char *out, const uint8_t *in, size_t n);
/* 2n hex digits of in to n bytes; -1 on a non-hex digit. */
int gdb_hex_decode(uint8_t *out, const char *in, size_t n);

/* Watchpoint and breakpoint kinds, as Z/z number them. */
enum gdb_bp_type {
	GDB_BP_SW = 0, GDB_BP_HW = 1, GDB_WP_WRITE = 2, GDB_WP_READ = 3,
	GDB_WP_ACCESS = 4,
};

enum gdb_cmd_kind {
	GDB_CMD_UNKNOWN,	/* answered with the empty packet */
	GDB_CMD_BAD,		/* malformed: answered E01 */
	GDB_CMD_HALT_REASON,	/* ? */
	GDB_CMD_READ_REGS,	/* g */
	GDB_CMD_WRITE_REGS,	/* G data */
	GDB_CMD_READ_REG,	/* p n */
	GDB_CMD_WRITE_REG,	/* P n=data */
	GDB_CMD_READ_MEM,	/* m addr,len */
	GDB_CMD_WRITE_MEM,	/* M addr,len:data */
	GDB_CMD_CONT,		/* c [addr], C sig[;addr] */
	GDB_CMD_STEP,		/* s [addr], S sig[;addr] */
	GDB_CMD_VCONT,		/* vCont;action[:tid]... */
	GDB_CMD_VCONT_QUERY,	/* vCont? */
	GDB_CMD_BP_INSERT,	/* Z type,addr,kind */
	GDB_CMD_BP_REMOVE,	/* z type,addr,kind */
	GDB_CMD_SET_THREAD,	/* H op tid */
	GDB_CMD_THREAD_ALIVE,	/* T tid */
	GDB_CMD_SUPPORTED,	/* qSupported */
	GDB_CMD_XFER_FEATURES,	/* qXfer:features:read:annex:off,len */
	GDB_CMD_THREAD_FIRST,	/* qfThreadInfo */
	GDB_CMD_THREAD_NEXT,	/* qsThreadInfo */
	GDB_CMD_THREAD_EXTRA,	/* qThreadExtraInfo,tid */
	GDB_CMD_CURRENT_THREAD,	/* qC */
	GDB_CMD_ATTACHED,	/* qAttached */
	GDB_CMD_NO_ACK,		/* QStartNoAckMode */
	GDB_CMD_KILL,		/* k, vKill */
	GDB_CMD_DETACH,		/* D */
};

/* A thread id: 0 any, -1 all, else vCPU tid - 1. */
#define GDB_TID_ANY 0
#define GDB_TID_ALL (-1)

struct gdb_cmd {
	enum gdb_cmd_kind kind;
	uint64_t addr, len;	/* m M Z z qXfer (offset, length) */
	unsigned reg;		/* p P */
	int type;		/* Z z: enum gdb_bp_type; H: 'g' or 'c' */
	long tid;		/* H T qThreadExtraInfo; vCont's step thread */
	bool has_addr;		/* c s with an address */
	bool vcont_step;	/* vCont: one thread steps (tid), others stay */
	const char *data;	/* G P M: the hex after the header */
	size_t datalen;
	char annex[32];		/* qXfer: the annex (target.xml) */
};

/* Parses pkt[0, len) (one payload, unescaped).  Never reads outside it. */
void gdb_parse(const char *pkt, size_t len, struct gdb_cmd *cmd);

#endif
