/*
 * picovm's own ports (ports.h): the exit port, through which a guest hands
 * `picovm run` its exit status (how a CI job inside a VM reports), and the
 * boot-timer port, which logs the time since picovm started, once (again
 * after a restore), and the snapshot port (vm/snapshot.c), which reads as
 * the number of restores the VM has been through (mod 256: saved with a
 * snapshot, one more after each restore), so that a guest can tell, after
 * its write, whether it runs on in a restored VM.
 */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "ports.h"
#include "../vm/log.h"
#include "../vm/machine.h"

struct debugport {
	struct machine *m;
	atomic_bool boot_time_logged;
	_Atomic uint8_t restores;
};

static void debugport_access(void *opaque, uint64_t off, uint8_t *data,
			     uint32_t len, bool is_write)
{
	struct debugport *p = opaque;
	uint16_t port = (uint16_t)(PICOVM_PORT_EXIT + off);

	if (!is_write) {
		memset(data, 0xff, len);
		unsigned at = PICOVM_PORT_SNAPSHOT - (unsigned)port;
		if (port <= PICOVM_PORT_SNAPSHOT && at < len)
			data[at] = atomic_load(&p->restores);
		return;
	}
	if (port == PICOVM_PORT_EXIT) {
		machine_stop(p->m, data[0], NULL);
	} else if (port == PICOVM_PORT_SNAPSHOT) {
		machine_snapshot_request(p->m);
	} else if (port == PICOVM_PORT_BOOTTIME &&
		   !atomic_exchange(&p->boot_time_logged, true)) {
		uint64_t ns = log_ns_since_start(), one = 1;

		/* The control thread reports it (status, READY=1). */
		atomic_store(&p->m->boot_ns, ns ? ns : 1);
		if (p->m->event_efd >= 0 &&
		    write(p->m->event_efd, &one, sizeof(one)) < 0)
			log_err("boot-timer: cannot wake the control thread");
		uint64_t run = atomic_load(&p->m->run_ns);
		log_info("boot-timer: %llu.%03llu ms since picovm started "
			 "(vCPUs in KVM_RUN from %llu.%03llu ms)",
			 (unsigned long long)(ns / 1000000),
			 (unsigned long long)(ns / 1000 % 1000),
			 (unsigned long long)(run / 1000000),
			 (unsigned long long)(run / 1000 % 1000));
	}
}

static int debugport_create(struct machine *m, unsigned flags, void **dev)
{
	struct debugport *p = legacy_new(m, "debug ports", sizeof(*p),
					 PICOVM_PORT_EXIT, PICOVM_PORT_SNAPSHOT -
					 PICOVM_PORT_EXIT + 1, debugport_access);

	(void)flags;
	if (!p)
		return -1;
	p->m = m;
	*dev = p;
	return 0;
}

static size_t debugport_save(void *dev, uint8_t *b)
{
	struct debugport *p = dev;

	b[0] = atomic_load(&p->restores);
	return 1;
}

static int debugport_restore(void *dev, const uint8_t *b, size_t len)
{
	struct debugport *p = dev;

	if (len != 1)
		return legacy_bad_state("debug ports", len, 1);
	atomic_store(&p->restores, b[0]);
	return 0;
}

static void debugport_restored(void *dev)
{
	struct debugport *p = dev;

	atomic_fetch_add(&p->restores, 1);
}

const struct legacy_ops debugport_legacy = {
	.name = "debug ports",
	.create = debugport_create,
	.destroy = legacy_free,
	.save = debugport_save,
	.restore = debugport_restore,
	.restored = debugport_restored,
};
