/*
 * The config language's syntax: one line into key and value (the lexer),
 * the text of a value into a typed value (sizes, booleans, durations, ...;
 * then a key's own rules: range, alignment, choices, its check callback),
 * and the way back for printing (formatters, quoting).  See internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ---- the line lexer -------------------------------------------------- */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

bool cfg_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* Shows one character of the input in a message: as itself when it is
 * printable ASCII, else as \xNN, so messages stay one clean line. */
static void show_char(char ch, char *buf, size_t n)
{
	unsigned char u = (unsigned char)ch;

	if (u >= 0x20 && u < 0x7f)
		snprintf(buf, n, "%c", ch);
	else
		snprintf(buf, n, "\\x%02x", u);
}

static void set_error(struct cfg_line *out, enum cfg_lex_error e, const char *why)
{
	out->kind = CFG_ERROR;
	out->error = e;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

/* Unquotes the value that starts at the opening quote q.  Returns 0 with
 * out->value set, 1 with an error set, or -ENOMEM. */
static int lex_quoted(const char *q, const char *end, struct cfg_line *out)
{
	/* The unquoted text is never longer than the quoted one. */
	char *buf = malloc((size_t)(end - q) + 1);
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (q++;; q++) {
		if (q == end) {
			free(buf);
			set_error(out, CFG_LEX_UNTERMINATED,
				  "no closing quote; expected the value to end "
				  "with '\"' on the same line");
			return 1;
		}
		if (*q == '"')
			break;
		if (*q != '\\') {
			buf[n++] = *q;
			continue;
		}
		if (q + 1 == end) {
			free(buf);
			set_error(out, CFG_LEX_UNTERMINATED,
				  "no closing quote (the last '\"' is "
				  "escaped); expected the value to end with "
				  "'\"' on the same line");
			return 1;
		}
		q++;
		if (*q != '"' && *q != '\\') {
			char c[8], why[sizeof(out->why)];

			show_char(*q, c, sizeof(c));
			snprintf(why, sizeof(why),
				 "unknown escape '\\%s' in quotes; expected "
				 "only \\\" or \\\\", c);
			free(buf);
			set_error(out, CFG_LEX_BAD_ESCAPE, why);
			return 1;
		}
		buf[n++] = *q;
	}
	buf[n] = '\0';
	/* After the closing quote only whitespace and a comment may follow. */
	for (q++; q < end && is_space(*q); q++)
		;
	if (q < end && *q != '#') {
		free(buf);
		set_error(out, CFG_LEX_AFTER_QUOTE,
			  "text after the closing quote; expected the end of "
			  "the line or a # comment");
		return 1;
	}
	out->value = buf;
	out->quoted = true;
	return 0;
}

int cfg_lex(const char *line, size_t len, struct cfg_line *out)
{
	const char *end = line + len;
	const char *p = line;

	memset(out, 0, sizeof(*out));
	for (; p < end && is_space(*p); p++)
		;
	if (p == end || *p == '#') {
		out->kind = CFG_BLANK;
		return 0;
	}
	/* A NUL would cut the value short later, and a newline can only come
	 * from an override; neither belongs in a one-line assignment. */
	if (memchr(line, '\0', len) || memchr(line, '\n', len)) {
		set_error(out, CFG_LEX_CONTROL,
			  "contains a NUL or newline character; expected one "
			  "line of text");
		return 0;
	}
	const char *eq = p;
	while (eq < end && *eq != '=' && *eq != '#')
		eq++;
	if (eq == end || *eq == '#') {
		set_error(out, CFG_LEX_NO_EQUALS,
			  "no '=' in this line; expected key = value");
		return 0;
	}
	const char *kend = eq;
	while (kend > p && is_space(kend[-1]))
		kend--;
	if (kend == p) {
		set_error(out, CFG_LEX_EMPTY_KEY,
			  "nothing before '='; expected key = value");
		return 0;
	}
	out->key = strndup(p, (size_t)(kend - p));
	if (!out->key)
		return -ENOMEM;
	for (const char *k = p; k < kend; k++) {
		char c[8], why[sizeof(out->why)];

		if (cfg_key_char(*k))
			continue;
		if (is_space(*k)) {
			set_error(out, CFG_LEX_BAD_KEY,
				  "key contains a space; expected one word "
				  "before '='");
			return 0;
		}
		show_char(*k, c, sizeof(c));
		snprintf(why, sizeof(why),
			 "key contains '%s'; expected letters, digits, '.', "
			 "'_' and '-'", c);
		set_error(out, CFG_LEX_BAD_KEY, why);
		return 0;
	}

	const char *v = eq + 1;
	for (; v < end && is_space(*v); v++)
		;
	if (v < end && *v == '"') {
		int r = lex_quoted(v, end, out);
		if (r < 0) {
			cfg_line_free(out);
			return r;
		}
		if (r == 0)
			out->kind = CFG_ASSIGN;
		return 0;
	}
	const char *vend = v;
	while (vend < end && *vend != '#')
		vend++;
	while (vend > v && is_space(vend[-1]))
		vend--;
	out->value = strndup(v, (size_t)(vend - v));
	if (!out->value) {
		cfg_line_free(out);
		return -ENOMEM;
	}
	out->kind = CFG_ASSIGN;
	return 0;
}

void cfg_line_free(struct cfg_line *l)
{
	free(l->key);
	free(l->value);
	l->key = NULL;
	l->value = NULL;
}

/* ---- value types ----------------------------------------------------- */

/* Reads the leading run of decimal digits of s into *out; returns the
 * number of digits (0: none) or -ERANGE on overflow. */
static int leading_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (__builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (unsigned)(s[n] - '0'), &v))
			return -ERANGE;
		if (n == 1 << 20)	/* a sane bound on the loop, not a limit */
			return -ERANGE;
	}
	*out = v;
	return n;
}

