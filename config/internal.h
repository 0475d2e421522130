/*
 * Inside config/: what its three files share.  Nothing outside config/
 * includes this header (tests/unit/test_config.c does, to test the
 * pieces); every name in it starts with cfg_ or CFG_.
 *
 *   syntax.c  the line lexer, the value types, one key's value parsed and
 *             stored by its table entry, quoting for printing
 *   keys.c    picovm's key table, single-value checks, sandbox.user, the
 *             rules across keys
 *   config.c  key lookup and suggestions, the loader, printing; the
 *             config_* entry points of config.h
 */
#ifndef PICOVM_CONFIG_INTERNAL_H
#define PICOVM_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* ---- the key table (entries: keys.c; lookup: config.c) ------------- */

/*
 * Key tables: the data that drives the config loader and printer
 * (config.c).  An entry names a key, its value type, and where the value
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

enum cfg_type {
	CFG_STRING,	/* char * (heap) */
	CFG_PATH,	/* char * (heap), absolute; "" in the input: none
			   (NULL), allowed unless CFG_REQUIRED */
	CFG_ENUM,	/* unsigned (an enum): index of the name in choices */
	CFG_SINK,	/* struct sink: choices[kind], or "file:PATH" */
	CFG_SIZE,	/* uint64_t bytes */
	CFG_BOOL,	/* bool */
	CFG_UINT,	/* unsigned */
	CFG_DURATION,	/* uint64_t milliseconds */
};

/* A parsed value, before it is stored; what check() callbacks see. */
union cfg_value {
	char *s;		/* CFG_STRING, CFG_PATH */
	unsigned u;		/* CFG_ENUM, CFG_UINT */
	struct sink sink;	/* CFG_SINK */
	uint64_t u64;		/* CFG_SIZE, CFG_DURATION */
	bool b;			/* CFG_BOOL */
};

#define CFG_REQUIRED	(1u << 0) /* must be given (file or override) */
#define CFG_FILE	(1u << 1) /* CFG_PATH: must name a readable regular
				     file when loading ends */
#define CFG_BLOCKDEV	(1u << 2) /* with CFG_FILE: a block device too */

struct cfg_key {
	const char *name;	/* "memory"; "disk.N.path" when numbered */
	enum cfg_type type;
	unsigned flags;		/* KEYF_* */
	size_t offset;		/* of the value (device 0's) in the object */
	size_t stride;		/* numbered: bytes from device n to n + 1 */
	size_t present;		/* numbered: offset of device 0's bool */
	/* The default in config syntax, parsed like any value; NULL leaves
	 * the zeroed object alone (NULL string, 0, false). */
	const char *def;
	/* CFG_SIZE, CFG_UINT, CFG_DURATION: allowed range; max 0: none.
	 * CFG_STRING: allowed length in bytes, same convention. */
	uint64_t min, max;
	uint64_t align;		/* CFG_SIZE: must be a multiple of this */
	/* CFG_ENUM: names by value.  CFG_SINK: names by enum sink_kind,
	 * NULL for kinds the key does not offer (SINK_FILE is always
	 * spelled "file:PATH"). */
	const char *const *choices;
	unsigned nchoices;
	/* A further check of a parsed value that passed the checks above:
	 * returns 0, or -1 with "what was wrong; expected what" in why.  ctx
	 * is what the caller handed the loader (picovm: the limits). */
	int (*check)(const union cfg_value *v, const void *ctx, char *why,
		     size_t n);
	const char *def_doc;	/* for --help when def is NULL */
	const char *help;	/* one line for --help */
};

struct cfg_table {
	const struct cfg_key *keys;
	size_t nkeys;
};

bool cfg_numbered(const struct cfg_key *k);
/* How many values an entry has: CONFIG_MAX_DEVICES when numbered, else 1. */
unsigned cfg_slots(const struct cfg_key *k);
/* Writes the name of device n's key ("disk.3.path") into buf. */
void cfg_key_name(const struct cfg_key *k, unsigned n, char *buf, size_t len);
/* Length of the part before the "N" component ("disk." -> 5); 0 when the
 * entry is not numbered.  Entries with the same prefix form one device. */
size_t cfg_prefix_len(const struct cfg_key *k);

/* Looks key up.  Returns the entry's index with *n set to the device
 * number (0 when not numbered); -1 when no entry matches; -2 when a
 * numbered entry matches except for a bad device number, with "what was
 * wrong; expected what" in why. */
