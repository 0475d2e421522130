/* The x86-64 register file in gdb's layout (regs.h). */
#include "regs.h"

#include <stdio.h>
#include <string.h>

enum feature { CORE, SSE, SEGMENTS, SYS };

/* gdb's order for the core and SSE features (its amd64 register
 * numbers), then picovm's additions. */
static const struct reg {
	const char *name;
	unsigned bits;
	const char *type;
	enum feature feature;
} regs[GDB_NREGS] = {
	{ "rax", 64, "int64", CORE }, { "rbx", 64, "int64", CORE },
	{ "rcx", 64, "int64", CORE }, { "rdx", 64, "int64", CORE },
	{ "rsi", 64, "int64", CORE }, { "rdi", 64, "int64", CORE },
	{ "rbp", 64, "data_ptr", CORE }, { "rsp", 64, "data_ptr", CORE },
	{ "r8", 64, "int64", CORE }, { "r9", 64, "int64", CORE },
	{ "r10", 64, "int64", CORE }, { "r11", 64, "int64", CORE },
	{ "r12", 64, "int64", CORE }, { "r13", 64, "int64", CORE },
	{ "r14", 64, "int64", CORE }, { "r15", 64, "int64", CORE },
	{ "rip", 64, "code_ptr", CORE }, { "eflags", 32, "int32", CORE },
	{ "cs", 32, "int32", CORE }, { "ss", 32, "int32", CORE },
	{ "ds", 32, "int32", CORE }, { "es", 32, "int32", CORE },
	{ "fs", 32, "int32", CORE }, { "gs", 32, "int32", CORE },
	{ "st0", 80, "i387_ext", CORE }, { "st1", 80, "i387_ext", CORE },
	{ "st2", 80, "i387_ext", CORE }, { "st3", 80, "i387_ext", CORE },
	{ "st4", 80, "i387_ext", CORE }, { "st5", 80, "i387_ext", CORE },
	{ "st6", 80, "i387_ext", CORE }, { "st7", 80, "i387_ext", CORE },
	{ "fctrl", 32, "int", CORE }, { "fstat", 32, "int", CORE },
	{ "ftag", 32, "int", CORE }, { "fiseg", 32, "int", CORE },
	{ "fioff", 32, "int", CORE }, { "foseg", 32, "int", CORE },
	{ "fooff", 32, "int", CORE }, { "fop", 32, "int", CORE },
	{ "xmm0", 128, "vec128", SSE }, { "xmm1", 128, "vec128", SSE },
	{ "xmm2", 128, "vec128", SSE }, { "xmm3", 128, "vec128", SSE },
	{ "xmm4", 128, "vec128", SSE }, { "xmm5", 128, "vec128", SSE },
	{ "xmm6", 128, "vec128", SSE }, { "xmm7", 128, "vec128", SSE },
	{ "xmm8", 128, "vec128", SSE }, { "xmm9", 128, "vec128", SSE },
	{ "xmm10", 128, "vec128", SSE }, { "xmm11", 128, "vec128", SSE },
	{ "xmm12", 128, "vec128", SSE }, { "xmm13", 128, "vec128", SSE },
	{ "xmm14", 128, "vec128", SSE }, { "xmm15", 128, "vec128", SSE },
	{ "mxcsr", 32, "int", SSE },
	{ "fs_base", 64, "int64", SEGMENTS }, { "gs_base", 64, "int64", SEGMENTS },
	{ "cr0", 64, "int64", SYS }, { "cr2", 64, "int64", SYS },
	{ "cr3", 64, "int64", SYS }, { "cr4", 64, "int64", SYS },
	{ "cr8", 64, "int64", SYS }, { "efer", 64, "int64", SYS },
};

enum {
	R_RIP = 16, R_EFLAGS, R_CS, R_SS, R_DS, R_ES, R_FS, R_GS, R_ST0,
	R_FCTRL = 32, R_FSTAT, R_FTAG, R_FISEG, R_FIOFF, R_FOSEG, R_FOOFF, R_FOP,
	R_XMM0, R_MXCSR = 56, R_FS_BASE, R_GS_BASE, R_CR0, R_CR2, R_CR3, R_CR4,
	R_CR8, R_EFER,
};
_Static_assert(R_EFER == GDB_NREGS - 1, "register table and enum disagree");

size_t gdb_reg_size(unsigned n)
{
	return n < GDB_NREGS ? regs[n].bits / 8 : 0;
}

/* The kvm_regs general registers in gdb's order. */
static __u64 *gpr(struct kvm_regs *r, unsigned n)
{
	__u64 *const p[16] = {
		&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rbp,
		&r->rsp, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
		&r->r14, &r->r15,
	};
	return p[n];
}

static struct kvm_segment *seg(struct kvm_sregs *s, unsigned n)
{
	struct kvm_segment *const p[6] = { &s->cs, &s->ss, &s->ds, &s->es,
					   &s->fs, &s->gs };
	return p[n - R_CS];
}

static __u64 *sysreg(struct kvm_sregs *s, unsigned n)
{
	__u64 *const p[8] = { &s->fs.base, &s->gs.base, &s->cr0, &s->cr2,
			      &s->cr3, &s->cr4, &s->cr8, &s->efer };
	return p[n - R_FS_BASE];
}

/* The full x87 tag word from FXSAVE's abridged one: 11 (empty) where
 * the abridged bit is clear, 00 (valid) where it is set. */
static uint32_t tag_full(uint8_t ftwx)
{
	uint32_t t = 0;

	for (unsigned i = 0; i < 8; i++)
		if (!(ftwx >> i & 1))
			t |= 3u << (2 * i);
	return t;
}

