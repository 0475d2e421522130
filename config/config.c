/*
 * config_load(): picovm's key table through the generic loader, plus the
 * rules that involve more than one key or the file name.  See config.h.
 */
#include "config.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "loader.h"
#include "value.h"

#define HUGEPAGE_SIZE (2ULL << 20)

/* `name` defaults to the config file's name without ".conf". */
static void default_name(struct conf_loader *L, struct config *c)
{
	struct conf_where w;
	char why[256];

	if (conf_state(L, "name", &w) != 0)
		return;		/* set, or set to something bad */
	char *copy = strdup(c->file);
	if (!copy) {
		L->oom = true;
		return;
	}
	char *base = basename(copy);
	size_t len = strlen(base);
	if (len >= 5 && strcmp(base + len - 5, ".conf") == 0)
		base[len - 5] = '\0';
	if (config_check_name(base, why, sizeof(why)) < 0) {
		conf_error(L, NULL, "name", "%s (the default name is the "
			   "config file name without .conf; set name to "
			   "choose another)", why);
	} else {
		c->name = strdup(base);
		if (!c->name)
			L->oom = true;
	}
	free(copy);
}

/* Huge pages map guest RAM in 2M pieces, so a partial one cannot be. */
static void check_hugepages(struct conf_loader *L, const struct config *c)
{
	struct conf_where wh, wm;
	char mem[VALUE_BUF];

	if (conf_state(L, "memory.hugepages", &wh) != 1 || !c->hugepages ||
	    conf_state(L, "memory", &wm) < 0 || c->memory % HUGEPAGE_SIZE == 0)
		return;
	value_format_size(c->memory, mem, sizeof(mem));
	conf_error(L, &wh, "memory.hugepages", "memory = %s is not a "
		   "multiple of 2M; expected memory to be a multiple of 2M "
		   "with huge pages", mem);
}

int config_load(struct config *c, const char *file, int noverrides,
		char *const overrides[], const struct config_limits *lim)
{
	static const struct config_limits builtin = {
		.max_vcpus = CONFIG_MAX_VCPUS,
	};
	struct conf_loader L;

	memset(c, 0, sizeof(*c));
	if (!lim)
		lim = &builtin;
	if (conf_init(&L, &config_keys, c, lim, file) < 0) {
		fprintf(stderr, "picovm: %s: out of memory\n", file);
		config_free(c);
		return -1;
	}
	c->file = strdup(file);
	if (!c->file)
		L.oom = true;
	else if (conf_read_file(&L) == 0) {
		conf_apply_overrides(&L, noverrides, overrides);
		conf_check(&L);
		default_name(&L, c);
		check_hugepages(&L, c);
	}
	if (conf_finish(&L) < 0) {
		config_free(c);
		return -1;
	}
	return 0;
}

void config_free(struct config *c)
{
	conf_free_values(&config_keys, c);
	free(c->file);
	memset(c, 0, sizeof(*c));
}
