/*
 * /dev/kvm and the VM file descriptor.  kvm_open() checks the API version
 * and every capability picovm relies on, and says which one is missing;
 * it never looks at /proc/cpuinfo (KVM itself is the authority).
 */
#ifndef PICOVM_VM_KVM_H
#define PICOVM_VM_KVM_H

#include <stddef.h>

struct kvm {
	int fd;			/* /dev/kvm */
	int vm_fd;
	size_t run_size;	/* KVM_GET_VCPU_MMAP_SIZE */
	unsigned max_vcpus;
};

/* Opens /dev/kvm and checks it, or takes the descriptor kvm_keep() set
 * aside (opened and checked once per run).  On failure prints why (not
 * with KVM_OPEN_QUIET) and returns -errno (k->fd is then -1).  With
 * KVM_OPEN_CPUID, KVM_GET_SUPPORTED_CPUID starts on the descriptor as
 * soon as it is open (cpuid_prefetch(), vcpu/vcpu.h). */
#define KVM_OPEN_QUIET 1
#define KVM_OPEN_CPUID 2
int kvm_open(struct kvm *k, int flags);
/* Sets k's open, checked descriptor aside for the next kvm_open() (k->fd
 * becomes -1); kvm_kept_fd() is that descriptor while it is set aside,
 * else -1. */
void kvm_keep(struct kvm *k);
int kvm_kept_fd(void);
/* Creates the VM; kvm_create_irqchip() then adds the in-kernel PIC,
 * IOAPIC and local APICs (the PIT is vm/pit.h's).  Call kvm_create_irqchip() after the guest RAM is
 * registered: on nested hosts a memory slot added after the irqchip
 * costs several milliseconds more (measured: 6 ms against 0.1 ms).  All
 * return 0 or -errno after printing why. */
int kvm_create_vm(struct kvm *k);
int kvm_create_irqchip(struct kvm *k);
void kvm_close(struct kvm *k);

#endif