static uint8_t tag_abridged(uint32_t t)
{
	uint8_t a = 0;

	for (unsigned i = 0; i < 8; i++)
		if ((t >> (2 * i) & 3) != 3)
			a |= (uint8_t)(1u << i);
	return a;
}

static void put(uint8_t *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *in, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)in[i] << (8 * i);
	return v;
}

/* The scalar value of register n (not st, xmm), as a u64. */
static uint64_t scalar(const struct gdb_cpu *cpu, unsigned n)
{
	/* The accessors take non-const structs; nothing is written. */
	struct gdb_cpu *c = (struct gdb_cpu *)(uintptr_t)cpu;
	const struct kvm_fpu *f = &cpu->fpu;

	if (n < 16)
		return *gpr(&c->regs, n);
	if (n >= R_FS_BASE)
		return *sysreg(&c->sregs, n);
	switch (n) {
	case R_RIP: return cpu->regs.rip;
	case R_EFLAGS: return cpu->regs.rflags;
	case R_FCTRL: return f->fcw;
	case R_FSTAT: return f->fsw;
	case R_FTAG: return tag_full(f->ftwx);
	case R_FIOFF: return f->last_ip & 0xffffffff;
	case R_FOOFF: return f->last_dp & 0xffffffff;
	case R_FOP: return f->last_opcode;
	case R_MXCSR: return f->mxcsr;
	case R_FISEG: case R_FOSEG: return 0;	/* not in kvm_fpu */
	default: return seg(&c->sregs, n)->selector;
	}
}

void gdb_reg_get(const struct gdb_cpu *cpu, unsigned n, uint8_t *out)
{
	size_t size = gdb_reg_size(n);

	if (n >= R_ST0 && n < R_ST0 + 8)
		memcpy(out, cpu->fpu.fpr[n - R_ST0], size);
	else if (n >= R_XMM0 && n < R_XMM0 + 16)
		memcpy(out, cpu->fpu.xmm[n - R_XMM0], size);
	else if (size)
		put(out, scalar(cpu, n), size);
}

void gdb_reg_set(struct gdb_cpu *cpu, unsigned n, const uint8_t *in)
{
	size_t size = gdb_reg_size(n);
	uint64_t v = get(in, size <= 8 ? size : 0);
	struct kvm_fpu *f = &cpu->fpu;

	if (!size)
		return;
	if (n < 16) {
		*gpr(&cpu->regs, n) = v;
	} else if (n >= R_ST0 && n < R_ST0 + 8) {
		memcpy(f->fpr[n - R_ST0], in, size);
	} else if (n >= R_XMM0 && n < R_XMM0 + 16) {
		memcpy(f->xmm[n - R_XMM0], in, size);
	} else if (n >= R_FS_BASE) {
		*sysreg(&cpu->sregs, n) = v;
	} else if (n >= R_CS && n <= R_GS) {
		seg(&cpu->sregs, n)->selector = (__u16)v;
	} else {
		switch (n) {
		case R_RIP: cpu->regs.rip = v; break;
		case R_EFLAGS: cpu->regs.rflags = v; break;
		case R_FCTRL: f->fcw = (__u16)v; break;
		case R_FSTAT: f->fsw = (__u16)v; break;
		case R_FTAG: f->ftwx = tag_abridged((uint32_t)v); break;
		case R_FIOFF: f->last_ip = (f->last_ip & ~0xffffffffull) | v; break;
		case R_FOOFF: f->last_dp = (f->last_dp & ~0xffffffffull) | v; break;
		case R_FOP: f->last_opcode = (__u16)v; break;
		case R_MXCSR: f->mxcsr = (__u32)v; break;
		default: break;	/* fiseg, foseg: not in kvm_fpu */
		}
	}
}

void gdb_regs_get(const struct gdb_cpu *cpu, uint8_t *out)
{
	for (unsigned n = 0; n < GDB_NREGS; n++) {
		gdb_reg_get(cpu, n, out);
		out += gdb_reg_size(n);
	}
}

void gdb_regs_set(struct gdb_cpu *cpu, const uint8_t *in)
{
	for (unsigned n = 0; n < GDB_NREGS; n++) {
		gdb_reg_set(cpu, n, in);
		in += gdb_reg_size(n);
	}
}

static const char *const feature_names[] = {
	[CORE] = "org.gnu.gdb.i386.core", [SSE] = "org.gnu.gdb.i386.sse",
	[SEGMENTS] = "org.gnu.gdb.i386.segments", [SYS] = "org.picovm.x86.sys",
};

/* The vector type of the xmm registers, as gdb's own descriptions
 * define it. */
static const char vec128[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>";

const char *gdb_target_xml(void)
{
	static char xml[12288];
	size_t n = 0;

	if (xml[0])
		return xml;
	n += (size_t)snprintf(xml + n, sizeof(xml) - n,
		"<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		"<target version=\"1.0\"><architecture>i386:x86-64</architecture>");
	for (unsigned f = CORE; f <= SYS; f++) {
		n += (size_t)snprintf(xml + n, sizeof(xml) - n,
				      "<feature name=\"%s\">%s", feature_names[f],
				      f == SSE ? vec128 : "");
		for (unsigned r = 0; r < GDB_NREGS; r++)
			if (regs[r].feature == f)
				n += (size_t)snprintf(xml + n, sizeof(xml) - n,
					"<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" "
					"regnum=\"%u\"/>", regs[r].name,
					regs[r].bits, regs[r].type, r);
		n += (size_t)snprintf(xml + n, sizeof(xml) - n, "</feature>");
	}
	snprintf(xml + n, sizeof(xml) - n, "</target>");
	return xml;
}