int cfg_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = leading_u64(s, &v);

	if (n < 0)
		return n;
	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	/* Index i is the power of 1024 the suffix stands for. */
	static const char *const units[][2] = {
		{ "", "" }, { "k", "kib" }, { "m", "mib" }, { "g", "gib" },
		{ "t", "tib" },
	};
	uint64_t v = 0;
	int n = leading_u64(s, &v);

	if (n == 0)
		return -EINVAL;
	/* A bad suffix is a worse mistake than an overflow: report it even
	 * when the digits overflowed too. */
	const char *suffix = s + (n > 0 ? n : 0);
	if (n < 0) {
		while (*suffix >= '0' && *suffix <= '9')
			suffix++;
	}
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(suffix, units[i][0]) != 0 &&
		    strcasecmp(suffix, units[i][1]) != 0)
			continue;
		if (n < 0)
			return n;
		uint64_t mult = (uint64_t)1 << (10 * i);
		if (__builtin_mul_overflow(v, mult, &v))
			return -ERANGE;
		*out = v;
		return 0;
	}
	return -EINVAL;
}

int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "on", "yes", "1" };
	static const char *const no[] = { "false", "off", "no", "0" };

	for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int cfg_parse_duration(const char *s, uint64_t *out_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	uint64_t v = 0;
	int n = leading_u64(s, &v);

	if (n == 0)
		return -EINVAL;
	const char *unit = s;
	while (*unit >= '0' && *unit <= '9')
		unit++;
	if (*unit == '\0' && n > 0 && v == 0) {
		*out_ms = 0;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) != 0)
			continue;
		if (n < 0 || __builtin_mul_overflow(v, units[i].ms, &v))
			return -ERANGE;
		*out_ms = v;
		return 0;
	}
	return -EINVAL;
}

void cfg_format_size(uint64_t bytes, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	int i;

	/* Walk down from T to K and take the first unit that divides. */
	for (i = 3; i >= 0; i--) {
		uint64_t unit = (uint64_t)1 << (10 * (i + 1));
		if (bytes != 0 && bytes % unit == 0) {
			snprintf(buf, n, "%" PRIu64 "%c", bytes / unit, units[i]);
			return;
		}
	}
	snprintf(buf, n, "%" PRIu64, bytes);
}

void cfg_format_duration(uint64_t ms, char *buf, size_t n)
{
	if (ms == 0)
		snprintf(buf, n, "0");
	else if (ms % 3600000 == 0)
		snprintf(buf, n, "%" PRIu64 "h", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, n, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, n, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, n, "%" PRIu64 "ms", ms);
}

/* ---- one key's value ------------------------------------------------ */

/* A user's text as shown in a message: cut short when long. */
const char *cfg_shown(const char *text, char *buf, size_t n)
{
	size_t len = strlen(text);

	if (len < n)
		return text;
	snprintf(buf, n, "%.*s...", (int)(n - 4), text);
	return buf;
}

void *cfg_value_ptr(const struct cfg_key *k, void *obj, unsigned n)
{
	return (char *)obj + k->offset + (size_t)n * k->stride;
}

char *cfg_resolve(const char *base, const char *path)
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

static void format_number(const struct cfg_key *k, uint64_t v, char *buf,
			  size_t n)
{
	if (k->type == CFG_SIZE)
		cfg_format_size(v, buf, n);
	else if (k->type == CFG_DURATION)
		cfg_format_duration(v, buf, n);
	else
		snprintf(buf, n, "%" PRIu64, v);
}

