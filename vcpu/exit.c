/* KVM_RUN exit decoding; see exit.h. */
#include "exit.h"

#include <stdio.h>

static enum vcpu_action decode_io(struct kvm_run *r, size_t run_size,
				  struct vcpu_access *a)
{
	uint32_t size = r->io.size, count = r->io.count;
	uint64_t off = r->io.data_offset;

	/* KVM fills these; still, never index past the kvm_run page. */
	if (size == 0 || size > 4 || count == 0 || off > run_size ||
	    (uint64_t)size * count > run_size - off)
		return VCPU_RESUME;
	*a = (struct vcpu_access){ .addr = r->io.port, .size = size,
				   .count = count, .data = (uint8_t *)r + off,
				   .write = r->io.direction == KVM_EXIT_IO_OUT };
	return VCPU_PIO;
}

static enum vcpu_action decode_mmio(struct kvm_run *r, struct vcpu_access *a)
{
	if (r->mmio.len == 0 || r->mmio.len > sizeof(r->mmio.data))
		return VCPU_RESUME;
	*a = (struct vcpu_access){ .addr = r->mmio.phys_addr,
				   .size = r->mmio.len, .count = 1,
				   .data = r->mmio.data,
				   .write = r->mmio.is_write != 0 };
	return VCPU_MMIO;
}

enum vcpu_action vcpu_exit_decode(struct kvm_run *r, size_t run_size,
				  struct vcpu_access *a, char *why,
				  size_t whylen)
{
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		return decode_io(r, run_size, a);
	case KVM_EXIT_MMIO:
		return decode_mmio(r, a);
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
		return VCPU_RESUME;
	case KVM_EXIT_DEBUG:
		return VCPU_DEBUG;
	case KVM_EXIT_SHUTDOWN:
		snprintf(why, whylen, "guest triple fault (KVM_EXIT_SHUTDOWN)");
		return VCPU_FATAL;
	case KVM_EXIT_SYSTEM_EVENT:
		if (r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ||
		    r->system_event.type == KVM_SYSTEM_EVENT_RESET)
			return VCPU_STOP_OK;
		snprintf(why, whylen, "system event %u", r->system_event.type);
		return VCPU_FATAL;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, whylen, "KVM entry failed, reason 0x%llx",
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		return VCPU_FATAL;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, whylen, "KVM internal error, suberror %u%s",
			 r->internal.suberror,
			 r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				 " (instruction emulation failed)" : "");
		return VCPU_FATAL;
	default:
		snprintf(why, whylen, "unexpected KVM exit reason %u",
			 r->exit_reason);
		return VCPU_FATAL;
	}
}
