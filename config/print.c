/* Printing through a key table; see print.h. */
#include "print.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "keys.h"
#include "value.h"

/* Quotes are needed where the lexer would not return s verbatim: it trims
 * whitespace, ends an unquoted value at '#', unquotes a leading '"', and
 * an empty unquoted value reads fine but looks like a mistake. */
static bool needs_quotes(const char *s)
{
	return s[0] == '\0' || strpbrk(s, " \t\r\v\f#\"") != NULL;
}

void conf_put_value(const char *s, FILE *out)
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

static const void *value_at(const struct key_def *k, const void *obj,
			    unsigned n)
{
	return (const char *)obj + k->offset + (size_t)n * k->stride;
}

static bool present(const struct key_def *k, const void *obj, unsigned n)
{
	return *(const bool *)((const char *)obj + k->present +
			       (size_t)n * k->stride);
}

static void print_one(const struct key_def *k, const void *obj, unsigned n,
		      FILE *out)
{
	const void *p = value_at(k, obj, n);
	char name[128], buf[VALUE_BUF];

	key_name(k, n, name, sizeof(name));
	fprintf(out, "%s = ", name);
	switch (k->type) {
	case KEY_STRING:
	case KEY_PATH: {
		const char *s = *(char *const *)p;
		conf_put_value(s ? s : "", out);
		break;
	}
	case KEY_ENUM: {
		unsigned v = *(const unsigned *)p;
		conf_put_value(v < k->nchoices && k->choices[v] ?
				       k->choices[v] : "?", out);
		break;
	}
	case KEY_SINK: {
		const struct sink *s = p;
		unsigned kind = (unsigned)s->kind;
		if (s->kind == SINK_FILE) {
			char *text;
			if (asprintf(&text, "file:%s", s->path) >= 0) {
				conf_put_value(text, out);
				free(text);
			}
		} else {
			conf_put_value(kind < k->nchoices && k->choices[kind] ?
					       k->choices[kind] : "?", out);
		}
		break;
	}
	case KEY_SIZE:
		value_format_size(*(const uint64_t *)p, buf, sizeof(buf));
		fputs(buf, out);
		break;
	case KEY_DURATION:
		value_format_duration(*(const uint64_t *)p, buf, sizeof(buf));
		fputs(buf, out);
		break;
	case KEY_BOOL:
		fputs(*(const bool *)p ? "true" : "false", out);
		break;
	case KEY_UINT:
		fprintf(out, "%u", *(const unsigned *)p);
		break;
	}
	fputc('\n', out);
}

/* One past the last entry of the device whose first entry is i. */
static size_t device_end(const struct key_table *t, size_t i)
{
	const struct key_def *k = &t->keys[i];
	size_t pre = key_prefix_len(k), j = i + 1;

	while (j < t->nkeys && key_prefix_len(&t->keys[j]) == pre &&
	       strncmp(t->keys[j].name, k->name, pre) == 0)
		j++;
	return j;
}

void conf_print(const struct key_table *t, const void *obj, FILE *out)
{
	for (size_t i = 0; i < t->nkeys;) {
		const struct key_def *k = &t->keys[i];

		if (!key_is_numbered(k)) {
			print_one(k, obj, 0, out);
			i++;
			continue;
		}
		size_t end = device_end(t, i);
		for (unsigned n = 0; n < CONFIG_MAX_DEVICES; n++) {
			if (!present(k, obj, n))
				continue;
			for (size_t j = i; j < end; j++)
				print_one(&t->keys[j], obj, n, out);
		}
		i = end;
	}
}

/* "size", "auto|elf|pvh|bzimage", "stdout|none|file:PATH", ... */
static void type_doc(const struct key_def *k, FILE *out)
{
	static const char *const names[] = {
		[KEY_STRING] = "string", [KEY_PATH] = "path",
		[KEY_SIZE] = "size",	 [KEY_BOOL] = "bool",
		[KEY_UINT] = "integer",	 [KEY_DURATION] = "duration",
	};
	bool first = true;

	if (k->type != KEY_ENUM && k->type != KEY_SINK) {
		fputs(names[k->type], out);
		return;
	}
	for (unsigned i = 0; i < k->nchoices; i++) {
		if (!k->choices[i])
			continue;
		fprintf(out, "%s%s", first ? "" : "|", k->choices[i]);
		first = false;
	}
	if (k->type == KEY_SINK)
		fprintf(out, "%sfile:PATH", first ? "" : "|");
}

void conf_help(const struct key_table *t, FILE *out)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct key_def *k = &t->keys[i];

		fprintf(out, "  %s = ", k->name);
		type_doc(k, out);
		if (k->flags & KEYF_REQUIRED)
			fputs("  (required)", out);
		else if (k->def && k->def[0])
			fprintf(out, "  (default %s)", k->def);
		else if (k->def)
			fputs("  (default \"\")", out);
		else if (k->def_doc)
			fprintf(out, "  (default: %s)", k->def_doc);
		fprintf(out, "\n      %s\n", k->help);
	}
}

void config_print(const struct config *c, FILE *out)
{
	conf_print(&config_keys, c, out);
}

void config_print_keys(FILE *out)
{
	conf_help(&config_keys, out);
}
