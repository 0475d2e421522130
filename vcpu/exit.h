/*
 * What a KVM_RUN exit asks of picovm, decided from the kvm_run page alone
 * (no KVM, no devices), so that the dispatch can be unit-tested with exit
 * reasons as values (tests/unit/test_vcpu_exit.c).  vcpu.c carries the
 * decision out.
 */
#ifndef PICOVM_VCPU_EXIT_H
#define PICOVM_VCPU_EXIT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vcpu_action {
	VCPU_PIO,	/* port access(es): dispatch to the port bus */
	VCPU_MMIO,	/* one MMIO access: dispatch to the MMIO bus */
	VCPU_RESUME,	/* nothing to do (HLT, a signal, a bad access) */
	VCPU_DEBUG,	/* a breakpoint, watchpoint or step: the gdb stub's */
	VCPU_STOP_OK,	/* the guest shut down or reset: status 0 */
	VCPU_FATAL,	/* the guest cannot go on: why says what happened */
};

/* One decoded access: count accesses of size bytes at addr; data points
 * into the kvm_run page and holds count * size bytes. */
struct vcpu_access {
	uint64_t addr;
	uint8_t *data;
	uint32_t size, count;
	bool write;
};

/* Decodes the exit in r (a run_size-byte kvm_run mapping); fills *a for
 * VCPU_PIO / VCPU_MMIO and why (NUL-terminated) for VCPU_FATAL.  Never
 * lets an access reach past the kvm_run page. */
enum vcpu_action vcpu_exit_decode(struct kvm_run *r, size_t run_size,
				  struct vcpu_access *a, char *why,
				  size_t whylen);

#endif
