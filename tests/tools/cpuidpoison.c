/*
 * cpuidpoison: rewrites the CPUID cache of this host's /dev/kvm
 * ($XDG_CACHE_HOME/picovm/cpuid) with a list KVM_SET_CPUID2 refuses (a
 * virtual address width of 40 bits in leaf 0x80000008: KVM takes only
 * 48, 57 or 0) under a valid key and checksum, as a cache whose key
 * missed a change of KVM's would be.  Exit status 0, 1 when there was no
 * cache to rewrite, 3 when KVM's list has no such leaf.  For
 * tests/t-boot.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "../../vcpu/cpucache.h"

static union {
	struct kvm_cpuid2 c;
	unsigned char bytes[sizeof(struct kvm_cpuid2) +
			    CPUCACHE_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2)];
} list;

int main(void)
{
	int kvm = open("/dev/kvm", O_RDONLY | O_CLOEXEC);
	int found = 0;

	if (kvm < 0 || cpucache_load(kvm, &list.c, CPUCACHE_MAX_ENTRIES) < 0) {
		fprintf(stderr, "cpuidpoison: no cache for this /dev/kvm\n");
		return 1;
	}
	for (unsigned i = 0; i < list.c.nent; i++)
		if (list.c.entries[i].function == 0x80000008) {
			list.c.entries[i].eax = (list.c.entries[i].eax & ~0xff00u) | (40u << 8);
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "cpuidpoison: no leaf 0x80000008 in the list\n");
		return 3;
	}
	cpucache_store(kvm, &list.c);
	return 0;
}
