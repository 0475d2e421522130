/*
 * A vCPU's state for snapshots: saved and restored in the order that
 * restores correctly (Firecracker's): REGS, SREGS, XSAVE, XCRS, the MSRs
 * KVM lists, LAPIC (then IA32_TSC_DEADLINE again), VCPU_EVENTS,
 * DEBUGREGS, MP_STATE last.
 *
 * The caller holds the vCPU out of KVM_RUN (paused, with its pending I/O
 * completed, see vcpu_pause_point()).  On hosts whose KVM ignores writes
 * to the guest TSC (this nested one: KVM_SET_MSRS on IA32_TSC succeeds and
 * changes nothing) a restored guest's TSC has moved on by the snapshot's
 * age.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vcpu.h"
#include "../vm/log.h"
#include "../vm/snapfile.h"

int vcpu_msr_list(int kvm_fd, struct snap_msrs *list)
{
	struct {
		struct kvm_msr_list h;
		uint32_t idx[SNAP_MAX_MSRS];
	} l = { .h.nmsrs = SNAP_MAX_MSRS };

	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &l) < 0) {
		log_err("KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
		return -1;
	}
	memset(list, 0, sizeof(*list));
	list->n = l.h.nmsrs;
	for (uint32_t i = 0; i < l.h.nmsrs; i++)
		list->e[i].index = l.idx[i];
	return 0;
}

/* KVM_GET_MSRS / KVM_SET_MSRS on list; 0 when all n went through. */
static int msrs_io(int fd, unsigned long req, struct snap_msrs *list)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[SNAP_MAX_MSRS];
	} m;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = list->n;
	memcpy(m.e, list->e, (size_t)list->n * sizeof(m.e[0]));
	int got = ioctl(fd, req, &m);
	if (got < 0)
		return -errno;
	if ((uint32_t)got != list->n)
		return -EINVAL;
	if (req == KVM_GET_MSRS)
		memcpy(list->e, m.e, (size_t)list->n * sizeof(m.e[0]));
	return 0;
}

/* The parts in restore order; the MSRs (between XCRS and LAPIC) are
 * done by msrs_io(). */
static const struct {
	unsigned long get, set;
	size_t off;
	const char *name;
} parts[] = {
#define PART(NAME, field) { KVM_GET_##NAME, KVM_SET_##NAME, \
		offsetof(struct snap_vcpu, field), #NAME }
	PART(REGS, regs), PART(SREGS, sregs), PART(XSAVE, xsave),
	PART(XCRS, xcrs), PART(LAPIC, lapic), PART(VCPU_EVENTS, events),
	PART(DEBUGREGS, debugregs), PART(MP_STATE, mp_state),
#undef PART
};
#define MSRS_BEFORE 4	/* parts[4], LAPIC, comes after the MSRs */
#define LAPIC_PART 4
#define MSR_TSC_DEADLINE 0x6e0

/* IA32_TSC_DEADLINE once more, after the LAPIC: KVM ignores the MSR while
 * the LAPIC timer is not in TSC-deadline mode, and a fresh vCPU's is not,
 * so the value the MSRs restored before the LAPIC is lost, and a guest
 * whose clock event is the TSC-deadline timer waits for a timer interrupt
 * that never comes (seen: a restored Linux guest idle for good).  A zero
 * deadline (none armed) is what the vCPU has already. */
static int tsc_deadline_again(int fd, const struct snap_msrs *all)
{
	struct snap_msrs one = { .n = 1 };

	for (uint32_t i = 0; i < all->n; i++)
		if (all->e[i].index == MSR_TSC_DEADLINE && all->e[i].data) {
			one.e[0] = all->e[i];
			return msrs_io(fd, KVM_SET_MSRS, &one);
		}
	return 0;
}

/* A part whose saved value is what KVM gives a new vCPU (its reset state:
 * debug registers cleared, the boot vCPU runnable and the others waiting
 * for INIT) needs no call on a restore: each vCPU ioctl costs about 7 us
 * here (this nested KVM reads host MSRs at every vcpu_load). */
static bool part_is_reset(size_t i, const struct snap_vcpu *s, unsigned id)
{
	const struct kvm_debugregs *d = &s->debugregs;

	switch (parts[i].set) {
	case KVM_SET_DEBUGREGS:
		return !d->db[0] && !d->db[1] && !d->db[2] && !d->db[3] &&
		       d->dr6 == 0xffff0ff0 && d->dr7 == 0x400 && !d->flags;
	case KVM_SET_MP_STATE:
		return s->mp_state.mp_state == (id == 0 ? KVM_MP_STATE_RUNNABLE :
						KVM_MP_STATE_UNINITIALIZED);
	default:
		return false;
	}
}

/* Runs every part's get (save) or set (restore) on vCPU id. */
static int state_io(int fd, struct snap_vcpu *s, bool save, unsigned id)
{
	int err;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (i == MSRS_BEFORE &&
		    (err = msrs_io(fd, save ? KVM_GET_MSRS : KVM_SET_MSRS,
				   &s->msrs)) < 0) {
			log_err("%s: KVM_%s_MSRS: %s", save ? "snapshot" :
				"restore", save ? "GET" : "SET", strerror(-err));
			return -1;
		}
		if (!save && part_is_reset(i, s, id))
			continue;
		if (ioctl(fd, save ? parts[i].get : parts[i].set,
			  (char *)s + parts[i].off) < 0) {
			log_err("%s: KVM_%s_%s: %s%s", save ? "snapshot" : "restore",
				save ? "GET" : "SET", parts[i].name, strerror(errno),
				save ? "" : " (the state file does not fit this host)");
			return -1;
		}
		if (!save && i == LAPIC_PART &&
		    (err = tsc_deadline_again(fd, &s->msrs)) < 0) {
			log_err("restore: KVM_SET_MSRS (TSC deadline): %s",
				strerror(-err));
			return -1;
		}
	}
	return 0;
}

int vcpu_state_save(int fd, const struct snap_msrs *list, struct snap_vcpu *s)
{
	s->msrs = *list;
	return state_io(fd, s, true, 0);
}

int vcpu_state_restore(int fd, unsigned id, const struct snap_msrs *allowed,
		       struct snap_vcpu *s)
{
	/* Only MSRs this host's KVM lists, each at most once. */
	for (uint32_t i = 0; i < s->msrs.n; i++) {
		bool ok = false;
		for (uint32_t j = 0; j < allowed->n && !ok; j++)
			ok = s->msrs.e[i].index == allowed->e[j].index;
		for (uint32_t j = 0; j < i && ok; j++)
			ok = s->msrs.e[j].index != s->msrs.e[i].index;
		s->msrs.e[i].reserved = 0;
		if (!ok) {
			log_err("restore: MSR 0x%x is not one this host's KVM "
				"saves (another CPU or kernel?)", s->msrs.e[i].index);
			return -1;
		}
	}
	return state_io(fd, s, false, id);
}
