/*
 * The vCPU side of the gdb stub (internal.h): registers, guest memory by
 * virtual address, breakpoints, KVM_SET_GUEST_DEBUG, and what a vCPU
 * thread does on a debug exit.  Everything but gdb_debug_exit() runs on
 * the stub's thread with every vCPU parked (a vCPU ioctl on a vCPU inside
 * KVM_RUN would wait for it to leave).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"
#include "walk.h"
#include "../vcpu/vcpu.h"
#include "../vm/log.h"
#include "../vm/machine.h"
#include "../vm/vm.h"

#define INT3 0xcc
#define DR6_BS (1u << 14)	/* single-step */

static int vcpu_fd(struct gdb *g, unsigned cpu)
{
	return g->vm->vcpus[cpu].fd;
}

int target_get(struct gdb *g, unsigned cpu, struct gdb_cpu *c)
{
	int fd = vcpu_fd(g, cpu);

	memset(c, 0, sizeof(*c));
	if (ioctl(fd, KVM_GET_REGS, &c->regs) < 0 ||
	    ioctl(fd, KVM_GET_SREGS, &c->sregs) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &c->fpu) < 0)
		return -errno;
	return 0;
}

int target_set(struct gdb *g, unsigned cpu, const struct gdb_cpu *c)
{
	int fd = vcpu_fd(g, cpu);

	if (ioctl(fd, KVM_SET_REGS, &c->regs) < 0 ||
	    ioctl(fd, KVM_SET_SREGS, &c->sregs) < 0 ||
	    ioctl(fd, KVM_SET_FPU, &c->fpu) < 0)
		return -errno;
	return 0;
}

static int paging(struct gdb *g, unsigned cpu, struct gdb_paging *p)
{
	struct kvm_sregs s;

	if (ioctl(vcpu_fd(g, cpu), KVM_GET_SREGS, &s) < 0)
		return -errno;
	*p = (struct gdb_paging){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4,
				  .efer = s.efer };
	return 0;
}

/* The host bytes behind [va, va + *n): *n shrinks to what maps
 * contiguously (one page, at most), NULL when va is not RAM. */
static uint8_t *map(struct gdb *g, const struct gdb_paging *p, uint64_t va,
		    uint64_t *n, uint64_t *gpa)
{
	uint64_t span;

	if (gdb_translate(&g->m->mem, p, va, gpa, &span) < 0)
		return NULL;
	if (*n > span)
		*n = span;
	return gmem_ptr(&g->m->mem, *gpa, *n);
}

uint64_t target_read(struct gdb *g, unsigned cpu, uint64_t va, uint8_t *buf,
		     uint64_t len)
{
	struct gdb_paging p;
	uint64_t done = 0;

	if (paging(g, cpu, &p) < 0)
		return 0;
	while (done < len) {
		uint64_t n = len - done, gpa, a;
		if (__builtin_add_overflow(va, done, &a))
			break;
		const uint8_t *src = map(g, &p, a, &n, &gpa);
		if (!src)
			break;
		memcpy(buf + done, src, n);
		done += n;
	}
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].va >= va && g->sw[i].va - va < done)
			buf[g->sw[i].va - va] = g->sw[i].orig;
	pthread_mutex_unlock(&g->lock);
	return done;
}

int target_write(struct gdb *g, unsigned cpu, uint64_t va, const uint8_t *buf,
		 uint64_t len)
{
	struct gdb_paging p;
	uint64_t a, n, gpa;

	if (paging(g, cpu, &p) < 0)
		return -1;
	/* Every page first: a write that cannot be whole is not begun. */
	for (uint64_t done = 0; done < len; done += n) {
		n = len - done;
		if (__builtin_add_overflow(va, done, &a) || !map(g, &p, a, &n, &gpa))
			return -1;
	}
	pthread_mutex_lock(&g->lock);
	for (uint64_t done = 0; done < len; done += n) {
		n = len - done;
		a = va + done;
		uint8_t *dst = map(g, &p, a, &n, &gpa);
		if (!dst)
			break;	/* checked above; the tables did not change */
		memcpy(dst, buf + done, n);
		/* Under one of the stub's int3s the guest's byte changes;
		 * the int3 stays. */
		for (unsigned i = 0; i < g->nsw; i++)
			if (g->sw[i].gpa >= gpa && g->sw[i].gpa - gpa < n) {
				g->sw[i].orig = dst[g->sw[i].gpa - gpa];
				dst[g->sw[i].gpa - gpa] = INT3;
			}
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int sw_find(const struct gdb *g, uint64_t va)
{
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].va == va)
			return (int)i;
	return -1;
}

