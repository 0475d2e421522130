/*
 * The table-driven loader: reads a config file and key=value overrides
 * into an object described by a key table, and collects every error.
 *
 * Use:
 *	memset(obj, 0, ...);
 *	conf_init(&L, table, obj, ctx, file);	   defaults applied
 *	if (conf_read_file(&L) == 0) {		   the file could be read
 *		conf_apply_overrides(&L, n, args);  they win over the file
 *		conf_check(&L);			   required keys, files
 *		... caller's own cross-key checks, using conf_state() and
 *		    conf_error() ...
 *	}
 *	if (conf_finish(&L) < 0)		   prints the errors
 *		conf_free_values(table, obj);
 *
 * Errors are printed by conf_finish() to stderr as
 *	picovm: FILE:LINE: KEY: what was wrong; expected what
 *	picovm: command line: argument N: KEY: ...     (N counts overrides
 *						        from 1)
 *	picovm: FILE: ...				 (no line: whole file)
 * sorted by line, then argument, then the rest, whatever order they were
 * found in.
 */
#ifndef PICOVM_CONFIG_LOADER_H
#define PICOVM_CONFIG_LOADER_H

#include <stdbool.h>
#include <stdio.h>

#include "keytab.h"

/* Where an assignment came from.  line > 0: that line of the file;
 * arg > 0: that override; both 0: no particular place (a default). */
struct conf_where {
	int line;
	int arg;
};

/* The loader's record of one key (one device's key, for numbered keys). */
struct conf_slot {
	int line, arg;		/* where it was set; 0: not */
	bool line_bad, arg_bad;	/* that assignment's value was rejected */
};

struct conf_diag;

struct conf_loader {
	const struct key_table *t;
	void *obj;
	const void *ctx;
	const char *file;	/* as given, for messages */
	char *dir;		/* absolute folder of file, for its paths */
	char *cwd;		/* for overrides' paths; fetched when needed */
	struct conf_slot *slots;	/* nkeys * CONFIG_MAX_DEVICES */
	struct conf_diag *diags;
	size_t ndiags, cap;
	bool oom;		/* an allocation failed: the load fails */
};

/* Returns 0, or -ENOMEM (L needs no conf_finish then; obj may hold
 * defaults to free with conf_free_values). */
int conf_init(struct conf_loader *L, const struct key_table *t, void *obj,
	      const void *ctx, const char *file);
/* Returns 0, or -1 when the file could not be read (error recorded). */
int conf_read_file(struct conf_loader *L);
void conf_apply_overrides(struct conf_loader *L, int n,
			  char *const args[]);
void conf_check(struct conf_loader *L);
/* The state of an exact key name ("memory", "disk.3.path"): 1 set with a
 * good value (*w: where the winning assignment is), 0 not set (the default
 * holds, *w zero), -1 its value was rejected or the key is unknown. */
int conf_state(const struct conf_loader *L, const char *key,
	       struct conf_where *w);
/* Records an error.  key may be NULL; w NULL means no place. */
void conf_error(struct conf_loader *L, const struct conf_where *w,
		const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints the errors and releases the loader.  Returns 0 when there were
 * none, else -1. */
int conf_finish(struct conf_loader *L);

/* Frees the strings a table's keys hold in obj. */
void conf_free_values(const struct key_table *t, void *obj);

#endif
