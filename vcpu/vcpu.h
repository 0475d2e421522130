/*
 * vCPUs: one thread each, named vcpuN.  A vCPU thread only runs KVM_RUN
 * and dispatches the register accesses that exit to user space (port I/O,
 * MMIO) to the device buses; device work happens elsewhere.
 *
 * vCPU 0 starts at the kernel's entry state; the others start in KVM's
 * wait-for-SIPI state, as on real hardware, until the guest wakes them.
 */
#ifndef PICOVM_VCPU_VCPU_H
#define PICOVM_VCPU_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "../boot/entry.h"

struct machine;

struct vcpu {
	struct machine *m;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	/* Exits to user space, by kind: the cost a device path pays.
	 * Written by the vCPU thread only; others read them relaxed. */
	uint64_t exits_io, exits_mmio, exits_other;
};

/* Creates vCPU id (KVM_CREATE_VCPU, its kvm_run mapped); vcpu_setup()
 * then sets CPUID, MSRs, LAPIC, FPU and (vCPU 0) the entry registers;
 * with entry NULL (a restore, whose state then sets all of them:
 * vm/restore.c) only CPUID.  Split so that the vCPUs exist while the
 * CPUID list is still being fetched.  Both return 0 or -1 after printing
 * why.  vcpu_setup() allocates nothing and may run on another thread
 * (cpuid_prefetch_run()); the vCPUs are then set up one at a time. */
int vcpu_create(struct machine *m, struct vcpu *v, unsigned id);
int vcpu_setup(struct vcpu *v, const struct kvm_cpuid2 *cpuid, unsigned nvcpus,
	       const struct boot_entry *entry);
int vcpu_start(struct vcpu *v);
/* Makes the vCPU leave KVM_RUN soon (stopping, pausing). */
void vcpu_kick(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

/* vcpu/state.c: snapshots (vm/snapfile.h); both print why on failure. */
struct snap_msrs;
struct snap_vcpu;
int vcpu_msr_list(int kvm_fd, struct snap_msrs *list);
int vcpu_state_save(int fd, const struct snap_msrs *list, struct snap_vcpu *s);
/* vCPU id's state (id 0 is the boot vCPU), from s. */
int vcpu_state_restore(int fd, unsigned id, const struct snap_msrs *allowed,
		       struct snap_vcpu *s);

/* vcpu/cpuid.c */
/* Takes the CPUID list from the cache (vcpu/cpucache.h), or else starts
 * KVM_GET_SUPPORTED_CPUID on kvm_fd (a checked /dev/kvm, open until the
 * thread is joined) in a thread of its own: on a nested host every host
 * CPUID the kernel runs for it is an exit (about 0.4 ms in all), which
 * then overlaps the config parsing and the rest of the set-up.  The
 * thread blocks every signal and allocates nothing. */
void cpuid_prefetch(int kvm_fd);
/* Once the list is there, hands job(arg) to the prefetch thread, which
 * then runs it instead of ending; false when there is no such thread,
 * its fetch failed or it has a job already (the caller then runs it
 * itself).  The job must allocate nothing (no malloc arena for that
 * thread): vcpu_setup() and cpuid_apply() do not. */
bool cpuid_prefetch_run(int (*job)(void *), void *arg);
/* Joins the prefetch thread, if any (before its descriptor is closed, and
 * before anything its job set up is used): the job's return value, or 0
 * without one. */
int cpuid_prefetch_end(void);
/* The prefetch's list (joined), or, without one, KVM_GET_SUPPORTED_CPUID
 * on kvm_fd; NULL after printing why.  Static storage: not freed, and
 * the same list for every call. */
const struct kvm_cpuid2 *cpuid_supported(int kvm_fd);
int cpuid_apply(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned id,
		unsigned nvcpus);
void cpuid_signature(const struct kvm_cpuid2 *supported, uint32_t *signature,
		     uint32_t *features);

/* vcpu/regs.c */
int regs_init(int kvm_fd, int vcpu_fd, unsigned id, const struct boot_entry *e);

#endif