long cfg_find(const struct cfg_table *t, const char *key, unsigned *n,
		 char *why, size_t wn);
/* The key the user probably meant when key is unknown: writes it into buf
 * and returns true, or returns false. */
bool cfg_suggest(const struct cfg_table *t, const char *key, char *buf,
		    size_t n);


/* ---- syntax.c: the line lexer --------------------------------------- */

enum cfg_line_kind {
	CFG_BLANK,	/* empty, only whitespace, or only a comment */
	CFG_ASSIGN,	/* key and value set */
	CFG_ERROR,	/* why set; key set when the error is about its value */
};

/* What went wrong, for callers that word some errors their own way. */
enum cfg_lex_error {
	CFG_LEX_NONE,
	CFG_LEX_NO_EQUALS,
	CFG_LEX_EMPTY_KEY,
	CFG_LEX_BAD_KEY,		/* whitespace or another bad character */
	CFG_LEX_UNTERMINATED,
	CFG_LEX_BAD_ESCAPE,
	CFG_LEX_AFTER_QUOTE,
	CFG_LEX_CONTROL,		/* a newline or NUL inside the text */
};

struct cfg_line {
	enum cfg_line_kind kind;
	enum cfg_lex_error error;
	char *key;		/* heap copy, or NULL */
	char *value;		/* heap copy, CFG_ASSIGN only */
	bool quoted;		/* the value was written in quotes */
	char why[160];		/* CFG_ERROR: "what was wrong; expected what" */
};

/* Splits one line (without its newline; len bytes, which may include a
 * stray NUL) into *out.  Returns 0, or -ENOMEM with *out empty. */
int cfg_lex(const char *line, size_t len, struct cfg_line *out);
void cfg_line_free(struct cfg_line *l);

/* Key characters: letters, digits, '.', '_' and '-'. */
bool cfg_key_char(char ch);


/* ---- syntax.c: value types ------------------------------------------ */

/* Parsers and printers for the value types of the config language.  They
 * know only the text of one value (already unquoted by the lexer); what a
 * key allows (ranges, alignment) is the loader's business.
 *
 * Parsers return 0, -EINVAL when the text is not of the type, or -ERANGE
 * when it is but the number does not fit in 64 bits.  Nothing is written
 * to *out on failure.
 */

/* Decimal digits only: no sign, no spaces, no 0x. */
int cfg_parse_u64(const char *s, uint64_t *out);
/* Bytes: digits, then nothing or K, M, G, T or KiB, MiB, GiB, TiB in any
 * case (powers of 1024). */
int cfg_parse_size(const char *s, uint64_t *out);
/* true/false, on/off, yes/no, 1/0, in any case. */
int cfg_parse_bool(const char *s, bool *out);
/* Milliseconds: digits followed by ms, s, m or h (lower case, because "M"
 * means mebibytes elsewhere), or a bare "0". */
int cfg_parse_duration(const char *s, uint64_t *out_ms);

/* The shortest exact spelling the parsers read back: "256M", "4097", "0".
 * 24 bytes always suffice. */
#define CFG_VALUE_BUF 24
void cfg_format_size(uint64_t bytes, char *buf, size_t n);
void cfg_format_duration(uint64_t ms, char *buf, size_t n);


/* ---- syntax.c: one key's value ------------------------------------ */

/* Parses text as k's value into *v.  base is the absolute folder relative
 * paths start from (NULL: unknown, so only absolute paths are accepted);
 * ctx goes to k->check.  Returns 0, -1 with "what was wrong; expected
 * what" in why, or -ENOMEM. */
int cfg_parse(const struct cfg_key *k, const char *text, const char *base,
	      const void *ctx, union cfg_value *v, char *why, size_t wn);
/* Moves *v into device n's value of k in obj, freeing what it replaces. */
void cfg_store(const struct cfg_key *k, void *obj, unsigned n,
	       const union cfg_value *v);
/* Frees what a parsed value owns (when it is not stored). */
void cfg_value_free(const struct cfg_key *k, union cfg_value *v);
/* Where device n's value of k lives in obj. */
void *cfg_value_ptr(const struct cfg_key *k, void *obj, unsigned n);

/* Resolves a relative path against the absolute folder base; returns a
 * heap string or NULL. */
char *cfg_resolve(const char *base, const char *path);
/* A user's text as shown in a message: itself, or its start and "..." in
 * buf when it is long. */
#define CFG_SHOWN_BUF 64
const char *cfg_shown(const char *text, char *buf, size_t n);

