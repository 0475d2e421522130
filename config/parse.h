/*
 * One key's value: parsing its text by the key's type and rules (ranges,
 * alignment, choices, the check callback), and moving the result into the
 * object the key table describes.  The loader decides which text goes to
 * which key; this file decides what the text means.
 */
#ifndef PICOVM_CONFIG_PARSE_H
#define PICOVM_CONFIG_PARSE_H

#include <stddef.h>

#include "keytab.h"

/* Parses text as k's value into *v.  base is the absolute folder relative
 * paths start from (NULL: unknown, so only absolute paths are accepted);
 * ctx goes to k->check.  Returns 0, -1 with "what was wrong; expected
 * what" in why, or -ENOMEM. */
int key_parse(const struct key_def *k, const char *text, const char *base,
	      const void *ctx, union key_value *v, char *why, size_t wn);
/* Moves *v into device n's value of k in obj, freeing what it replaces. */
void key_store(const struct key_def *k, void *obj, unsigned n,
	       const union key_value *v);
/* Frees what a parsed value owns (when it is not stored). */
void key_value_free(const struct key_def *k, union key_value *v);
/* Where device n's value of k lives in obj. */
void *key_value_ptr(const struct key_def *k, void *obj, unsigned n);

/* Resolves a relative path against the absolute folder base; returns a
 * heap string or NULL. */
char *conf_resolve(const char *base, const char *path);
/* A user's text as shown in a message: itself, or its start and "..." in
 * buf when it is long. */
#define SHOWN_BUF 64
const char *conf_shown(const char *text, char *buf, size_t n);

#endif
