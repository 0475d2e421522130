/*
 * The x86-64 register file as gdb sees it: the numbering and sizes of the
 * target description (target.xml, generated here from one table so the
 * two cannot disagree) and the conversion between KVM's register structs
 * and the g/G/p/P byte layout (little-endian, registers in table order).
 * Pure: no KVM calls (tests/unit/test_gdb_packet.c).
 */
#ifndef PICOVM_GDB_REGS_H
#define PICOVM_GDB_REGS_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* What a vCPU's registers are read into and written from. */
struct gdb_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
};

#define GDB_NREGS 65
#define GDB_REGS_BYTES 600	/* sum of the sizes; the g reply is twice that */

/* Size in bytes of register n (0 when there is none). */
size_t gdb_reg_size(unsigned n);
/* Register n's bytes from cpu into out (gdb_reg_size(n) bytes). */
void gdb_reg_get(const struct gdb_cpu *cpu, unsigned n, uint8_t *out);
/* Register n from in into cpu; a segment register changes only its
 * selector. */
void gdb_reg_set(struct gdb_cpu *cpu, unsigned n, const uint8_t *in);
/* All registers, GDB_REGS_BYTES. */
void gdb_regs_get(const struct gdb_cpu *cpu, uint8_t *out);
void gdb_regs_set(struct gdb_cpu *cpu, const uint8_t *in);

/* The target description (NUL-terminated, static). */
const char *gdb_target_xml(void);

#endif
