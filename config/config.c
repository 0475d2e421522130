/*
 * The table-driven loader (file, overrides, required keys, files that must
 * exist, errors sorted by place), key lookup and suggestions, and printing
 * through the table (`picovm check`, `picovm --help`): picovm's public
 * config_* entry points.  See config.h and internal.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "../vm/rawsys.h"

/* ---- key names: lookup and suggestions --------------------------------- */

/* Where the "N" component of a pattern starts, or NULL. */
static const char *n_component(const char *pat)
{
	for (const char *p = pat; *p; p++) {
		if (*p == 'N' && (p == pat || p[-1] == '.') &&
		    (p[1] == '.' || p[1] == '\0'))
			return p;
	}
	return NULL;
}

bool cfg_numbered(const struct cfg_key *k)
{
	return n_component(k->name) != NULL;
}

unsigned cfg_slots(const struct cfg_key *k)
{
	return cfg_numbered(k) ? CONFIG_MAX_DEVICES : 1;
}

size_t cfg_prefix_len(const struct cfg_key *k)
{
	const char *p = n_component(k->name);

	return p ? (size_t)(p - k->name) : 0;
}

/* Appends s (at most n bytes of it) to buf at *o, truncating at len. */
static void put_n(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] && *o + 1 < len; i++)
		buf[(*o)++] = s[i];
}

/* The pattern with its N component replaced by text. */
static void instantiate(const char *pat, const char *text, char *buf,
			size_t len)
{
	const char *p = n_component(pat);
	size_t o = 0;

	if (!len)
		return;
	if (!p) {
		put_n(buf, len, &o, pat, SIZE_MAX);
	} else {
		put_n(buf, len, &o, pat, (size_t)(p - pat));
		put_n(buf, len, &o, text, SIZE_MAX);
		put_n(buf, len, &o, p + 1, SIZE_MAX);
	}
	buf[o] = 0;
}

void cfg_key_name(const struct cfg_key *k, unsigned n, char *buf, size_t len)
{
	char num[16];

	/* Not snprintf: this runs for every key at every start. */
	num[raw_put_dec(num, 0, sizeof(num) - 1, n)] = 0;
	instantiate(k->name, num, buf, len);
}

/* Matches key against pattern: 1 with *n set, 0 no match, -1 a numbered
 * pattern that matches but for its device number (why set). */
static int match(const char *pat, const char *key, unsigned *n, char *why,
		 size_t wn)
{
	const char *np = n_component(pat);

	if (!np) {
		*n = 0;
		return strcmp(pat, key) == 0;
	}
	size_t pre = (size_t)(np - pat);
	const char *post = np + 1;
	size_t klen = strlen(key), postlen = strlen(post);
	if (strncmp(pat, key, pre) != 0 || klen < pre + postlen ||
	    strcmp(key + klen - postlen, post) != 0)
		return 0;
	/* The device number is what lies between prefix and suffix; it must
	 * be one whole component. */
	const char *num = key + pre;
	size_t numlen = klen - pre - postlen;
	if (memchr(num, '.', numlen))
		return 0;
	unsigned v = 0;
	bool ok = numlen > 0 && numlen <= 3 && !(numlen > 1 && num[0] == '0');
	for (size_t i = 0; ok && i < numlen; i++) {
		if (num[i] < '0' || num[i] > '9')
			ok = false;
		else
			v = v * 10 + (unsigned)(num[i] - '0');
	}
	if (ok && v < CONFIG_MAX_DEVICES) {
		*n = v;
		return 1;
	}
	snprintf(why, wn,
		 "'%.*s' is not a device number; expected %.*sN%s with N "
		 "from 0 to %u (no leading zeros)",
		 (int)(numlen > 20 ? 20 : numlen), num, (int)pre, pat, post,
		 CONFIG_MAX_DEVICES - 1);
	return -1;
}

