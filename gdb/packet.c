/* The gdb remote protocol's bytes: framing, hex, commands (packet.h). */
#include "packet.h"

#include <string.h>

void gdb_rx_init(struct gdb_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void rx_put(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len < GDB_PKT_MAX)
		rx->buf[rx->len++] = (char)c;
	else
		rx->overflow = true;
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t c)
{
	int v;

	switch (rx->state) {
	case RX_IDLE:
		if (c == 0x03)
			return GDB_RX_INTERRUPT;
		if (c == '$') {
			rx->state = RX_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
		}
		/* '+', '-' and noise between packets are ignored. */
		return GDB_RX_NONE;
	case RX_DATA:
	case RX_ESC:
		if (c == '$') {		/* a new start: the old one is lost */
			rx->state = RX_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_NONE;
		}
		if (c == '#' && rx->state == RX_DATA) {
			rx->state = RX_CSUM1;
			return GDB_RX_NONE;
		}
		rx->sum = (uint8_t)(rx->sum + c);
		if (rx->state == RX_ESC) {
			rx->state = RX_DATA;
			rx_put(rx, c ^ 0x20);
		} else if (c == '}') {
			rx->state = RX_ESC;
		} else {
			rx_put(rx, c);
		}
		return GDB_RX_NONE;
	case RX_CSUM1:
		v = hexval(c);
		rx->want = (uint8_t)((v < 0 ? 0 : v) << 4);
		rx->state = v < 0 ? RX_IDLE : RX_CSUM2;
		return v < 0 ? GDB_RX_BAD : GDB_RX_NONE;
	case RX_CSUM2:
		v = hexval(c);
		rx->state = RX_IDLE;
		if (v < 0 || (uint8_t)(rx->want | v) != rx->sum || rx->overflow)
			return GDB_RX_BAD;
		rx->buf[rx->len] = '\0';
		return GDB_RX_PACKET;
	}
	rx->state = RX_IDLE;
	return GDB_RX_NONE;
}

size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	uint8_t sum = 0;

	if (cap < 4)
		return 0;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)payload[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';
		if (n + (esc ? 2 : 1) + 3 > cap)
			return 0;
		if (esc) {
			out[n++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[n++] = (char)c;
		sum = (uint8_t)(sum + c);
	}
	out[n++] = '#';
	out[n++] = hex[sum >> 4];
	out[n++] = hex[sum & 15];
	return n;
}

void gdb_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
}

