/* The line lexer; see lexer.h. */
#include "lexer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

bool lex_key_char(char ch)
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

static void set_error(struct lex_line *out, enum lex_error e, const char *why)
{
	out->kind = LEX_ERROR;
	out->error = e;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

/* Unquotes the value that starts at the opening quote q.  Returns 0 with
 * out->value set, 1 with an error set, or -ENOMEM. */
static int lex_quoted(const char *q, const char *end, struct lex_line *out)
{
	/* The unquoted text is never longer than the quoted one. */
	char *buf = malloc((size_t)(end - q) + 1);
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (q++;; q++) {
		if (q == end) {
			free(buf);
			set_error(out, LEXERR_UNTERMINATED,
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
			set_error(out, LEXERR_UNTERMINATED,
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
			set_error(out, LEXERR_BAD_ESCAPE, why);
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
		set_error(out, LEXERR_AFTER_QUOTE,
			  "text after the closing quote; expected the end of "
			  "the line or a # comment");
		return 1;
	}
	out->value = buf;
	out->quoted = true;
	return 0;
}

int lex_line(const char *line, size_t len, struct lex_line *out)
{
	const char *end = line + len;
	const char *p = line;

	memset(out, 0, sizeof(*out));
	for (; p < end && is_space(*p); p++)
		;
	if (p == end || *p == '#') {
		out->kind = LEX_BLANK;
		return 0;
	}
	/* A NUL would cut the value short later, and a newline can only come
	 * from an override; neither belongs in a one-line assignment. */
	if (memchr(line, '\0', len) || memchr(line, '\n', len)) {
		set_error(out, LEXERR_CONTROL,
			  "contains a NUL or newline character; expected one "
			  "line of text");
		return 0;
	}
	const char *eq = p;
	while (eq < end && *eq != '=' && *eq != '#')
		eq++;
	if (eq == end || *eq == '#') {
		set_error(out, LEXERR_NO_EQUALS,
			  "no '=' in this line; expected key = value");
		return 0;
	}
	const char *kend = eq;
	while (kend > p && is_space(kend[-1]))
		kend--;
	if (kend == p) {
		set_error(out, LEXERR_EMPTY_KEY,
			  "nothing before '='; expected key = value");
		return 0;
	}
	out->key = strndup(p, (size_t)(kend - p));
	if (!out->key)
		return -ENOMEM;
	for (const char *k = p; k < kend; k++) {
		char c[8], why[sizeof(out->why)];

		if (lex_key_char(*k))
			continue;
		if (is_space(*k)) {
			set_error(out, LEXERR_BAD_KEY,
				  "key contains a space; expected one word "
				  "before '='");
			return 0;
		}
		show_char(*k, c, sizeof(c));
		snprintf(why, sizeof(why),
			 "key contains '%s'; expected letters, digits, '.', "
			 "'_' and '-'", c);
		set_error(out, LEXERR_BAD_KEY, why);
		return 0;
	}

	const char *v = eq + 1;
	for (; v < end && is_space(*v); v++)
		;
	if (v < end && *v == '"') {
		int r = lex_quoted(v, end, out);
		if (r < 0) {
			lex_line_free(out);
			return r;
		}
		if (r == 0)
			out->kind = LEX_ASSIGN;
		return 0;
	}
	const char *vend = v;
	while (vend < end && *vend != '#')
		vend++;
	while (vend > v && is_space(vend[-1]))
		vend--;
	out->value = strndup(v, (size_t)(vend - v));
	if (!out->value) {
		lex_line_free(out);
		return -ENOMEM;
	}
	out->kind = LEX_ASSIGN;
	return 0;
}

void lex_line_free(struct lex_line *l)
{
	free(l->key);
	free(l->value);
	l->key = NULL;
	l->value = NULL;
}