long cfg_find(const struct cfg_table *t, const char *key, unsigned *n,
		 char *why, size_t wn)
{
	long bad = -1;

	for (size_t i = 0; i < t->nkeys; i++) {
		int r = match(t->keys[i].name, key, n, why, wn);
		if (r == 1)
			return (long)i;
		if (r < 0)
			bad = -2;
	}
	return bad;
}

/* Edit distance between a and b, ignoring case, where swapping two
 * neighbours counts as one edit ("memroy"); SIZE_MAX when either is too
 * long to be worth comparing.  Three rows of the usual table suffice. */
#define LEV_MAX 64
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][LEV_MAX + 1];

	if (la > LEV_MAX || lb > LEV_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *prev2 = rows[(i + 1) % 3], *prev = rows[(i + 2) % 3],
		       *row = rows[i % 3];
		int ca = tolower((unsigned char)a[i - 1]);

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca == cb ? 0 : 1);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    cb == tolower((unsigned char)a[i - 2]) &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			row[j] = best;
		}
	}
	return rows[la % 3][lb];
}

bool cfg_suggest(const struct cfg_table *t, const char *key, char *buf,
		    size_t n)
{
	/* Suggestions for numbered keys keep the user's device number: the
	 * first all-digit component of the key, or 0. */
	char num[8] = "0";
	const char *suffix = NULL;	/* what follows that component */
	for (const char *c = key; *c;) {
		size_t len = strcspn(c, ".");
		if (len > 0 && len < sizeof(num) && c != key &&
		    strspn(c, "0123456789") == len) {
			snprintf(num, sizeof(num), "%.*s", (int)len, c);
			suffix = c + len;
			break;
		}
		c += len;
		if (*c == '.')
			c++;
	}

	size_t best = 3, keylen = strlen(key);
	char cand[128];
	bool found = false;
	for (size_t i = 0; i < t->nkeys; i++) {
		instantiate(t->keys[i].name, num, cand, sizeof(cand));
		size_t d = distance(key, cand);
		/* d < keylen: a one-letter key is not "close" to a two-letter
		 * one just because two edits turn it into it. */
		if (d < best && d < keylen) {
			best = d;
			snprintf(buf, n, "%s", cand);
			found = true;
		}
	}
	if (found || !suffix || *suffix == '\0')
		return found;
	/* "dsk.0.path": far from any name, but ".path" after a device
	 * number only exists in numbered keys. */
	for (size_t i = 0; i < t->nkeys; i++) {
		const char *np = n_component(t->keys[i].name);
		if (np && strcasecmp(np + 1, suffix) == 0) {
			instantiate(t->keys[i].name, num, buf, n);
			return true;
		}
	}
	return false;
}

/* Config files are a few hundred bytes; the cap keeps a mistake such as
 * `picovm check /dev/zero` from eating memory. */
#define CONF_MAX_FILE (1u << 20)

struct cfg_diag {
	int line, arg;
	size_t seq;		/* keeps errors of one place in found order */
	char *text;
};

/* ---- errors ---------------------------------------------------------- */

void cfg_error(struct cfg_loader *L, const struct cfg_where *w,
		const char *key, const char *fmt, ...)
{
	char *msg, *text;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		L->oom = true;
		return;
	}
	if (w && w->line > 0)
		r = asprintf(&text, "picovm: %s:%d: %s%s%s", L->file, w->line,
			     key ? key : "", key ? ": " : "", msg);
	else if (w && w->arg > 0)
		r = asprintf(&text, "picovm: command line: argument %d: %s%s%s",
			     w->arg, key ? key : "", key ? ": " : "", msg);
	else
		r = asprintf(&text, "picovm: %s: %s%s%s", L->file,
			     key ? key : "", key ? ": " : "", msg);
	free(msg);
	if (r < 0) {
		L->oom = true;
		return;
	}
	if (L->ndiags == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 16;
		struct cfg_diag *d = reallocarray(L->diags, cap, sizeof(*d));
		if (!d) {
			free(text);
			L->oom = true;
			return;
		}
		L->diags = d;
		L->cap = cap;
	}
	L->diags[L->ndiags] = (struct cfg_diag){
		.line = w ? w->line : 0,
		.arg = w ? w->arg : 0,
		.seq = L->ndiags,
		.text = text,
	};
	L->ndiags++;
}

