/* Parsing one key's value and storing it in the object; see parse.h. */
#include "parse.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "value.h"

/* A user's text as shown in a message: cut short when long. */
const char *conf_shown(const char *text, char *buf, size_t n)
{
	size_t len = strlen(text);

	if (len < n)
		return text;
	snprintf(buf, n, "%.*s...", (int)(n - 4), text);
	return buf;
}

void *key_value_ptr(const struct key_def *k, void *obj, unsigned n)
{
	return (char *)obj + k->offset + (size_t)n * k->stride;
}

char *conf_resolve(const char *base, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	/* "./x" is "x"; dropping the prefix is exact, unlike "..". */
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	if (path[0] == '\0' || strcmp(path, ".") == 0)
		return strdup(base);
	size_t bl = strlen(base);
	bool slash = bl > 0 && base[bl - 1] == '/';
	if (asprintf(&out, "%s%s%s", base, slash ? "" : "/", path) < 0)
		return NULL;
	return out;
}

static void format_number(const struct key_def *k, uint64_t v, char *buf,
			  size_t n)
{
	if (k->type == KEY_SIZE)
		value_format_size(v, buf, n);
	else if (k->type == KEY_DURATION)
		value_format_duration(v, buf, n);
	else
		snprintf(buf, n, "%" PRIu64, v);
}

/* min/max/align of numeric keys. */
static int check_range(const struct key_def *k, uint64_t v, char *why,
		       size_t wn)
{
	char sv[VALUE_BUF], smin[VALUE_BUF], smax[VALUE_BUF], range[64];

	format_number(k, v, sv, sizeof(sv));
	format_number(k, k->min, smin, sizeof(smin));
	format_number(k, k->max, smax, sizeof(smax));
	if (k->max)
		snprintf(range, sizeof(range), "%s..%s", smin, smax);
	else
		snprintf(range, sizeof(range), "at least %s", smin);
	if (v < k->min) {
		snprintf(why, wn, "%s is below the minimum of %s; expected %s",
			 sv, smin, range);
		return -1;
	}
	if (k->max && v > k->max) {
		snprintf(why, wn, "%s is above the maximum of %s; expected %s",
			 sv, smax, range);
		return -1;
	}
	if (k->type == KEY_SIZE && k->align && v % k->align) {
		char sa[VALUE_BUF];

		value_format_size(k->align, sa, sizeof(sa));
		snprintf(why, wn, "%s is not a multiple of %s; expected a "
			 "multiple of %s", sv, sa, sa);
		return -1;
	}
	return 0;
}

/* "auto, elf, pvh or bzimage"; last, when not NULL, is one more choice
 * at the end ("file:PATH"). */
static void list_choices(const struct key_def *k, const char *last,
			 char *buf, size_t n)
{
	const char *names[16];
	unsigned count = 0;
	size_t used = 0;

	for (unsigned i = 0; i < k->nchoices && count < 15; i++) {
		if (k->choices[i])
			names[count++] = k->choices[i];
	}
	if (last)
		names[count++] = last;
	buf[0] = '\0';
	for (unsigned i = 0; i < count && used < n; i++) {
		int r = snprintf(buf + used, n - used, "%s%s",
				 i == 0 ? "" : i + 1 == count ? " or " : ", ",
				 names[i]);
		if (r < 0)
			break;
		used += (size_t)r;
	}
}

static int find_choice(const struct key_def *k, const char *text)
{
	for (unsigned i = 0; i < k->nchoices; i++) {
		if (k->choices[i] && strcasecmp(text, k->choices[i]) == 0)
			return (int)i;
	}
	return -1;
}

static int parse_path(const char *text, const char *base, char **out,
		      char *why, size_t wn)
{
	char sb[SHOWN_BUF];

	*out = NULL;
	if (text[0] != '/' && !base) {
		snprintf(why, wn, "cannot resolve '%s': the current folder is "
			 "unknown; expected an absolute path",
			 conf_shown(text, sb, sizeof(sb)));
		return -1;
	}
	*out = conf_resolve(base ? base : "/", text);
	return *out ? 0 : -ENOMEM;
}

