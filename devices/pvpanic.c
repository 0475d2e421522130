/*
 * Panic notification, QEMU's pvpanic at the same I/O port (0x505): a read
 * returns the events picovm understands, a write reports one.  Linux's
 * pvpanic driver (the ACPI-probed one, CONFIG_PVPANIC_MMIO, bound to the
 * DSDT's QEMU0001 device, boot/acpi.c) writes PANICKED from its panic
 * notifier, before `panic=N` reboots the machine or `panic=0` spins, so a
 * panicked guest ends the VM with EXIT_VM_PANIC instead of looking like a
 * clean reset (status 0) or running into the timeout.
 *
 * PANICKED (bit 0): stop with EXIT_VM_PANIC and one line on stderr.
 * CRASH_LOADED (bit 1): the kernel panicked with a crash kernel loaded and
 * goes on into it; only logged, once (the guest may write it in a loop).
 */
#include <stdatomic.h>
#include <string.h>

#include "devices.h"
#include "ports.h"
#include "../vm/log.h"
#include "../vm/machine.h"

#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02

struct pvpanic {
	struct machine *m;
	atomic_bool crash_loaded_logged;
};

static void pvpanic_access(void *opaque, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	struct pvpanic *p = opaque;

	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		data[0] = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
		return;
	}
	if (data[0] & PVPANIC_PANICKED)
		machine_stop(p->m, EXIT_VM_PANIC, "the guest kernel panicked");
	else if ((data[0] & PVPANIC_CRASH_LOADED) &&
		 !atomic_exchange(&p->crash_loaded_logged, true))
		log_info("pvpanic: the guest kernel panicked and went on into "
			 "its crash kernel");
}

static int pvpanic_create(struct machine *m, unsigned flags, void **dev)
{
	struct pvpanic *p = legacy_new(m, "pvpanic", sizeof(*p),
				       PICOVM_PORT_PVPANIC, 1, pvpanic_access);

	(void)flags;
	if (!p)
		return -1;
	p->m = m;
	*dev = p;
	return 0;
}

const struct legacy_ops pvpanic_legacy = {
	.name = "pvpanic",
	.create = pvpanic_create,
	.destroy = legacy_free,
};