/* File lines first, then overrides, then errors with no place. */
static int diag_rank(const struct cfg_diag *d)
{
	return d->line > 0 ? 0 : d->arg > 0 ? 1 : 2;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct cfg_diag *x = a, *y = b;
	int rx = diag_rank(x), ry = diag_rank(y);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->arg != y->arg)
		return x->arg < y->arg ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- assignments ----------------------------------------------------- */

static struct cfg_slot *slot_of(const struct cfg_loader *L, size_t i,
				 unsigned n)
{
	return &L->slots[i * CONFIG_MAX_DEVICES + n];
}

static void unknown_key(struct cfg_loader *L, const struct cfg_where *w,
			const char *key)
{
	char sug[128];

	if (cfg_suggest(L->t, key, sug, sizeof(sug)))
		cfg_error(L, w, key, "unknown key; did you mean '%s'?", sug);
	else
		cfg_error(L, w, key, "unknown key; expected a key listed by "
			   "'picovm --help'");
}

static void assign(struct cfg_loader *L, const struct cfg_where *w,
		   const char *key, const char *text, const char *base)
{
	char why[512];
	unsigned n;
	long i = cfg_find(L->t, key, &n, why, sizeof(why));

	if (i == -2) {
		cfg_error(L, w, key, "%s", why);
		return;
	}
	if (i < 0) {
		unknown_key(L, w, key);
		return;
	}
	const struct cfg_key *k = &L->t->keys[i];
	struct cfg_slot *s = slot_of(L, (size_t)i, n);
	bool *bad;
	if (w->line) {
		if (s->line) {
			cfg_error(L, w, key, "already set on line %d; "
				   "expected each key once", s->line);
			return;
		}
		s->line = w->line;
		bad = &s->line_bad;
	} else {
		if (s->arg) {
			cfg_error(L, w, key, "already set by argument %d; "
				   "expected each key once", s->arg);
			return;
		}
		s->arg = w->arg;
		bad = &s->arg_bad;
	}
	if (cfg_numbered(k))
		*(bool *)((char *)L->obj + k->present +
			  (size_t)n * k->stride) = true;

	union cfg_value v;
	int r = cfg_parse(k, text, base, L->ctx, &v, why, sizeof(why));
	if (r == -ENOMEM) {
		L->oom = true;
		*bad = true;
	} else if (r) {
		*bad = true;
		cfg_error(L, w, key, "%s", why);
	} else {
		cfg_store(k, L->obj, n, &v);
	}
}

/* ---- the loader ------------------------------------------------------ */

/* The absolute folder of the config file, for its relative paths. */
static char *file_dir(const char *file)
{
	char *copy = strdup(file), *dir = NULL;

	if (!copy)
		return NULL;
	char *d = dirname(copy);
	dir = realpath(d, NULL);
	if (!dir) {
		/* Cannot happen once the file was read, except in a race;
		 * fall back to the lexical answer. */
		char *cwd = getcwd(NULL, 0);
		dir = cfg_resolve(cwd ? cwd : "/", d);
		free(cwd);
	}
	free(copy);
	return dir;
}

/* A copy of a parsed value that owns its own strings: 0, or -1 (out of
 * memory; nothing allocated). */
static int value_dup(const struct cfg_key *k, const union cfg_value *v,
		     union cfg_value *copy)
{
	*copy = *v;
	if (k->type == CFG_STRING || k->type == CFG_PATH) {
		if (v->s && !(copy->s = strdup(v->s)))
			return -1;
	} else if (k->type == CFG_SINK) {
		if (v->sink.path && !(copy->sink.path = strdup(v->sink.path)))
			return -1;
	}
	return 0;
}

