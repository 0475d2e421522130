/* The common part of the legacy devices' lifecycle; see devices.h. */
#include "devices.h"

#include <stdlib.h>
#include <string.h>

#include "../vm/log.h"
#include "../vm/machine.h"

void *legacy_new(struct machine *m, const char *name, size_t size,
		 uint16_t base, uint16_t len, bus_fn fn)
{
	void *dev = calloc(1, size);

	if (!dev) {
		log_err("%s: out of memory", name);
		return NULL;
	}
	int ret = bus_add(&m->pio, base, len, fn, dev);
	if (ret < 0) {
		log_err("%s: cannot register ports 0x%x-0x%x: %s", name, base,
			base + len - 1u, strerror(-ret));
		free(dev);
		return NULL;
	}
	return dev;
}

int legacy_bad_state(const char *name, size_t len, size_t want)
{
	if (len != want)
		log_err("restore: %s: %zu bytes of state, expected %zu", name,
			len, want);
	else
		log_err("restore: %s: a register value out of range", name);
	return -1;
}

void legacy_free(void *dev)
{
	free(dev);
}