/* DR7 length bits for a watch of len bytes, or -1. */
static int dr7_len(uint64_t len)
{
	switch (len) {
	case 1: return 0;
	case 2: return 1;
	case 8: return 2;
	case 4: return 3;
	default: return -1;
	}
}

static int sw_insert(struct gdb *g, unsigned cpu, uint64_t addr)
{
	struct gdb_paging p;
	uint64_t n = 1, gpa;

	if (sw_find(g, addr) >= 0)
		return 0;
	if (g->nsw == GDB_MAX_SW)
		return -ENOSPC;
	if (paging(g, cpu, &p) < 0)
		return -EFAULT;
	uint8_t *b = map(g, &p, addr, &n, &gpa);
	if (!b)
		return -EFAULT;
	g->sw[g->nsw++] = (struct sw_bp){ .va = addr, .gpa = gpa, .orig = *b };
	*b = INT3;
	return 0;
}

static void sw_remove_at(struct gdb *g, unsigned i)
{
	uint8_t *b = gmem_ptr(&g->m->mem, g->sw[i].gpa, 1);

	/* The guest may have written over it meanwhile: then it stays. */
	if (b && *b == INT3)
		*b = g->sw[i].orig;
	g->sw[i] = g->sw[--g->nsw];
}

int target_bp_insert(struct gdb *g, unsigned cpu, int type, uint64_t addr,
		     uint64_t kind)
{
	int ret = 0;

	pthread_mutex_lock(&g->lock);
	if (type == GDB_BP_SW) {
		ret = kind == 1 ? sw_insert(g, cpu, addr) : -EINVAL;
	} else {
		uint64_t len = type == GDB_BP_HW ? 1 : kind;
		if ((type == GDB_BP_HW && kind != 1) || dr7_len(len) < 0 ||
		    (addr & (len - 1)))
			ret = -EINVAL;
		for (unsigned i = 0; ret == 0 && i < GDB_NHW; i++)
			if (!g->hw[i].used) {
				g->hw[i] = (struct hw_bp){ .used = true, .type = type,
							   .addr = addr, .len = len };
				break;
			} else if (i == GDB_NHW - 1) {
				ret = -ENOSPC;
			}
	}
	pthread_mutex_unlock(&g->lock);
	return ret;
}

int target_bp_remove(struct gdb *g, unsigned cpu, int type, uint64_t addr,
		     uint64_t kind)
{
	int ret = -ENOENT;

	(void)cpu;
	pthread_mutex_lock(&g->lock);
	if (type == GDB_BP_SW) {
		int i = sw_find(g, addr);
		if (i >= 0) {
			sw_remove_at(g, (unsigned)i);
			ret = 0;
		}
	} else {
		uint64_t len = type == GDB_BP_HW ? 1 : kind;
		for (unsigned i = 0; i < GDB_NHW && ret; i++)
			if (g->hw[i].used && g->hw[i].type == type &&
			    g->hw[i].addr == addr && g->hw[i].len == len) {
				g->hw[i].used = false;
				ret = 0;
			}
	}
	pthread_mutex_unlock(&g->lock);
	return ret;
}

void target_bp_clear(struct gdb *g)
{
	pthread_mutex_lock(&g->lock);
	while (g->nsw)
		sw_remove_at(g, g->nsw - 1);
	memset(g->hw, 0, sizeof(g->hw));
	pthread_mutex_unlock(&g->lock);
}