int gdb_hex_decode(uint8_t *out, const char *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((uint8_t)in[2 * i]), lo = hexval((uint8_t)in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A cursor over one packet: every read is bounded by end. */
struct cur {
	const char *p, *end;
};

static bool at_end(const struct cur *c)
{
	return c->p >= c->end;
}

static bool eat(struct cur *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

static bool eat_str(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* 1..16 hex digits. */
static bool hex_u64(struct cur *c, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;
	int d;

	while (!at_end(c) && (d = hexval((uint8_t)*c->p)) >= 0) {
		if (++n > 16)
			return false;
		v = v << 4 | (uint64_t)d;
		c->p++;
	}
	*out = v;
	return n > 0;
}

/* A thread id: hex, or -1. */
static bool thread_id(struct cur *c, long *tid)
{
	uint64_t v;

	if (eat_str(c, "-1")) {
		*tid = GDB_TID_ALL;
		return true;
	}
	if (!hex_u64(c, &v) || v > 0x7fffffff)
		return false;
	*tid = (long)v;
	return true;
}

/* addr,len */
static bool addr_len(struct cur *c, struct gdb_cmd *cmd)
{
	return hex_u64(c, &cmd->addr) && eat(c, ',') && hex_u64(c, &cmd->len);
}

static void rest(struct cur *c, struct gdb_cmd *cmd)
{
	cmd->data = c->p;
	cmd->datalen = (size_t)(c->end - c->p);
}

/* c [addr] / s [addr] / C sig[;addr] / S sig[;addr] */
static enum gdb_cmd_kind resume(struct cur *c, struct gdb_cmd *cmd, bool sig,
				enum gdb_cmd_kind kind)
{
	uint64_t v;

	if (sig && (!hex_u64(c, &v) || (!at_end(c) && !eat(c, ';'))))
		return GDB_CMD_BAD;
	if (!at_end(c)) {
		if (!hex_u64(c, &cmd->addr))
			return GDB_CMD_BAD;
		cmd->has_addr = true;
	}
	return at_end(c) ? kind : GDB_CMD_BAD;
}

/* vCont;ACTION[:TID];...  Supported: c C s S.  One thread at most steps;
 * the others continue only when no thread steps (all-stop, as QEMU). */
static enum gdb_cmd_kind vcont(struct cur *c, struct gdb_cmd *cmd)
{
	if (eat(c, '?'))
		return at_end(c) ? GDB_CMD_VCONT_QUERY : GDB_CMD_BAD;
	if (at_end(c))
		return GDB_CMD_BAD;
	while (!at_end(c)) {
		uint64_t sig;
		long tid = GDB_TID_ALL;
		if (!eat(c, ';') || at_end(c))
			return GDB_CMD_BAD;
		char a = *c->p++;
		if (a != 'c' && a != 'C' && a != 's' && a != 'S')
			return GDB_CMD_BAD;
		if ((a == 'C' || a == 'S') && !hex_u64(c, &sig))
			return GDB_CMD_BAD;
		if (eat(c, ':') && !thread_id(c, &tid))
			return GDB_CMD_BAD;
		if ((a == 's' || a == 'S') && !cmd->vcont_step) {
			cmd->vcont_step = true;
			cmd->tid = tid == GDB_TID_ALL ? GDB_TID_ANY : tid;
		}
	}
	return GDB_CMD_VCONT;
}

static enum gdb_cmd_kind query(struct cur *c, struct gdb_cmd *cmd)
{
	if (eat_str(c, "Supported"))
		return GDB_CMD_SUPPORTED;
	if (eat_str(c, "fThreadInfo"))
		return at_end(c) ? GDB_CMD_THREAD_FIRST : GDB_CMD_BAD;
	if (eat_str(c, "sThreadInfo"))
		return at_end(c) ? GDB_CMD_THREAD_NEXT : GDB_CMD_BAD;
	if (eat_str(c, "ThreadExtraInfo,"))
		return thread_id(c, &cmd->tid) && at_end(c) ?
		       GDB_CMD_THREAD_EXTRA : GDB_CMD_BAD;
	if (eat_str(c, "Attached"))
		return GDB_CMD_ATTACHED;
	if (eat_str(c, "Xfer:features:read:")) {
		size_t n = 0;
		while (!at_end(c) && *c->p != ':') {
			if (n + 1 >= sizeof(cmd->annex))
				return GDB_CMD_BAD;
			cmd->annex[n++] = *c->p++;
		}
		cmd->annex[n] = '\0';
		return eat(c, ':') && addr_len(c, cmd) && at_end(c) ?
		       GDB_CMD_XFER_FEATURES : GDB_CMD_BAD;
	}
	if (eat(c, 'C'))
		return at_end(c) ? GDB_CMD_CURRENT_THREAD : GDB_CMD_UNKNOWN;
	return GDB_CMD_UNKNOWN;
}

static enum gdb_cmd_kind parse(struct cur *c, struct gdb_cmd *cmd)
{
	uint64_t v;

	if (at_end(c))
		return GDB_CMD_UNKNOWN;
	switch (*c->p++) {
	case '?':
		return at_end(c) ? GDB_CMD_HALT_REASON : GDB_CMD_BAD;
	case 'g':
		return at_end(c) ? GDB_CMD_READ_REGS : GDB_CMD_BAD;
	case 'G':
		rest(c, cmd);
		return GDB_CMD_WRITE_REGS;
	case 'p':
		if (!hex_u64(c, &v) || !at_end(c) || v > 0xffff)
			return GDB_CMD_BAD;
		cmd->reg = (unsigned)v;
		return GDB_CMD_READ_REG;
	case 'P':
		if (!hex_u64(c, &v) || v > 0xffff || !eat(c, '='))
			return GDB_CMD_BAD;
		cmd->reg = (unsigned)v;
		rest(c, cmd);
		return GDB_CMD_WRITE_REG;
	case 'm':
		return addr_len(c, cmd) && at_end(c) ? GDB_CMD_READ_MEM : GDB_CMD_BAD;
	case 'M':
		if (!addr_len(c, cmd) || !eat(c, ':'))
			return GDB_CMD_BAD;
		rest(c, cmd);
		/* The data must be exactly len bytes of hex. */
		return cmd->len <= GDB_MEM_MAX && cmd->datalen == 2 * cmd->len ?
		       GDB_CMD_WRITE_MEM : GDB_CMD_BAD;
	case 'c':
		return resume(c, cmd, false, GDB_CMD_CONT);
	case 'C':
		return resume(c, cmd, true, GDB_CMD_CONT);
	case 's':
		return resume(c, cmd, false, GDB_CMD_STEP);
	case 'S':
		return resume(c, cmd, true, GDB_CMD_STEP);
	case 'v':
		if (eat_str(c, "Cont"))
			return vcont(c, cmd);
		if (eat_str(c, "Kill"))
			return GDB_CMD_KILL;
		return GDB_CMD_UNKNOWN;
	case 'Z':
	case 'z': {
		bool insert = c->p[-1] == 'Z';
		uint64_t kind;
		if (!hex_u64(c, &v) || v > GDB_WP_ACCESS || !eat(c, ',') ||
		    !hex_u64(c, &cmd->addr) || !eat(c, ',') || !hex_u64(c, &kind))
			return GDB_CMD_BAD;
		/* Conditions and commands (;X...) are not supported. */
		if (!at_end(c))
			return GDB_CMD_UNKNOWN;
		cmd->type = (int)v;
		cmd->len = kind;
		return insert ? GDB_CMD_BP_INSERT : GDB_CMD_BP_REMOVE;
	}
	case 'H':
		if (at_end(c) || (*c->p != 'g' && *c->p != 'c'))
			return GDB_CMD_BAD;
		cmd->type = *c->p++;
		return thread_id(c, &cmd->tid) && at_end(c) ? GDB_CMD_SET_THREAD :
		       GDB_CMD_BAD;
	case 'T':
		return thread_id(c, &cmd->tid) && at_end(c) ? GDB_CMD_THREAD_ALIVE :
		       GDB_CMD_BAD;
	case 'q':
		return query(c, cmd);
	case 'Q':
		return eat_str(c, "StartNoAckMode") && at_end(c) ? GDB_CMD_NO_ACK :
		       GDB_CMD_UNKNOWN;
	case 'k':
		return GDB_CMD_KILL;
	case 'D':
		return GDB_CMD_DETACH;	/* D or D;pid: there is one process */
	default:
		return GDB_CMD_UNKNOWN;
	}
}

void gdb_parse(const char *pkt, size_t len, struct gdb_cmd *cmd)
{
	struct cur c = { pkt, pkt + len };

	memset(cmd, 0, sizeof(*cmd));
	cmd->kind = parse(&c, cmd);
}
