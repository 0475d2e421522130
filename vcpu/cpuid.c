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
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpucache.h"
#include "vcpu.h"
#include "../vm/log.h"

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_1_EDX_HTT (1U << 28)

/* The brand string leaves (0x80000002..4) KVM left empty: the host's.
 * Every CPUID is an exit on a nested host: the highest extended leaf is
 * asked once, not before each leaf as __get_cpuid() does. */
static void cpuid_brand(struct kvm_cpuid2 *c)
{
	unsigned max = __get_cpuid_max(0x80000000, NULL);

	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function < 0x80000002 || e->function > 0x80000004 ||
		    (e->eax | e->ebx | e->ecx | e->edx))
			continue;
		if (e->function <= max)
			__cpuid(e->function, e->eax, e->ebx, e->ecx, e->edx);
	}
}

/* The one list: filled by the prefetch thread, or by cpuid_supported()
 * once that thread has been joined; never both at once.  Static, so the
 * thread allocates nothing (a first malloc in a new thread creates a
 * malloc arena: a 128 MiB mapping trimmed by munmap and mprotect). */
static union {
	struct kvm_cpuid2 c;
	unsigned char bytes[sizeof(struct kvm_cpuid2) +
			    CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2)];
} list;

/* The fields KVM copies from the host CPU that ran the ioctl (its APIC
 * ids), which cpuid_fix() sets per vCPU anyway: cleared, so that the list
 * (and its cache) is the same whichever CPU fetched it. */
static void cpuid_host_neutral(struct kvm_cpuid2 *c)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx &= 0x00ffffff;
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = 0;
	}
}

/* KVM_GET_SUPPORTED_CPUID on kvm_fd into list, brand string filled in:
 * 0 or the errno.  No file is touched: the CPUID thread runs it while
 * the main thread closes the descriptors picovm inherited
 * (sandbox_close_inherited() closes ranges of numbers, and a file this
 * thread opened there would be closed under it, its number reused). */
static int cpuid_fetch(int kvm_fd)
{
	list.c.nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, &list.c) < 0)
		return errno;
	cpuid_brand(&list.c);
	cpuid_host_neutral(&list.c);
	return 0;
}

/* The fetch, and the list kept in the cache (vcpu/cpucache.h), on the
 * main thread: 0 or the errno. */
static int cpuid_get(int kvm_fd)
{
	int err = cpuid_fetch(kvm_fd);

	if (!err)
		cpucache_store(kvm_fd, &list.c);
	return err;
}

/* The list came from the cache: there is no prefetch thread, and
 * cached_fd is the /dev/kvm it was for (cpuid_apply() asks that KVM
 * again should it refuse the list). */
static bool cached;
static int cached_fd = -1;

/* The list from the cache into list: whether it was there. */
static bool cpuid_from_cache(int kvm_fd)
{
	cached = cpucache_load(kvm_fd, &list.c, CPUID_MAX_ENTRIES) == 0;
	cached_fd = cached ? kvm_fd : -1;
	return cached;
}

/* The list from the cache, else from KVM: 0 or the errno. */
static int cpuid_obtain(int kvm_fd)
{
	return cpuid_from_cache(kvm_fd) ? 0 : cpuid_get(kvm_fd);
}

/* The prefetch (vcpu.h): its thread, on a stack of its own making (no
 * mmap at its start, no madvise at its end), its result, and the one job
 * it may be handed once the list is there (cpuid_prefetch_run()). */
static struct {
	pthread_t thread;
	bool started;
	int kvm_fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool listed;		/* the fetch is over: err is its result */
	int err;		/* 0, or the fetch's errno */
	bool done;		/* no job is coming: the thread returns */
	int (*job)(void *);
	void *job_arg;
	int job_ret;
	bool placed;		/* sent to another CPU: allowed is its mask */
	cpu_set_t allowed;
} pre = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
static alignas(64) unsigned char pre_stack[128 * 1024];

static void *cpuid_thread(void *arg)
{
	int err = cpuid_fetch(pre.kvm_fd);

	(void)arg;
	pthread_mutex_lock(&pre.lock);
	/* Its creator's placement is over (it held the lock): the mask
	 * picovm was given, for the job and the rest. */
	if (pre.placed)
		(void)sched_setaffinity(0, sizeof(pre.allowed), &pre.allowed);
	pre.err = err;
	pre.listed = true;
	pthread_cond_broadcast(&pre.cond);
	while (!pre.job && !pre.done)
		pthread_cond_wait(&pre.cond, &pre.lock);
	int (*job)(void *) = pre.job;
	pthread_mutex_unlock(&pre.lock);
	if (job)
		pre.job_ret = job(pre.job_arg);
	return NULL;
}