int cfg_init(struct cfg_loader *L, const struct cfg_table *t, void *obj,
	      const void *ctx, const char *file)
{
	memset(L, 0, sizeof(*L));
	L->t = t;
	L->obj = obj;
	L->ctx = ctx;
	L->file = file;
	L->slots = calloc(t->nkeys * CONFIG_MAX_DEVICES, sizeof(*L->slots));
	L->dir = file_dir(file);
	if (!L->slots || !L->dir) {
		free(L->slots);
		free(L->dir);
		return -ENOMEM;
	}
	/* Each default is parsed once and copied into every device's slot:
	 * parsing it once per slot was most of a start's config time. */
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct cfg_key *k = &t->keys[i];
		union cfg_value v;
		char why[256];

		if (!k->def)
			continue;
		int r = cfg_parse(k, k->def, L->dir, L->ctx, &v, why, sizeof(why));
		if (r == -ENOMEM) {
			L->oom = true;
			continue;
		}
		if (r) {	/* a bug in the table */
			cfg_error(L, NULL, k->name, "internal error: bad "
				   "default '%s': %s", k->def, why);
			continue;
		}
		for (unsigned n = 1; n < cfg_slots(k); n++) {
			union cfg_value copy;
			if (value_dup(k, &v, &copy) < 0) {
				L->oom = true;
				break;
			}
			cfg_store(k, obj, n, &copy);
		}
		cfg_store(k, obj, 0, &v);
	}
	return 0;
}

