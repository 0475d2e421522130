/* /dev/kvm: open, check, create the VM; see kvm.h. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "pit.h"
#include "../vcpu/vcpu.h"

/* Addresses KVM needs for its own use on Intel hosts; both sit in the MMIO
 * hole just below the BIOS area, where nothing of picovm's lives. */
#define KVM_TSS_ADDR 0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000UL

static const struct {
	int cap;
	const char *name;
	const char *why;
} kvm_needed[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "in-kernel interrupt controllers" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2", "in-kernel timer (PIT)" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "CPUID set-up" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "VM set-up" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "device notifications" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "device interrupts" },
};

static int kvm_fail(const char *step)
{
	int ret = -errno;

	log_err("%s: %s", step, strerror(errno));
	return ret;
}

/* The checked descriptor kvm_keep() set aside, for the next kvm_open(). */
static struct kvm kept = { .fd = -1, .vm_fd = -1 };

void kvm_keep(struct kvm *k)
{
	if (kept.fd >= 0)
		close(kept.fd);
	kept = *k;
	k->fd = -1;
}

int kvm_kept_fd(void)
{
	return kept.fd;
}

int kvm_open(struct kvm *k, int flags)
{
	bool quiet = flags & KVM_OPEN_QUIET;
	int ret;

	if (kept.fd >= 0) {
		*k = kept;
		kept.fd = -1;
		return 0;
	}
	memset(k, 0, sizeof(*k));
	k->vm_fd = -1;
	k->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		if (quiet)
			return ret;
		if (ret == -ENOENT)
			log_err("/dev/kvm does not exist: this host has no KVM "
				"(load the kvm module, or enable nested virtualisation)");
		else if (ret == -EACCES || ret == -EPERM)
			log_err("/dev/kvm: permission denied (add your user to the "
				"group owning /dev/kvm, usually 'kvm')");
		else
			log_err("/dev/kvm: %s", strerror(-ret));
		return ret;
	}
	/* At once: the checks below then overlap the list's fetch. */
	if (flags & KVM_OPEN_CPUID)
		cpuid_prefetch(k->fd);
	int v = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		if (!quiet)
			log_err("/dev/kvm: API version %d, picovm needs %d", v,
				KVM_API_VERSION);
		ret = -ENOTSUP;
		goto close_kvm;
	}
	for (size_t i = 0; i < sizeof(kvm_needed) / sizeof(kvm_needed[0]); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, kvm_needed[i].cap) <= 0) {
			if (!quiet)
				log_err("/dev/kvm: capability %s (needed for %s) "
					"is not available", kvm_needed[i].name,
					kvm_needed[i].why);
			ret = -ENOTSUP;
			goto close_kvm;
		}
	}
	int n = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	k->max_vcpus = n > 0 ? (unsigned)n : 1;
	int sz = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0) {
		ret = -errno;
		if (!quiet)
			log_err("/dev/kvm: KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto close_kvm;
	}
	k->run_size = (size_t)sz;
	return 0;

close_kvm:
	cpuid_prefetch_end();	/* before its descriptor goes */
	close(k->fd);
	k->fd = -1;
	return ret;
}

int kvm_create_vm(struct kvm *k)
{
	k->vm_fd = ioctl(k->fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		return kvm_fail("KVM_CREATE_VM");
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return kvm_fail("KVM_SET_TSS_ADDR");
	/* Only some hosts need the identity map; failure is harmless. */
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	(void)ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	return 0;
}

int kvm_create_irqchip(struct kvm *k)
{
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kvm_fail("KVM_CREATE_IRQCHIP");
	return 0;
}

void kvm_close(struct kvm *k)
{
	(void)pit_ready();	/* a VM that failed before vmm_start() had it */
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->fd >= 0)
		close(k->fd);
	k->vm_fd = k->fd = -1;
}