int key_parse(const struct key_def *k, const char *text, const char *base,
	      const void *ctx, union key_value *v, char *why, size_t wn)
{
	char sb[SHOWN_BUF], list[128];
	const char *s = conf_shown(text, sb, sizeof(sb));
	uint64_t u;
	int r, c;

	memset(v, 0, sizeof(*v));
	switch (k->type) {
	case KEY_STRING: {
		size_t len = strlen(text);
		if (len < k->min) {
			snprintf(why, wn, "'%s' is too short; expected at "
				 "least %" PRIu64 " bytes", s, k->min);
			return -1;
		}
		if (k->max && len > k->max) {
			snprintf(why, wn, "the value is %zu bytes long; "
				 "expected at most %" PRIu64 " bytes", len,
				 k->max);
			return -1;
		}
		v->s = strdup(text);
		if (!v->s)
			return -ENOMEM;
		break;
	}
	case KEY_PATH:
		if (text[0] == '\0') {
			if (k->flags & KEYF_REQUIRED) {
				snprintf(why, wn, "empty path; expected a "
					 "file name");
				return -1;
			}
			break;	/* none */
		}
		r = parse_path(text, base, &v->s, why, wn);
		if (r)
			return r;
		break;
	case KEY_ENUM:
		c = find_choice(k, text);
		if (c < 0) {
			list_choices(k, NULL, list, sizeof(list));
			snprintf(why, wn, "'%s' is not a valid choice; "
				 "expected %s", s, list);
			return -1;
		}
		v->u = (unsigned)c;
		break;
	case KEY_SINK:
		if (strncasecmp(text, "file:", 5) == 0) {
			if (text[5] == '\0') {
				snprintf(why, wn, "no path after 'file:'; "
					 "expected file:PATH");
				return -1;
			}
			v->sink.kind = SINK_FILE;
			r = parse_path(text + 5, base, &v->sink.path, why,
				       wn);
			if (r)
				return r;
			break;
		}
		c = find_choice(k, text);
		if (c < 0 || c == SINK_FILE) {
			list_choices(k, "file:PATH", list, sizeof(list));
			snprintf(why, wn, "'%s' is not a valid output; "
				 "expected %s", s, list);
			return -1;
		}
		v->sink.kind = (enum sink_kind)c;
		break;
	case KEY_SIZE:
		r = value_parse_size(text, &v->u64);
		if (r == -ERANGE) {
			snprintf(why, wn, "'%s' is too large; expected a size "
				 "below 16 EiB", s);
			return -1;
		}
		if (r) {
			snprintf(why, wn, "'%s' is not a size; expected a "
				 "number of bytes with an optional K, M, G or "
				 "T suffix, like 512M", s);
			return -1;
		}
		if (check_range(k, v->u64, why, wn))
			return -1;
		break;
	case KEY_BOOL:
		if (value_parse_bool(text, &v->b)) {
			snprintf(why, wn, "'%s' is not a boolean; expected "
				 "true or false (or on/off, yes/no, 1/0)", s);
			return -1;
		}
		break;
	case KEY_UINT:
		r = value_parse_u64(text, &u);
		if (r == -EINVAL) {
			snprintf(why, wn, "'%s' is not a whole number; "
				 "expected decimal digits, like 2", s);
			return -1;
		}
		if (r == -ERANGE || u > UINT_MAX) {
			snprintf(why, wn, "'%s' is too large; expected a "
				 "number below %u", s, UINT_MAX);
			return -1;
		}
		if (check_range(k, u, why, wn))
			return -1;
		v->u = (unsigned)u;
		break;
	case KEY_DURATION:
		r = value_parse_duration(text, &v->u64);
		if (r == -ERANGE) {
			snprintf(why, wn, "'%s' is too long; expected a "
				 "shorter duration", s);
			return -1;
		}
		if (r) {
			snprintf(why, wn, "'%s' is not a duration; expected a "
				 "number with a unit ms, s, m or h, like 30s "
				 "(or 0)", s);
			return -1;
		}
		if (check_range(k, v->u64, why, wn))
			return -1;
		break;
	}
	if (k->check && k->check(v, ctx, why, wn)) {
		key_value_free(k, v);
		return -1;
	}
	return 0;
}

void key_value_free(const struct key_def *k, union key_value *v)
{
	if (k->type == KEY_STRING || k->type == KEY_PATH) {
		free(v->s);
		v->s = NULL;
	} else if (k->type == KEY_SINK) {
		free(v->sink.path);
		v->sink.path = NULL;
	}
}

void key_store(const struct key_def *k, void *obj, unsigned n,
		  const union key_value *v)
{
	void *p = key_value_ptr(k, obj, n);

	switch (k->type) {
	case KEY_STRING:
	case KEY_PATH:
		free(*(char **)p);
		*(char **)p = v->s;
		break;
	case KEY_SINK:
		free(((struct sink *)p)->path);
		*(struct sink *)p = v->sink;
		break;
	case KEY_ENUM:
	case KEY_UINT:
		*(unsigned *)p = v->u;
		break;
	case KEY_SIZE:
	case KEY_DURATION:
		*(uint64_t *)p = v->u64;
		break;
	case KEY_BOOL:
		*(bool *)p = v->b;
		break;
	}
}
