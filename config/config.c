/*
 * config_load(): picovm's key table through the generic loader, plus the
 * rules that involve more than one key or the file name.  See config.h.
 */
#include "config.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys.h"
#include "loader.h"
#include "value.h"

#define HUGEPAGE_SIZE (2ULL << 20)

/* The default MAC of net.N: locally administered (02), 'p' (0x70), three
 * bytes of an FNV-1a hash of the VM name, N: stable across runs. */
static void tap_mac_default(const char *name, unsigned n, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x70;
	mac[2] = (uint8_t)(h >> 16);
	mac[3] = (uint8_t)(h >> 8);
	mac[4] = (uint8_t)h;
	mac[5] = (uint8_t)n;
}

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

/* Each net.N needs exactly one of tap and fd; fill in the MAC and fd. */
static void check_nets(struct conf_loader *L, struct config *c)
{
	for (unsigned n = 0; n < CONFIG_MAX_DEVICES; n++) {
		struct net_config *nc = &c->net[n];
		char key[32];
		struct conf_where w;

		nc->fd = -1;
		if (!nc->present)
			continue;
		snprintf(key, sizeof(key), "net.%u.fd", n);
		int has_fd = conf_state(L, key, &w);
		snprintf(key, sizeof(key), "net.%u.tap", n);
		int has_tap = conf_state(L, key, &w);
		if (has_fd < 0 || has_tap < 0)
			continue;	/* already reported */
		/* "" and 0 are how `check` prints "none". */
		has_fd = has_fd && nc->fd_key != 0;
		has_tap = has_tap && nc->tap && *nc->tap;
		if (has_fd && has_tap)
			conf_error(L, &w, key, "set either net.%u.tap or net.%u.fd, "
				   "not both", n, n);
		else if (!has_fd && !has_tap)
			conf_error(L, NULL, key, "net.%u needs net.%u.tap (a tap "
				   "name or auto) or net.%u.fd", n, n, n);
		if (has_fd == 1) {
			nc->fd = (int)nc->fd_key;
			/* One descriptor drives one device. */
			for (unsigned m = 0; m < n; m++)
				if (c->net[m].fd == nc->fd) {
					snprintf(key, sizeof(key), "net.%u.fd", n);
					conf_state(L, key, &w);
					conf_error(L, &w, key, "descriptor %d is "
						   "already net.%u.fd; expected one "
						   "descriptor per net", nc->fd, m);
				}
		}
		if (nc->mac && *nc->mac)
			config_parse_mac(nc->mac, nc->mac_bytes);
		else if (c->name)
			tap_mac_default(c->name, n, nc->mac_bytes);
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool is_path(const char *path, const struct stat *st)
{
	struct stat s;

	return path && *path && stat(path, &s) == 0 && same_file(&s, st);
}

bool config_is_input(const struct config *c, const struct stat *st,
		     char *key, size_t n)
{
	if (is_path(c->kernel, st)) {
		snprintf(key, n, "kernel");
		return true;
	}
	if (is_path(c->initrd, st)) {
		snprintf(key, n, "initrd");
		return true;
	}
	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++)
		if (c->disk[i].present && is_path(c->disk[i].path, st)) {
			snprintf(key, n, "disk.%u.path", i);
			return true;
		}
	return false;
}

/* Outputs must not be inputs (serial truncates its file; both write), and
 * serial and log must be different files: serial does not append, so it
 * would write over the log's lines. */
static void check_sinks(struct conf_loader *L, const struct config *c)
{
	static const char *const keys[2] = { "serial", "log" };
	const struct sink *s[2] = { &c->serial, &c->log };
	struct stat st[2];
	bool exists[2] = { false, false };

	for (int i = 0; i < 2; i++) {
		struct conf_where w;
		char key[32];

		if (s[i]->kind != SINK_FILE || conf_state(L, keys[i], &w) < 0)
			continue;
		exists[i] = stat(s[i]->path, &st[i]) == 0;
		if (exists[i] && config_is_input(c, &st[i], key, sizeof(key)))
			conf_error(L, &w, keys[i], "'%s' is also %s: picovm "
				   "would write over it; expected a file of "
				   "its own", s[i]->path, key);
	}
	/* Compared by name too: neither may exist yet. */
	struct conf_where w;
	if (s[0]->kind == SINK_FILE && s[1]->kind == SINK_FILE &&
	    conf_state(L, "log", &w) >= 0 && conf_state(L, "serial", &w) >= 0 &&
	    ((exists[0] && exists[1] && same_file(&st[0], &st[1])) ||
	     strcmp(s[0]->path, s[1]->path) == 0)) {
		conf_state(L, "log", &w);
		conf_error(L, &w, "log", "'%s' is also serial: the console "
			   "would write over picovm's messages; expected a "
			   "file of its own", s[1]->path);
	}
}

/* One image, two disks: the flock of a writable one would refuse the
 * other with a misleading "in use by another process"; say what it is. */
static void check_disks(struct conf_loader *L, const struct config *c)
{
	struct stat st[CONFIG_MAX_DEVICES];
	bool ok[CONFIG_MAX_DEVICES];

	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++) {
		const struct disk_config *d = &c->disk[i];
		char key[32];
		struct conf_where w;

		snprintf(key, sizeof(key), "disk.%u.path", i);
		ok[i] = d->present && d->path && conf_state(L, key, &w) == 1 &&
			stat(d->path, &st[i]) == 0;
		for (unsigned j = 0; ok[i] && j < i; j++) {
			const struct disk_config *e = &c->disk[j];
			bool writes = (!d->readonly && !d->ephemeral) ||
				      (!e->readonly && !e->ephemeral);
			if (ok[j] && writes && same_file(&st[i], &st[j]))
				conf_error(L, &w, key, "'%s' is also disk.%u.path "
					   "and one of them is writable; expected "
					   "an image of its own (or both readonly "
					   "or ephemeral)", d->path, j);
		}
	}
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
		check_nets(&L, c);
		check_sinks(&L, c);
		check_disks(&L, c);
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
