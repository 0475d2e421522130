/*
 * CPUID: the guest sees exactly what KVM_GET_SUPPORTED_CPUID reports (so
 * it never uses a feature this host's KVM cannot give it), with the fields
 * that differ per vCPU fixed up: APIC ids, topology, the hypervisor bit.
 * The KVM signature leaves (0x40000000..) come from KVM itself.  The brand
 * string leaves (0x80000002..4), which KVM reports empty (a VMM fills them
 * in), are the host CPU's own, so /proc/cpuinfo shows a real model name.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vcpu.h"
#include "../vm/log.h"

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_1_EDX_HTT (1U << 28)

/* The brand string leaves (0x80000002..4) KVM left empty: the host's. */
static void cpuid_brand(struct kvm_cpuid2 *c)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function < 0x80000002 || e->function > 0x80000004 ||
		    (e->eax | e->ebx | e->ecx | e->edx))
			continue;
		if (!__get_cpuid(e->function, &e->eax, &e->ebx, &e->ecx, &e->edx))
			e->eax = e->ebx = e->ecx = e->edx = 0;
	}
}

/* KVM_GET_SUPPORTED_CPUID on kvm_fd, brand string filled in: the list,
 * or NULL with *err set to the errno. */
static struct kvm_cpuid2 *cpuid_get(int kvm_fd, int *err)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, sz);

	if (!c) {
		*err = ENOMEM;
		return NULL;
	}
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		*err = errno;
		free(c);
		return NULL;
	}
	cpuid_brand(c);
	return c;
}

/* The prefetch (vcpu.h): its thread, its result. */
static struct {
	pthread_t thread;
	bool started;
	struct kvm_cpuid2 *c;
	int err;
} pre;

static void *cpuid_thread(void *arg)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	(void)arg;
	if (fd < 0) {
		pre.err = errno;
		return NULL;
	}
	pre.c = cpuid_get(fd, &pre.err);
	close(fd);
	return NULL;
}

void cpuid_prefetch(void)
{
	pre.started = pthread_create(&pre.thread, NULL, cpuid_thread, NULL) == 0;
}

struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	struct kvm_cpuid2 *c = NULL;
	int err = 0;

	if (pre.started) {
		pthread_join(pre.thread, NULL);
		pre.started = false;
		c = pre.c;
		pre.c = NULL;
	}
	if (!c)		/* no prefetch, or it failed: once more, here */
		c = cpuid_get(kvm_fd, &err);
	if (!c)
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(err));
	return c;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1U << b) < n)
		b++;
	return b;
}

/* One package with nvcpus cores of one thread each: the shape Linux
 * handles best and the one that matches the MP table. */
static void cpuid_fix(struct kvm_cpuid_entry2 *e, unsigned id, unsigned n)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (id << 24) |
			 ((n > 1 ? (1U << bits_for(n)) : 1U) << 16);
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (n > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
		break;
	case 4:
		e->eax = (e->eax & 0x03ffffff) | (((n - 1) & 0x3f) << 26);
		break;
	case 0xb:
	case 0x1f:
		e->edx = id;
		if (e->index == 0) {		/* SMT level: one thread */
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1U << 8) | 0;
		} else if (e->index == 1) {	/* core level */
			e->eax = bits_for(n);
			e->ebx = n;
			e->ecx = (2U << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	default:
		break;
	}
}

int cpuid_apply(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned id,
		unsigned nvcpus)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    supported->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	for (unsigned i = 0; i < c->nent; i++)
		cpuid_fix(&c->entries[i], id, nvcpus);
	int ret = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return ret;
}

void cpuid_signature(const struct kvm_cpuid2 *supported, uint32_t *signature,
		     uint32_t *features)
{
	*signature = 0x600;
	*features = 0;
	for (unsigned i = 0; i < supported->nent; i++) {
		if (supported->entries[i].function == 1) {
			*signature = supported->entries[i].eax;
			*features = supported->entries[i].edx;
		}
	}
}
