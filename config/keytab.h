/*
 * Key tables: the data that drives the config loader (loader.c) and printer
 * (print.c).  An entry names a key, its value type, and where the value
 * lives in the target object, so the loader itself knows nothing of struct
 * config; the unit test drives it with a table of its own.
 *
 * Numbered keys.  A name with a component "N", like "disk.N.path", matches
 * "disk.0.path" .. "disk.15.path" (N decimal, no sign, no leading zero,
 * below CONFIG_MAX_DEVICES).  The value of device n lives at
 * offset + n * stride, i.e. in element n of an array of per-device structs,
 * and the loader sets the bool at present + n * stride when any key of
 * device n is given, so the rest of picovm can tell which devices exist.
 * Defaults apply to every element.  The entries of one device ("disk.N.*")
 * must be consecutive in the table: the printer groups them by device.
 */
#ifndef PICOVM_CONFIG_KEYTAB_H
#define PICOVM_CONFIG_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum key_type {
	KEY_STRING,	/* char * (heap) */
	KEY_PATH,	/* char * (heap), absolute; "" in the input: none
			   (NULL), allowed unless KEYF_REQUIRED */
	KEY_ENUM,	/* unsigned (an enum): index of the name in choices */
	KEY_SINK,	/* struct sink: choices[kind], or "file:PATH" */
	KEY_SIZE,	/* uint64_t bytes */
	KEY_BOOL,	/* bool */
	KEY_UINT,	/* unsigned */
	KEY_DURATION,	/* uint64_t milliseconds */
};

/* A parsed value, before it is stored; what check() callbacks see. */
union key_value {
	char *s;		/* KEY_STRING, KEY_PATH */
	unsigned u;		/* KEY_ENUM, KEY_UINT */
	struct sink sink;	/* KEY_SINK */
	uint64_t u64;		/* KEY_SIZE, KEY_DURATION */
	bool b;			/* KEY_BOOL */
};

#define KEYF_REQUIRED	(1u << 0) /* must be given (file or override) */
#define KEYF_FILE	(1u << 1) /* KEY_PATH: must name a readable regular
				     file when loading ends */
#define KEYF_BLOCKDEV	(1u << 2) /* with KEYF_FILE: a block device too */

struct key_def {
	const char *name;	/* "memory"; "disk.N.path" when numbered */
	enum key_type type;
	unsigned flags;		/* KEYF_* */
	size_t offset;		/* of the value (device 0's) in the object */
	size_t stride;		/* numbered: bytes from device n to n + 1 */
	size_t present;		/* numbered: offset of device 0's bool */
	/* The default in config syntax, parsed like any value; NULL leaves
	 * the zeroed object alone (NULL string, 0, false). */
	const char *def;
	/* KEY_SIZE, KEY_UINT, KEY_DURATION: allowed range; max 0: none.
	 * KEY_STRING: allowed length in bytes, same convention. */
	uint64_t min, max;
	uint64_t align;		/* KEY_SIZE: must be a multiple of this */
	/* KEY_ENUM: names by value.  KEY_SINK: names by enum sink_kind,
	 * NULL for kinds the key does not offer (SINK_FILE is always
	 * spelled "file:PATH"). */
	const char *const *choices;
	unsigned nchoices;
	/* A further check of a parsed value that passed the checks above:
	 * returns 0, or -1 with "what was wrong; expected what" in why.  ctx
	 * is what the caller handed the loader (picovm: the limits). */
	int (*check)(const union key_value *v, const void *ctx, char *why,
		     size_t n);
	const char *def_doc;	/* for --help when def is NULL */
	const char *help;	/* one line for --help */
};

struct key_table {
	const struct key_def *keys;
	size_t nkeys;
};

bool key_is_numbered(const struct key_def *k);
/* How many values an entry has: CONFIG_MAX_DEVICES when numbered, else 1. */
unsigned key_slots(const struct key_def *k);
/* Writes the name of device n's key ("disk.3.path") into buf. */
void key_name(const struct key_def *k, unsigned n, char *buf, size_t len);
/* Length of the part before the "N" component ("disk." -> 5); 0 when the
 * entry is not numbered.  Entries with the same prefix form one device. */
size_t key_prefix_len(const struct key_def *k);

/* Looks key up.  Returns the entry's index with *n set to the device
 * number (0 when not numbered); -1 when no entry matches; -2 when a
 * numbered entry matches except for a bad device number, with "what was
 * wrong; expected what" in why. */
long keytab_find(const struct key_table *t, const char *key, unsigned *n,
		 char *why, size_t wn);
/* The key the user probably meant when key is unknown: writes it into buf
 * and returns true, or returns false. */
bool keytab_suggest(const struct key_table *t, const char *key, char *buf,
		    size_t n);

#endif