/* min/max/align of numeric keys. */
static int check_range(const struct cfg_key *k, uint64_t v, char *why,
		       size_t wn)
{
	char sv[CFG_VALUE_BUF], smin[CFG_VALUE_BUF], smax[CFG_VALUE_BUF], range[64];
	bool low = v < k->min, high = k->max && v > k->max;
	bool unaligned = k->type == CFG_SIZE && k->align && v % k->align;

	/* The words only for an error: formatting them was a good part of
	 * a start's config time. */
	if (!low && !high && !unaligned)
		return 0;
	format_number(k, v, sv, sizeof(sv));
	format_number(k, k->min, smin, sizeof(smin));
	format_number(k, k->max, smax, sizeof(smax));
	if (k->max)
		snprintf(range, sizeof(range), "%s..%s", smin, smax);
	else
		snprintf(range, sizeof(range), "at least %s", smin);
	if (low) {
		snprintf(why, wn, "%s is below the minimum of %s; expected %s",
			 sv, smin, range);
	} else if (high) {
		snprintf(why, wn, "%s is above the maximum of %s; expected %s",
			 sv, smax, range);
	} else {
		char sa[CFG_VALUE_BUF];

		cfg_format_size(k->align, sa, sizeof(sa));
		snprintf(why, wn, "%s is not a multiple of %s; expected a "
			 "multiple of %s", sv, sa, sa);
	}
	return -1;
}

/* "auto, elf, pvh or bzimage"; last, when not NULL, is one more choice
 * at the end ("file:PATH"). */
static void list_choices(const struct cfg_key *k, const char *last,
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

static int find_choice(const struct cfg_key *k, const char *text)
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
	char sb[CFG_SHOWN_BUF];

	*out = NULL;
	if (text[0] != '/' && !base) {
		snprintf(why, wn, "cannot resolve '%s': the current folder is "
			 "unknown; expected an absolute path",
			 cfg_shown(text, sb, sizeof(sb)));
		return -1;
	}
	*out = cfg_resolve(base ? base : "/", text);
	return *out ? 0 : -ENOMEM;
}

int cfg_parse(const struct cfg_key *k, const char *text, const char *base,
	      const void *ctx, union cfg_value *v, char *why, size_t wn)
{
	char sb[CFG_SHOWN_BUF], list[128];
	const char *s = cfg_shown(text, sb, sizeof(sb));
	uint64_t u;
	int r, c;

	memset(v, 0, sizeof(*v));
	switch (k->type) {
	case CFG_STRING: {
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
	case CFG_PATH:
		if (text[0] == '\0') {
			if (k->flags & CFG_REQUIRED) {
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
	case CFG_ENUM:
		c = find_choice(k, text);
		if (c < 0) {
			list_choices(k, NULL, list, sizeof(list));
			snprintf(why, wn, "'%s' is not a valid choice; "
				 "expected %s", s, list);
			return -1;
		}
		v->u = (unsigned)c;
		break;
	case CFG_SINK:
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
	case CFG_SIZE:
		r = cfg_parse_size(text, &v->u64);
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
	case CFG_BOOL:
		if (cfg_parse_bool(text, &v->b)) {
			snprintf(why, wn, "'%s' is not a boolean; expected "
				 "true or false (or on/off, yes/no, 1/0)", s);
			return -1;
		}
		break;
	case CFG_UINT:
		r = cfg_parse_u64(text, &u);
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
	case CFG_DURATION:
		r = cfg_parse_duration(text, &v->u64);
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
		cfg_value_free(k, v);
		return -1;
	}
	return 0;
}

void cfg_value_free(const struct cfg_key *k, union cfg_value *v)
{
	if (k->type == CFG_STRING || k->type == CFG_PATH) {
		free(v->s);
		v->s = NULL;
	} else if (k->type == CFG_SINK) {
		free(v->sink.path);
		v->sink.path = NULL;
	}
}

void cfg_store(const struct cfg_key *k, void *obj, unsigned n,
		  const union cfg_value *v)
{
	void *p = cfg_value_ptr(k, obj, n);

	switch (k->type) {
	case CFG_STRING:
	case CFG_PATH:
		free(*(char **)p);
		*(char **)p = v->s;
		break;
	case CFG_SINK:
		free(((struct sink *)p)->path);
		*(struct sink *)p = v->sink;
		break;
	case CFG_ENUM:
	case CFG_UINT:
		*(unsigned *)p = v->u;
		break;
	case CFG_SIZE:
	case CFG_DURATION:
		*(uint64_t *)p = v->u64;
		break;
	case CFG_BOOL:
		*(bool *)p = v->b;
		break;
	}
}

/* ---- quoting for printing ------------------------------------------- */

/* Quotes are needed where the lexer would not return s verbatim: it trims
 * whitespace, ends an unquoted value at '#', unquotes a leading '"', and
 * an empty unquoted value reads fine but looks like a mistake. */
static bool needs_quotes(const char *s)
{
	return s[0] == '\0' || strpbrk(s, " \t\r\v\f#\"") != NULL;
}

void cfg_put_value(const char *s, FILE *out)
{
	if (!needs_quotes(s)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}