/* A new thread is queued on its creator's CPU (the host kernel places a
 * forked task there; an idle CPU pulls it only at its next balance, up to
 * milliseconds later), so the fetch would wait for the main thread to
 * block instead of overlapping its work: measured here, a thread created
 * while its creator computes started 0.2-4.9 ms later, 60-110 us when
 * sent to the other CPU.  The thread goes to the next CPU picovm may use
 * (none with only one), and widens its mask back once the fetch is over
 * (cpuid_thread()).  Called with pre.lock held. */
static void place_elsewhere(pthread_t t)
{
	cpu_set_t one;
	int me = sched_getcpu();

	pre.placed = false;
	if (me < 0 || sched_getaffinity(0, sizeof(pre.allowed), &pre.allowed) < 0 ||
	    CPU_COUNT(&pre.allowed) < 2)
		return;
	for (size_t i = 1; i < CPU_SETSIZE; i++) {
		size_t cpu = ((size_t)me + i) % CPU_SETSIZE;
		if (!CPU_ISSET(cpu, &pre.allowed))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pre.placed = pthread_setaffinity_np(t, sizeof(one), &one) == 0;
		return;
	}
}

void cpuid_prefetch(int kvm_fd)
{
	pthread_attr_t attr;
	sigset_t all, old;

	if (pre.started || cached)
		return;
	/* A cached list is there at once: no thread, and the vCPUs' set-up
	 * runs on the caller's (a thread's start can wait for a CPU for
	 * longer than the set-up takes). */
	if (cpuid_from_cache(kvm_fd) || pthread_attr_init(&attr) != 0)
		return;
	pre.kvm_fd = kvm_fd;
	pre.listed = pre.done = false;
	pre.job = NULL;
	/* Every signal blocked in the thread: those picovm takes from its
	 * signalfd must never be delivered to it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&pre.lock);
	pre.started = pthread_attr_setstack(&attr, pre_stack, sizeof(pre_stack)) == 0 &&
		      pthread_create(&pre.thread, &attr, cpuid_thread, NULL) == 0;
	if (pre.started)
		place_elsewhere(pre.thread);
	pthread_mutex_unlock(&pre.lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* Waits for the fetch: 0 when it got the list, else its errno (ESRCH
 * without a prefetch). */
static int cpuid_wait_list(void)
{
	if (!pre.started)
		return ESRCH;
	pthread_mutex_lock(&pre.lock);
	while (!pre.listed)
		pthread_cond_wait(&pre.cond, &pre.lock);
	int err = pre.err;
	pthread_mutex_unlock(&pre.lock);
	return err;
}

bool cpuid_prefetch_run(int (*job)(void *), void *arg)
{
	if (!pre.started)
		return false;
	pthread_mutex_lock(&pre.lock);
	bool ok = pre.listed && !pre.err && !pre.done && !pre.job;
	if (ok) {
		pre.job_arg = arg;
		pre.job = job;
		pthread_cond_broadcast(&pre.cond);
	}
	pthread_mutex_unlock(&pre.lock);
	return ok;
}

int cpuid_prefetch_end(void)
{
	if (!pre.started)
		return 0;
	pthread_mutex_lock(&pre.lock);
	pre.done = true;
	pthread_cond_broadcast(&pre.cond);
	pthread_mutex_unlock(&pre.lock);
	pthread_join(pre.thread, NULL);
	pre.started = false;
	return pre.job ? pre.job_ret : 0;
}

const struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	if (cached)
		return &list.c;
	int err = cpuid_wait_list();

	if (err == ESRCH)	/* no prefetch */
		err = cpuid_obtain(kvm_fd);
	else if (err)		/* it failed: once more, here */
		err = cpuid_get(kvm_fd);
	else			/* the thread's list, cached from here */
		cpucache_store(kvm_fd, &list.c);
	if (err) {
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(err));
		return NULL;
	}
	return &list.c;
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
	/* One vCPU's copy at a time (vcpu.h: one thread sets them up); static
	 * so that the CPUID thread, which may do it, allocates nothing. */
	static union {
		struct kvm_cpuid2 c;
		unsigned char bytes[sizeof(list)];
	} one;
	size_t sz = sizeof(struct kvm_cpuid2) +
		    supported->nent * sizeof(struct kvm_cpuid_entry2);

	if (sz > sizeof(one))
		return -E2BIG;
	memcpy(&one, supported, sz);
	for (unsigned i = 0; i < one.c.nent; i++)
		cpuid_fix(&one.c.entries[i], id, nvcpus);
	int ret = ioctl(vcpu_fd, KVM_SET_CPUID2, &one.c) < 0 ? -errno : 0;
	/* A cached list KVM refuses (its key missed a change of KVM's): the
	 * list from KVM itself, which also replaces the cache, and once
	 * more.  The list is the one the caller holds (static). */
	if (ret < 0 && cached && supported == &list.c) {
		cached = false;
		log_err("vCPU %u: KVM refused the cached CPUID list (%s); asking "
			"KVM for it again", id, strerror(-ret));
		if (cpuid_get(cached_fd) == 0)
			return cpuid_apply(vcpu_fd, supported, id, nvcpus);
	}
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