int target_debug_apply(struct gdb *g, int step_cpu)
{
	struct kvm_guest_debug d;
	uint32_t ctl = 0;

	memset(&d, 0, sizeof(d));
	pthread_mutex_lock(&g->lock);
	if (g->nsw)
		ctl |= KVM_GUESTDBG_USE_SW_BP;
	for (unsigned i = 0; i < GDB_NHW; i++) {
		const struct hw_bp *h = &g->hw[i];
		if (!h->used)
			continue;
		/* R/W bits: 00 execute, 01 write, 11 read or write (x86 has
		 * no read-only watch: a read watch traps writes too). */
		uint64_t rw = h->type == GDB_BP_HW ? 0 : h->type == GDB_WP_WRITE ? 1 : 3;
		d.arch.debugreg[i] = h->addr;
		d.arch.debugreg[7] |= (2ull << (2 * i)) |
				      (rw << (16 + 4 * i)) |
				      ((uint64_t)dr7_len(h->len) << (18 + 4 * i));
		ctl |= KVM_GUESTDBG_USE_HW_BP;
	}
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < g->nvcpus; i++) {
		uint32_t c = ctl;
		if ((int)i == step_cpu)
			c |= KVM_GUESTDBG_SINGLESTEP |
			     (g->blockirq ? KVM_GUESTDBG_BLOCKIRQ : 0);
		d.control = c ? c | KVM_GUESTDBG_ENABLE : 0;
		if (ioctl(vcpu_fd(g, i), KVM_SET_GUEST_DEBUG, &d) < 0)
			return -errno;
	}
	return 0;
}

/* The guest's own int3 (its system call, a kernel's jump label patch):
 * back to the guest as the #BP it would have been without the stub. */
static bool reinject_bp(struct vcpu *v)
{
	struct kvm_vcpu_events e;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &e) < 0)
		return false;
	e.exception.injected = 1;
	e.exception.nr = 3;
	e.exception.has_error_code = 0;
	e.exception.error_code = 0;
	e.flags = 0;
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e) == 0;
}

bool gdb_debug_exit(struct gdb *g, struct vcpu *v)
{
	const struct kvm_debug_exit_arch *d = &v->run->debug.arch;
	struct gdb_ev ev = { .kind = EV_TRAP };
	uint64_t one = 1;

	pthread_mutex_lock(&g->lock);
	if (d->exception == 3) {
		if (sw_find(g, d->pc) < 0) {
			pthread_mutex_unlock(&g->lock);
			if (reinject_bp(v))
				return true;
			machine_stop(v->m, EXIT_VM_FAILURE, "gdb: vCPU %u: cannot "
				     "give the guest its int3 at 0x%llx back", v->id,
				     (unsigned long long)d->pc);
			return false;
		}
		ev = (struct gdb_ev){ .kind = EV_SWBREAK, .addr = d->pc };
	} else {
		for (unsigned i = 0; i < GDB_NHW; i++)
			if ((d->dr6 >> i & 1) && g->hw[i].used) {
				const struct hw_bp *h = &g->hw[i];
				ev = h->type == GDB_BP_HW ?
				     (struct gdb_ev){ .kind = EV_HWBREAK } :
				     (struct gdb_ev){ .kind = EV_WATCH,
						      .wtype = h->type,
						      .addr = h->addr };
				break;
			}
		if (ev.kind == EV_TRAP && (d->dr6 & DR6_BS))
			ev.kind = EV_STEP;
	}
	g->ev[v->id] = ev;
	pthread_mutex_unlock(&g->lock);
	/* Park at the next pause point; the stub stops the others. */
	machine_pause_hold(v->m, MACHINE_PAUSE_GDB);
	machine_solo(v->m, -1);
	if (write(g->efd, &one, sizeof(one)) < 0)
		log_err("gdb: cannot wake the stub: %s", strerror(errno));
	return true;
}