/* Reads the whole file (at most CONF_MAX_FILE bytes) into *buf. */
static int slurp(struct cfg_loader *L, char **buf, size_t *len)
{
	/* O_NONBLOCK for the open: a FIFO without a writer must not hang
	 * it.  A pipe or FIFO (`picovm check <(...)`) is then read to its
	 * end like a file; the size cap bounds /dev/zero and friends. */
	int fd = open(L->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	size_t cap = 4096, n = 0;
	char *b = NULL;
	int fl;

	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0)
		goto fail_close;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail_close;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto fail_close;
	b = malloc(cap);
	for (;;) {
		if (!b) {
			errno = ENOMEM;
			goto fail_close;
		}
		if (n == cap) {
			if (cap >= CONF_MAX_FILE) {
				cfg_error(L, NULL, NULL, "the file is larger "
					   "than 1M; expected a config file");
				goto fail_quiet;
			}
			cap *= 2;
			char *nb = realloc(b, cap);
			if (!nb)
				free(b);
			b = nb;
			continue;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail_close;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;

fail_close:
	cfg_error(L, NULL, NULL, "cannot read: %s", strerror(errno));
fail_quiet:
	free(b);
	close(fd);
	return -1;
fail:
	cfg_error(L, NULL, NULL, "cannot read: %s", strerror(errno));
	return -1;
}

int cfg_read_file(struct cfg_loader *L)
{
	char *buf;
	size_t len;

	if (slurp(L, &buf, &len) < 0)
		return -1;
	int lineno = 0;
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		struct cfg_where w = { .line = ++lineno };
		struct cfg_line lx;

		if (lineno == INT_MAX)
			break;	/* unreachable within CONF_MAX_FILE */
		if (cfg_lex(buf + pos, end - pos, &lx) < 0) {
			L->oom = true;
			break;
		}
		if (lx.kind == CFG_ERROR)
			cfg_error(L, &w, lx.key, "%s", lx.why);
		else if (lx.kind == CFG_ASSIGN)
			assign(L, &w, lx.key, lx.value, L->dir);
		cfg_line_free(&lx);
		pos = end + 1;
	}
	free(buf);
	return 0;
}

void cfg_apply_overrides(struct cfg_loader *L, int n, char *const args[])
{
	for (int i = 0; i < n; i++) {
		struct cfg_where w = { .arg = i + 1 };
		struct cfg_line lx;
		char sb[CFG_SHOWN_BUF];

		if (cfg_lex(args[i], strlen(args[i]), &lx) < 0) {
			L->oom = true;
			return;
		}
		if (lx.kind == CFG_BLANK || lx.error == CFG_LEX_NO_EQUALS) {
			cfg_error(L, &w, NULL, "'%s' is not an assignment; "
				   "expected key=value",
				   cfg_shown(args[i], sb, sizeof(sb)));
		} else if (lx.error == CFG_LEX_EMPTY_KEY) {
			cfg_error(L, &w, NULL, "nothing before '='; expected "
				   "key=value");
		} else if (lx.kind == CFG_ERROR) {
			cfg_error(L, &w, lx.key, "%s", lx.why);
		} else {
			/* Paths on the command line are relative to where
			 * the user is, not to the config file. */
			if (!L->cwd)
				L->cwd = getcwd(NULL, 0);
			assign(L, &w, lx.key, lx.value, L->cwd);
		}
		cfg_line_free(&lx);
	}
}

/* The winning assignment of a slot that was set. */
static struct cfg_where winner(const struct cfg_slot *s, bool *bad)
{
	if (s->arg) {
		*bad = s->arg_bad;
		return (struct cfg_where){ .arg = s->arg };
	}
	*bad = s->line_bad;
	return (struct cfg_where){ .line = s->line };
}

/* O_NONBLOCK: a FIFO without a writer must not hang the check. */
static void check_file(struct cfg_loader *L, const struct cfg_where *w,
		       const char *key, const char *path, bool blockdev)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0) {
		cfg_error(L, w, key, "cannot open '%s': %s", path,
			   strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0)
		cfg_error(L, w, key, "cannot open '%s': %s", path,
			   strerror(errno));
	else if (S_ISDIR(st.st_mode))
		cfg_error(L, w, key, "'%s' is a directory; expected a "
			   "regular file", path);
	else if (blockdev && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		cfg_error(L, w, key, "'%s' is not a regular file or a block "
			   "device; expected a disk image or a block device", path);
	else if (!blockdev && !S_ISREG(st.st_mode))
		cfg_error(L, w, key, "'%s' is not a regular file; expected "
			   "a regular file", path);
	close(fd);
}

/* An output file is created at run time; here only its folder must
 * exist, and the name must not be taken by a folder, a block device (a
 * disk) or a socket.  A FIFO is fine here; at run time it needs a reader. */
static void check_output(struct cfg_loader *L, const struct cfg_where *w,
			 const char *key, const char *path)
{
	struct stat st;
	char *copy = strdup(path);

	if (!copy) {
		L->oom = true;
		return;
	}
	bool exists = stat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode))
		cfg_error(L, w, key, "'%s' is a directory; expected a file "
			   "name", path);
	else if (exists && (S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)))
		cfg_error(L, w, key, "'%s' is a %s; expected a file, a FIFO "
			   "or a character device", path,
			   S_ISBLK(st.st_mode) ? "block device" : "socket");
	else if (stat(dirname(copy), &st) < 0)
		cfg_error(L, w, key, "cannot create '%s': %s", path,
			   strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		cfg_error(L, w, key, "cannot create '%s': %s", path,
			   strerror(ENOTDIR));
	free(copy);
}

