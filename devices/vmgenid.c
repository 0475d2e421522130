/*
 * The VM generation ID (Microsoft's "Virtual Machine Generation ID"
 * specification; Linux's vmgenid driver): 16 random bytes in guest memory
 * at PICOVM_VMGENID_ADDR, which the SSDT's \_SB.VGEN.ADDR names
 * (boot/vmgenid.c).  Every picovm process that runs a VM writes a new ID
 * before the first instruction: a boot gets its first one, a restore its
 * own, so two clones of one snapshot differ and differ from the VM that
 * was snapshotted.  After a restore it raises GPE 0 as well
 * (devices/acpi_pm.c), whose \_GPE._E00 notifies VGEN: Linux then reads
 * the new ID and reseeds its random number generator
 * (add_vmfork_randomness).  No ports; the ID is guest RAM, so a snapshot
 * saves it with the memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "devices.h"
#include "ports.h"
#include "../vm/log.h"
#include "../vm/machine.h"

struct vmgenid {
	struct machine *m;
};

/* A new random ID into guest memory; -1 after printing why not. */
static int vmgenid_new(struct machine *m)
{
	uint8_t *id = gmem_ptr(&m->mem, PICOVM_VMGENID_ADDR, PICOVM_VMGENID_LEN);
	uint8_t v[PICOVM_VMGENID_LEN];
	size_t n = 0;

	while (id && n < sizeof(v)) {
		ssize_t r = getrandom(v + n, sizeof(v) - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			log_err("VM generation ID: getrandom: %s",
				r < 0 ? strerror(errno) : "no bytes");
			return -1;
		}
		n += (size_t)r;
	}
	if (!id) {
		log_err("VM generation ID: 0x%x is not guest RAM",
			PICOVM_VMGENID_ADDR);
		return -1;
	}
	memcpy(id, v, sizeof(v));
	return 0;
}

static int vmgenid_create(struct machine *m, unsigned flags, void **dev)
{
	if (!(flags & LEGACY_ACPI))
		return 0;
	struct vmgenid *g = calloc(1, sizeof(*g));
	if (!g) {
		log_err("VM generation ID: out of memory");
		return -1;
	}
	g->m = m;
	if (vmgenid_new(m) < 0) {
		free(g);
		return -1;
	}
	*dev = g;
	return 0;
}

/* Every device's state is back, no vCPU has run: the guest learns. */
static void vmgenid_restored(void *dev)
{
	struct vmgenid *g = dev;

	if (g->m->gpe_raise)
		g->m->gpe_raise(g->m->gpe_dev, PICOVM_GPE_VMGENID);
}

const struct legacy_ops vmgenid_legacy = {
	.name = "VM generation ID",
	.create = vmgenid_create,
	.destroy = legacy_free,
	.restored = vmgenid_restored,
};
