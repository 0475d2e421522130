/* vCPU threads and the KVM_RUN exit dispatch; see vcpu.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exit.h"
#include "../gdb/gdb.h"
#include "vcpu.h"
#include "../seccomp/sandbox.h"
#include "../vm/log.h"
#include "../vm/machine.h"
#include "../vm/pit.h"
#include "../vm/thread.h"

/* The signal that interrupts KVM_RUN; its handler does nothing, the
 * interruption is the point.  Blocked in every other thread. */
#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_create(struct machine *m, struct vcpu *v, unsigned id)
{
	memset(v, 0, sizeof(*v));
	v->m = m;
	v->id = id;
	v->fd = ioctl(m->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		log_err("vCPU %u: KVM_CREATE_VCPU: %s", id, strerror(errno));
		return -1;
	}
	v->run = mmap(NULL, m->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		log_err("vCPU %u: mapping kvm_run: %s", id, strerror(errno));
		v->run = NULL;
		return -1;
	}
	return 0;
}

int vcpu_setup(struct vcpu *v, const struct kvm_cpuid2 *cpuid, unsigned nvcpus,
	       const struct boot_entry *entry)
{
	int ret = cpuid_apply(v->fd, cpuid, v->id, nvcpus);

	if (ret < 0) {
		log_err("vCPU %u: KVM_SET_CPUID2: %s", v->id, strerror(-ret));
		return -1;
	}
	if (!entry)
		return 0;	/* a restore loads every register later */
	return regs_init(v->m->kvm.fd, v->fd, v->id, entry) < 0 ? -1 : 0;
}

static void vcpu_fatal(struct vcpu *v, const char *what)
{
	struct kvm_regs regs;
	unsigned long long rip = 0;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		rip = regs.rip;
	machine_stop(v->m, EXIT_VM_FAILURE, "vCPU %u: %s (guest RIP 0x%llx)", v->id,
		what, rip);
}

/* Handles one exit; returns false when the vCPU must stop running. */
static bool vcpu_exit(struct vcpu *v)
{
	struct vcpu_access a;
	char why[96];

	switch (vcpu_exit_decode(v->run, v->m->kvm.run_size, &a, why,
				 sizeof(why))) {
	case VCPU_PIO:
		__atomic_store_n(&v->exits_io, v->exits_io + 1, __ATOMIC_RELAXED);
		for (uint32_t i = 0; i < a.count; i++)
			bus_access(&v->m->pio, a.addr, a.data + (size_t)i * a.size,
				   a.size, a.write);
		return true;
	case VCPU_MMIO:
		__atomic_store_n(&v->exits_mmio, v->exits_mmio + 1, __ATOMIC_RELAXED);
		bus_access(&v->m->mmio, a.addr, a.data, a.size, a.write);
		return true;
	case VCPU_RESUME:
		__atomic_store_n(&v->exits_other, v->exits_other + 1, __ATOMIC_RELAXED);
		return true;
	case VCPU_DEBUG:
		__atomic_store_n(&v->exits_other, v->exits_other + 1, __ATOMIC_RELAXED);
		if (v->m->gdb)
			return gdb_debug_exit(v->m->gdb, v);
		vcpu_fatal(v, "unexpected debug exit");
		return false;
	case VCPU_STOP_OK:
		machine_stop(v->m, EXIT_VM_OK, NULL);
		return false;
	case VCPU_FATAL:
		vcpu_fatal(v, why);
		return false;
	}
	return false;
}

/* The one pause point (vm/machine.h: a snapshot or the control socket's
 * pause).  KVM finishes a port or MMIO access only on the next KVM_RUN:
 * one with immediate_exit set completes it and returns at once, so a
 * parked vCPU is past its instruction (the state a snapshot saves).
 * Clearing the pause's kick after the park, before the loop looks at
 * the stop again: a stop's kick after this still lands. */
static void vcpu_pause_point(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(v->fd, KVM_RUN, 0) == 0 && !vcpu_exit(v))
		return;
	machine_park(v->m, v->id);
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	char name[16];

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	if (sandbox_thread(SANDBOX_VCPU, name) < 0) {
		machine_stop(v->m, EXIT_VM_FAILURE, NULL);
		return NULL;
	}
	if (!machine_wait_go(v->m) || !pit_gate_wait())
		return NULL;	/* stopped before the guest ran */
	bool ran = v->id != 0;	/* vCPU 0 lets the reaper's PIT call go (vm/pit.h) */
	uint64_t none = 0, now = log_ns_since_start();
	atomic_compare_exchange_strong(&v->m->run_ns, &none, now ? now : 1);
	while (!machine_stopping(v->m)) {
		if (machine_pause_requested(v->m, v->id)) {
			vcpu_pause_point(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char why[64];
			snprintf(why, sizeof(why), "KVM_RUN: %s", strerror(errno));
			vcpu_fatal(v, why);
			break;
		}
		if (!ran) {
			ran = true;
			pit_go();
		}
		if (!vcpu_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	static bool handler_set;

	if (!handler_set) {
		struct sigaction sa = { .sa_handler = vcpu_kick_handler };
		sigemptyset(&sa.sa_mask);
		sigaction(VCPU_KICK_SIGNAL, &sa, NULL);	/* no SA_RESTART */
		handler_set = true;
	}
	int ret = thread_spawn(&v->thread, vcpu_thread, v);
	if (ret) {
		log_err("vCPU %u: cannot start thread: %s", v->id, strerror(ret));
		return -1;
	}
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	/* immediate_exit covers a kick that lands just before KVM_RUN. */
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->started) {
		pthread_join(v->thread, NULL);
		v->started = false;
	}
	/* The run structure stays mapped to the address space's end, as
	 * guest RAM does (vm_teardown()): its munmap was a TLB shootdown in
	 * the middle of the stop. */
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