void cfg_check(struct cfg_loader *L)
{
	for (size_t i = 0; i < L->t->nkeys; i++) {
		const struct cfg_key *k = &L->t->keys[i];

		for (unsigned n = 0; n < cfg_slots(k); n++) {
			const struct cfg_slot *s = slot_of(L, i, n);
			char name[128];
			bool bad;

			if (cfg_numbered(k) &&
			    !*(bool *)((char *)L->obj + k->present +
				       (size_t)n * k->stride))
				continue;	/* no such device */
			cfg_key_name(k, n, name, sizeof(name));
			if (!s->line && !s->arg) {
				if (k->flags & CFG_REQUIRED)
					cfg_error(L, NULL, NULL, "missing "
						   "required key '%s'", name);
				continue;
			}
			struct cfg_where w = winner(s, &bad);
			if (bad)
				continue;
			const void *p = cfg_value_ptr(k, L->obj, n);
			if (k->type == CFG_PATH && (k->flags & CFG_FILE) &&
			    *(char *const *)p)
				check_file(L, &w, name, *(char *const *)p,
					   k->flags & CFG_BLOCKDEV);
			if (k->type == CFG_SINK &&
			    ((const struct sink *)p)->kind == SINK_FILE)
				check_output(L, &w, name,
					     ((const struct sink *)p)->path);
		}
	}
}

int cfg_state(const struct cfg_loader *L, const char *key,
	       struct cfg_where *w)
{
	char why[256];
	unsigned n;
	long i = cfg_find(L->t, key, &n, why, sizeof(why));
	bool bad;

	*w = (struct cfg_where){ 0 };
	if (i < 0)
		return -1;
	const struct cfg_slot *s = slot_of(L, (size_t)i, n);
	if (!s->line && !s->arg)
		return 0;
	*w = winner(s, &bad);
	return bad ? -1 : 1;
}

int cfg_finish(struct cfg_loader *L)
{
	int r = L->ndiags || L->oom ? -1 : 0;

	if (L->ndiags)
		qsort(L->diags, L->ndiags, sizeof(*L->diags), diag_cmp);
	for (size_t i = 0; i < L->ndiags; i++) {
		fprintf(stderr, "%s\n", L->diags[i].text);
		free(L->diags[i].text);
	}
	if (L->oom)
		fprintf(stderr, "picovm: %s: out of memory\n", L->file);
	free(L->diags);
	free(L->slots);
	free(L->dir);
	free(L->cwd);
	memset(L, 0, sizeof(*L));
	return r;
}

void cfg_free_values(const struct cfg_table *t, void *obj)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct cfg_key *k = &t->keys[i];

		for (unsigned n = 0; n < cfg_slots(k); n++) {
			void *p = cfg_value_ptr(k, obj, n);

			if (k->type == CFG_STRING || k->type == CFG_PATH) {
				free(*(char **)p);
				*(char **)p = NULL;
			} else if (k->type == CFG_SINK) {
				free(((struct sink *)p)->path);
				((struct sink *)p)->path = NULL;
			}
		}
	}
}

/* ---- picovm's config ------------------------------------------------ */

int config_load(struct config *c, const char *file, int noverrides,
		char *const overrides[], const struct config_limits *lim)
{
	static const struct config_limits builtin = {
		.max_vcpus = CONFIG_MAX_VCPUS,
	};
	struct cfg_loader L;

	memset(c, 0, sizeof(*c));
	if (!lim)
		lim = &builtin;
	if (cfg_init(&L, &cfg_keys, c, lim, file) < 0) {
		fprintf(stderr, "picovm: %s: out of memory\n", file);
		config_free(c);
		return -1;
	}
	c->file = strdup(file);
	if (!c->file)
		L.oom = true;
	else if (cfg_read_file(&L) == 0) {
		cfg_apply_overrides(&L, noverrides, overrides);
		cfg_check(&L);
		cfg_check_keys(&L, c);
	}
	if (cfg_finish(&L) < 0) {
		config_free(c);
		return -1;
	}
	return 0;
}

