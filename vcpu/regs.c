/*
 * Initial vCPU state: what the Linux 64-bit boot protocol and the PVH ABI
 * promise at the kernel's entry, plus MSRs, FPU and local APIC set up the
 * way firmware would leave them.  Matches boot/layout.h and boot/x86.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vcpu.h"
#include "../boot/layout.h"
#include "../vm/log.h"

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool code64, bool db)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = code64, .g = 1,
	};
}

static int sregs_init(int fd, const struct boot_entry *e)
{
	struct kvm_sregs s;

	if (ioctl(fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.gdt.base = BOOT_GDT_ADDR;
	s.gdt.limit = 6 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.tr = (struct kvm_segment){ .selector = BOOT_SEL_TSS, .limit = 0x67,
				     .type = 11, .present = 1 };
	s.ldt = (struct kvm_segment){ .type = 2, .present = 1, .unusable = 1 };
	struct kvm_segment data = seg(BOOT_SEL_DATA, 3, false, true);
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	if (e->mode == BOOT_MODE_LONG64) {
		s.cs = seg(BOOT_SEL_CODE64, 11, true, false);
		s.cr3 = BOOT_PML4_ADDR;
		s.cr4 = CR4_PAE;
		s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
		s.efer = EFER_LME | EFER_LMA;
	} else {
		s.cs = seg(BOOT_SEL_CODE32, 11, false, true);
		s.cr3 = 0;
		s.cr4 = 0;
		s.cr0 = CR0_PE | CR0_ET;
		s.efer = 0;
	}
	if (ioctl(fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	return 0;
}

static int gregs_init(int fd, const struct boot_entry *e)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = e->rip;
	r.rsp = e->rsp;
	r.rsi = e->rsi;
	r.rbx = e->rbx;
	return ioctl(fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

static int msrs_init(int kvm_fd, int fd)
{
	static const struct { uint32_t index; uint64_t value; } want[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },		/* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1 << 11) | 6 },	/* MTRRs on, WB */
	};
	enum { N = sizeof(want) / sizeof(want[0]), LIST_MAX = 1024 };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[N];
	} m;
	/* On the stack (4 KiB): vcpu_setup() allocates nothing (vcpu.h). */
	union {
		struct kvm_msr_list l;
		uint32_t words[1 + LIST_MAX];
	} u;
	struct kvm_msr_list *list = &u.l;

	memset(&u, 0, sizeof(u));
	list->nmsrs = LIST_MAX;
	bool have_list = ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) == 0;
	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < N; i++) {
		/* Only MSRs this KVM saves and restores; others it would
		 * reject anyway. */
		bool ok = !have_list;
		for (unsigned j = 0; have_list && j < list->nmsrs; j++)
			ok |= list->indices[j] == want[i].index;
		if (ok)
			m.e[m.hdr.nmsrs++] = (struct kvm_msr_entry){
				.index = want[i].index, .data = want[i].value };
	}
	int n = ioctl(fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return -errno;
	if ((unsigned)n != m.hdr.nmsrs)
		log_err("vCPU MSR set-up: KVM rejected MSR 0x%x",
			m.e[n].index);
	return 0;
}

static int fpu_init(int fd)
{
	struct kvm_fpu f;

	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	return ioctl(fd, KVM_SET_FPU, &f) < 0 ? -errno : 0;
}

static void lvt_set(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, 4);
	v = (v & ~0x700U) | (mode << 8);
	memcpy(l->regs + reg, &v, 4);
}

/* LINT0 carries the 8259's ExtINT and LINT1 NMIs, as the MP table says. */
static int lapic_init(int fd)
{
	struct kvm_lapic_state l;

	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lvt_set(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lvt_set(&l, APIC_LVT1, APIC_MODE_NMI);
	return ioctl(fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

int regs_init(int kvm_fd, int vcpu_fd, unsigned id, const struct boot_entry *e)
{
	const char *step = "MSRs";
	int ret = msrs_init(kvm_fd, vcpu_fd);

	if (ret == 0) {
		step = "FPU";
		ret = fpu_init(vcpu_fd);
	}
	if (ret == 0) {
		step = "local APIC";
		ret = lapic_init(vcpu_fd);
	}
	/* Application processors keep KVM's reset state and wait for SIPI. */
	if (ret == 0 && id == 0) {
		step = "segment registers";
		ret = sregs_init(vcpu_fd, e);
		if (ret == 0) {
			step = "registers";
			ret = gregs_init(vcpu_fd, e);
		}
	}
	if (ret < 0)
		log_err("vCPU %u: setting %s: %s", id, step, strerror(-ret));
	return ret;
}