/* Writes s as a config value: verbatim, or in quotes when it would not
 * read back verbatim. */
void cfg_put_value(const char *s, FILE *out);

/* ---- config.c: the loader ------------------------------------------- */

/* The table-driven loader: reads a config file and key=value overrides
 * into an object described by a key table, and collects every error.
 *
 * Use:
 *	memset(obj, 0, ...);
 *	cfg_init(&L, table, obj, ctx, file);	   defaults applied
 *	if (cfg_read_file(&L) == 0) {		   the file could be read
 *		cfg_apply_overrides(&L, n, args);  they win over the file
 *		cfg_check(&L);			   required keys, files
 *		... caller's own cross-key checks, using cfg_state() and
 *		    cfg_error() ...
 *	}
 *	if (cfg_finish(&L) < 0)		   prints the errors
 *		cfg_free_values(table, obj);
 *
 * Errors are printed by cfg_finish() to stderr as
 *	picovm: FILE:LINE: KEY: what was wrong; expected what
 *	picovm: command line: argument N: KEY: ...     (N counts overrides
 *						        from 1)
 *	picovm: FILE: ...				 (no line: whole file)
 * sorted by line, then argument, then the rest, whatever order they were
 * found in.
 */

/* Where an assignment came from.  line > 0: that line of the file;
 * arg > 0: that override; both 0: no particular place (a default). */
struct cfg_where {
	int line;
	int arg;
};

/* The loader's record of one key (one device's key, for numbered keys). */
struct cfg_slot {
	int line, arg;		/* where it was set; 0: not */
	bool line_bad, arg_bad;	/* that assignment's value was rejected */
};

struct cfg_diag;

struct cfg_loader {
	const struct cfg_table *t;
	void *obj;
	const void *ctx;
	const char *file;	/* as given, for messages */
	char *dir;		/* absolute folder of file, for its paths */
	char *cwd;		/* for overrides' paths; fetched when needed */
	struct cfg_slot *slots;	/* nkeys * CONFIG_MAX_DEVICES */
	struct cfg_diag *diags;
	size_t ndiags, cap;
	bool oom;		/* an allocation failed: the load fails */
};

/* Returns 0, or -ENOMEM (L needs no cfg_finish then; obj may hold
 * defaults to free with cfg_free_values). */
int cfg_init(struct cfg_loader *L, const struct cfg_table *t, void *obj,
	      const void *ctx, const char *file);
/* Returns 0, or -1 when the file could not be read (error recorded). */
int cfg_read_file(struct cfg_loader *L);
void cfg_apply_overrides(struct cfg_loader *L, int n,
			  char *const args[]);
void cfg_check(struct cfg_loader *L);
/* The state of an exact key name ("memory", "disk.3.path"): 1 set with a
 * good value (*w: where the winning assignment is), 0 not set (the default
 * holds, *w zero), -1 its value was rejected or the key is unknown. */
int cfg_state(const struct cfg_loader *L, const char *key,
	       struct cfg_where *w);
/* Records an error.  key may be NULL; w NULL means no place. */
void cfg_error(struct cfg_loader *L, const struct cfg_where *w,
		const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints the errors and releases the loader.  Returns 0 when there were
 * none, else -1. */
int cfg_finish(struct cfg_loader *L);

/* Frees the strings a table's keys hold in obj. */
void cfg_free_values(const struct cfg_table *t, void *obj);

/* ---- config.c: printing -------------------------------------------- */

/* Every key, one "key = value" line each, in table order; numbered keys
 * only for the devices present, device by device.  config_load() reads the
 * output back to the same values. */
void cfg_print(const struct cfg_table *t, const void *obj, FILE *out);
/* Every key with its type, default and one line of help. */
void cfg_help(const struct cfg_table *t, FILE *out);

/* ---- keys.c ---------------------------------------------------------- */

extern const struct cfg_table cfg_keys;

/* The rule for `name` (also applied to the default taken from the file
 * name): returns 0, or -1 with "what was wrong; expected what" in why. */
int cfg_check_name(const char *name, char *why, size_t n);
/* "02:00:00:12:34:56" -> bytes; returns 0, or -1 when malformed. */
int cfg_parse_mac(const char *s, uint8_t mac[6]);

/* The rules across keys, run once the file and overrides are in:
 * the default name, hugepages, nets (tap or fd, MAC), outputs that are
 * inputs, disks sharing an image. */
void cfg_check_keys(struct cfg_loader *L, struct config *c);

#endif