void config_free(struct config *c)
{
	cfg_free_values(&cfg_keys, c);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

/* ---- printing ------------------------------------------------------- */

static const void *value_at(const struct cfg_key *k, const void *obj,
			    unsigned n)
{
	return (const char *)obj + k->offset + (size_t)n * k->stride;
}

static bool present(const struct cfg_key *k, const void *obj, unsigned n)
{
	return *(const bool *)((const char *)obj + k->present +
			       (size_t)n * k->stride);
}

static void print_one(const struct cfg_key *k, const void *obj, unsigned n,
		      FILE *out)
{
	const void *p = value_at(k, obj, n);
	char name[128], buf[CFG_VALUE_BUF];

	cfg_key_name(k, n, name, sizeof(name));
	fprintf(out, "%s = ", name);
	switch (k->type) {
	case CFG_STRING:
	case CFG_PATH: {
		const char *s = *(char *const *)p;
		cfg_put_value(s ? s : "", out);
		break;
	}
	case CFG_ENUM: {
		unsigned v = *(const unsigned *)p;
		cfg_put_value(v < k->nchoices && k->choices[v] ?
				       k->choices[v] : "?", out);
		break;
	}
	case CFG_SINK: {
		const struct sink *s = p;
		unsigned kind = (unsigned)s->kind;
		if (s->kind == SINK_FILE) {
			char *text;
			if (asprintf(&text, "file:%s", s->path) >= 0) {
				cfg_put_value(text, out);
				free(text);
			}
		} else {
			cfg_put_value(kind < k->nchoices && k->choices[kind] ?
					       k->choices[kind] : "?", out);
		}
		break;
	}
	case CFG_SIZE:
		cfg_format_size(*(const uint64_t *)p, buf, sizeof(buf));
		fputs(buf, out);
		break;
	case CFG_DURATION:
		cfg_format_duration(*(const uint64_t *)p, buf, sizeof(buf));
		fputs(buf, out);
		break;
	case CFG_BOOL:
		fputs(*(const bool *)p ? "true" : "false", out);
		break;
	case CFG_UINT:
		fprintf(out, "%u", *(const unsigned *)p);
		break;
	}
	fputc('\n', out);
}

/* One past the last entry of the device whose first entry is i. */
static size_t device_end(const struct cfg_table *t, size_t i)
{
	const struct cfg_key *k = &t->keys[i];
	size_t pre = cfg_prefix_len(k), j = i + 1;

	while (j < t->nkeys && cfg_prefix_len(&t->keys[j]) == pre &&
	       strncmp(t->keys[j].name, k->name, pre) == 0)
		j++;
	return j;
}

void cfg_print(const struct cfg_table *t, const void *obj, FILE *out)
{
	for (size_t i = 0; i < t->nkeys;) {
		const struct cfg_key *k = &t->keys[i];

		if (!cfg_numbered(k)) {
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
static void type_doc(const struct cfg_key *k, FILE *out)
{
	static const char *const names[] = {
		[CFG_STRING] = "string", [CFG_PATH] = "path",
		[CFG_SIZE] = "size",	 [CFG_BOOL] = "bool",
		[CFG_UINT] = "integer",	 [CFG_DURATION] = "duration",
	};
	bool first = true;

	if (k->type != CFG_ENUM && k->type != CFG_SINK) {
		fputs(names[k->type], out);
		return;
	}
	for (unsigned i = 0; i < k->nchoices; i++) {
		if (!k->choices[i])
			continue;
		fprintf(out, "%s%s", first ? "" : "|", k->choices[i]);
		first = false;
	}
	if (k->type == CFG_SINK)
		fprintf(out, "%sfile:PATH", first ? "" : "|");
}

void cfg_help(const struct cfg_table *t, FILE *out)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct cfg_key *k = &t->keys[i];

		fprintf(out, "  %s = ", k->name);
		type_doc(k, out);
		if (k->flags & CFG_REQUIRED)
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
	cfg_print(&cfg_keys, c, out);
}

void config_print_keys(FILE *out)
{
	cfg_help(&cfg_keys, out);
}

int config_parse_duration(const char *s, uint64_t *ms)
{
	return cfg_parse_duration(s, ms);
}
