/*
 * The line syntax of the config language: one `key = value` per line,
 * `#` comments, optional double quotes around the value.  The same lexer
 * reads command-line overrides, so `key=value` arguments follow exactly the
 * file's rules.
 */
#ifndef PICOVM_CONFIG_LEXER_H
#define PICOVM_CONFIG_LEXER_H

#include <stdbool.h>
#include <stddef.h>

enum lex_kind {
	LEX_BLANK,	/* empty, only whitespace, or only a comment */
	LEX_ASSIGN,	/* key and value set */
	LEX_ERROR,	/* why set; key set when the error is about its value */
};

/* What went wrong, for callers that word some errors their own way. */
enum lex_error {
	LEXERR_NONE,
	LEXERR_NO_EQUALS,
	LEXERR_EMPTY_KEY,
	LEXERR_BAD_KEY,		/* whitespace or another bad character */
	LEXERR_UNTERMINATED,
	LEXERR_BAD_ESCAPE,
	LEXERR_AFTER_QUOTE,
	LEXERR_CONTROL,		/* a newline or NUL inside the text */
};

struct lex_line {
	enum lex_kind kind;
	enum lex_error error;
	char *key;		/* heap copy, or NULL */
	char *value;		/* heap copy, LEX_ASSIGN only */
	bool quoted;		/* the value was written in quotes */
	char why[160];		/* LEX_ERROR: "what was wrong; expected what" */
};

/* Splits one line (without its newline; len bytes, which may include a
 * stray NUL) into *out.  Returns 0, or -ENOMEM with *out empty. */
int lex_line(const char *line, size_t len, struct lex_line *out);
void lex_line_free(struct lex_line *l);

/* Key characters: letters, digits, '.', '_' and '-'. */
bool lex_key_char(char ch);

#endif
