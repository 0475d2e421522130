/*
 * The CPUID list's cache.  KVM_GET_SUPPORTED_CPUID costs about 0.35 ms
 * on a virtualised host (every host CPUID the kernel runs for it is an
 * exit) and keeps a CPU busy in the kernel all that time, where a new
 * VM's first grace periods want to run; its answer changes only when
 * KVM's does.  picovm keeps the list it got (brand string filled in) in
 * $XDG_CACHE_HOME/picovm/cpuid, or ~/.cache/picovm/cpuid, under a key of
 * what can change KVM's answer: the running kernel (release and build),
 * this boot (its boot_id), the KVM module's load (/dev/kvm's device
 * number and change time: loading the module again makes a new node)
 * and the CPU's microcode revision, after the file format's version.
 * Only in a folder of picovm's own user (not with another user's HOME).
 * The file is the user's, read as untrusted input: a file with another
 * key, of another length or with a bad checksum is a miss, and the list
 * fetched then replaces it; so does a list KVM_SET_CPUID2 refuses
 * (vcpu/cpuid.c).  Neither call allocates.
 */
#ifndef PICOVM_VCPU_CPUCACHE_H
#define PICOVM_VCPU_CPUCACHE_H

#include <linux/kvm.h>
#include <stdbool.h>

#define CPUCACHE_MAX_ENTRIES 256

/* The cached list for the KVM behind kvm_fd into c (room for max
 * entries): 0, or -1 on a miss (c untouched). */
int cpucache_load(int kvm_fd, struct kvm_cpuid2 *c, unsigned max);
/* Keeps c as the list of the KVM behind kvm_fd; failures are silent
 * (the cache is an optimisation). */
void cpucache_store(int kvm_fd, const struct kvm_cpuid2 *c);

#endif
