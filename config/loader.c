/* The table-driven config loader; see loader.h. */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lexer.h"
#include "parse.h"

/* Config files are a few hundred bytes; the cap keeps a mistake such as
 * `picovm check /dev/zero` from eating memory. */
#define CONF_MAX_FILE (1u << 20)

struct conf_diag {
	int line, arg;
	size_t seq;		/* keeps errors of one place in found order */
	char *text;
};

/* ---- errors ---------------------------------------------------------- */

void conf_error(struct conf_loader *L, const struct conf_where *w,
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
		struct conf_diag *d = reallocarray(L->diags, cap, sizeof(*d));
		if (!d) {
			free(text);
			L->oom = true;
			return;
		}
		L->diags = d;
		L->cap = cap;
	}
	L->diags[L->ndiags] = (struct conf_diag){
		.line = w ? w->line : 0,
		.arg = w ? w->arg : 0,
		.seq = L->ndiags,
		.text = text,
	};
	L->ndiags++;
}

/* File lines first, then overrides, then errors with no place. */
static int diag_rank(const struct conf_diag *d)
{
	return d->line > 0 ? 0 : d->arg > 0 ? 1 : 2;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct conf_diag *x = a, *y = b;
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

static struct conf_slot *slot_of(const struct conf_loader *L, size_t i,
				 unsigned n)
{
	return &L->slots[i * CONFIG_MAX_DEVICES + n];
}

static void unknown_key(struct conf_loader *L, const struct conf_where *w,
			const char *key)
{
	char sug[128];

	if (keytab_suggest(L->t, key, sug, sizeof(sug)))
		conf_error(L, w, key, "unknown key; did you mean '%s'?", sug);
	else
		conf_error(L, w, key, "unknown key; expected a key listed by "
			   "'picovm --help'");
}

static void assign(struct conf_loader *L, const struct conf_where *w,
		   const char *key, const char *text, const char *base)
{
	char why[512];
	unsigned n;
	long i = keytab_find(L->t, key, &n, why, sizeof(why));

	if (i == -2) {
		conf_error(L, w, key, "%s", why);
		return;
	}
	if (i < 0) {
		unknown_key(L, w, key);
		return;
	}
	const struct key_def *k = &L->t->keys[i];
	struct conf_slot *s = slot_of(L, (size_t)i, n);
	bool *bad;
	if (w->line) {
		if (s->line) {
			conf_error(L, w, key, "already set on line %d; "
				   "expected each key once", s->line);
			return;
		}
		s->line = w->line;
		bad = &s->line_bad;
	} else {
		if (s->arg) {
			conf_error(L, w, key, "already set by argument %d; "
				   "expected each key once", s->arg);
			return;
		}
		s->arg = w->arg;
		bad = &s->arg_bad;
	}
	if (key_is_numbered(k))
		*(bool *)((char *)L->obj + k->present +
			  (size_t)n * k->stride) = true;

	union key_value v;
	int r = key_parse(k, text, base, L->ctx, &v, why, sizeof(why));
	if (r == -ENOMEM) {
		L->oom = true;
		*bad = true;
	} else if (r) {
		*bad = true;
		conf_error(L, w, key, "%s", why);
	} else {
		key_store(k, L->obj, n, &v);
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
		dir = conf_resolve(cwd ? cwd : "/", d);
		free(cwd);
	}
	free(copy);
	return dir;
}

int conf_init(struct conf_loader *L, const struct key_table *t, void *obj,
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
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct key_def *k = &t->keys[i];

		if (!k->def)
			continue;
		for (unsigned n = 0; n < key_slots(k); n++) {
			union key_value v;
			char why[256];
			int r = key_parse(k, k->def, L->dir, L->ctx, &v, why,
					  sizeof(why));
			if (r == -ENOMEM)
				L->oom = true;
			else if (r)	/* a bug in the table */
				conf_error(L, NULL, k->name, "internal error: "
					   "bad default '%s': %s", k->def, why);
			else
				key_store(k, obj, n, &v);
		}
	}
	return 0;
}

/* Reads the whole file (at most CONF_MAX_FILE bytes) into *buf. */
static int slurp(struct conf_loader *L, char **buf, size_t *len)
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
				conf_error(L, NULL, NULL, "the file is larger "
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
	conf_error(L, NULL, NULL, "cannot read: %s", strerror(errno));
fail_quiet:
	free(b);
	close(fd);
	return -1;
fail:
	conf_error(L, NULL, NULL, "cannot read: %s", strerror(errno));
	return -1;
}

int conf_read_file(struct conf_loader *L)
{
	char *buf;
	size_t len;

	if (slurp(L, &buf, &len) < 0)
		return -1;
	int lineno = 0;
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		struct conf_where w = { .line = ++lineno };
		struct lex_line lx;

		if (lineno == INT_MAX)
			break;	/* unreachable within CONF_MAX_FILE */
		if (lex_line(buf + pos, end - pos, &lx) < 0) {
			L->oom = true;
			break;
		}
		if (lx.kind == LEX_ERROR)
			conf_error(L, &w, lx.key, "%s", lx.why);
		else if (lx.kind == LEX_ASSIGN)
			assign(L, &w, lx.key, lx.value, L->dir);
		lex_line_free(&lx);
		pos = end + 1;
	}
	free(buf);
	return 0;
}

void conf_apply_overrides(struct conf_loader *L, int n, char *const args[])
{
	for (int i = 0; i < n; i++) {
		struct conf_where w = { .arg = i + 1 };
		struct lex_line lx;
		char sb[SHOWN_BUF];

		if (lex_line(args[i], strlen(args[i]), &lx) < 0) {
			L->oom = true;
			return;
		}
		if (lx.kind == LEX_BLANK || lx.error == LEXERR_NO_EQUALS) {
			conf_error(L, &w, NULL, "'%s' is not an assignment; "
				   "expected key=value",
				   conf_shown(args[i], sb, sizeof(sb)));
		} else if (lx.error == LEXERR_EMPTY_KEY) {
			conf_error(L, &w, NULL, "nothing before '='; expected "
				   "key=value");
		} else if (lx.kind == LEX_ERROR) {
			conf_error(L, &w, lx.key, "%s", lx.why);
		} else {
			/* Paths on the command line are relative to where
			 * the user is, not to the config file. */
			if (!L->cwd)
				L->cwd = getcwd(NULL, 0);
			assign(L, &w, lx.key, lx.value, L->cwd);
		}
		lex_line_free(&lx);
	}
}

/* The winning assignment of a slot that was set. */
static struct conf_where winner(const struct conf_slot *s, bool *bad)
{
	if (s->arg) {
		*bad = s->arg_bad;
		return (struct conf_where){ .arg = s->arg };
	}
	*bad = s->line_bad;
	return (struct conf_where){ .line = s->line };
}

/* O_NONBLOCK: a FIFO without a writer must not hang the check. */
static void check_file(struct conf_loader *L, const struct conf_where *w,
		       const char *key, const char *path, bool blockdev)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0) {
		conf_error(L, w, key, "cannot open '%s': %s", path,
			   strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0)
		conf_error(L, w, key, "cannot open '%s': %s", path,
			   strerror(errno));
	else if (S_ISDIR(st.st_mode))
		conf_error(L, w, key, "'%s' is a directory; expected a "
			   "regular file", path);
	else if (blockdev && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		conf_error(L, w, key, "'%s' is not a regular file or a block "
			   "device; expected a disk image or a block device", path);
	else if (!blockdev && !S_ISREG(st.st_mode))
		conf_error(L, w, key, "'%s' is not a regular file; expected "
			   "a regular file", path);
	close(fd);
}

/* An output file is created at run time; here only its folder must
 * exist, and the name must not be taken by a folder, a block device (a
 * disk) or a socket.  A FIFO is fine here; at run time it needs a reader. */
static void check_output(struct conf_loader *L, const struct conf_where *w,
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
		conf_error(L, w, key, "'%s' is a directory; expected a file "
			   "name", path);
	else if (exists && (S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)))
		conf_error(L, w, key, "'%s' is a %s; expected a file, a FIFO "
			   "or a character device", path,
			   S_ISBLK(st.st_mode) ? "block device" : "socket");
	else if (stat(dirname(copy), &st) < 0)
		conf_error(L, w, key, "cannot create '%s': %s", path,
			   strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		conf_error(L, w, key, "cannot create '%s': %s", path,
			   strerror(ENOTDIR));
	free(copy);
}

void conf_check(struct conf_loader *L)
{
	for (size_t i = 0; i < L->t->nkeys; i++) {
		const struct key_def *k = &L->t->keys[i];

		for (unsigned n = 0; n < key_slots(k); n++) {
			const struct conf_slot *s = slot_of(L, i, n);
			char name[128];
			bool bad;

			if (key_is_numbered(k) &&
			    !*(bool *)((char *)L->obj + k->present +
				       (size_t)n * k->stride))
				continue;	/* no such device */
			key_name(k, n, name, sizeof(name));
			if (!s->line && !s->arg) {
				if (k->flags & KEYF_REQUIRED)
					conf_error(L, NULL, NULL, "missing "
						   "required key '%s'", name);
				continue;
			}
			struct conf_where w = winner(s, &bad);
			if (bad)
				continue;
			const void *p = key_value_ptr(k, L->obj, n);
			if (k->type == KEY_PATH && (k->flags & KEYF_FILE) &&
			    *(char *const *)p)
				check_file(L, &w, name, *(char *const *)p,
					   k->flags & KEYF_BLOCKDEV);
			if (k->type == KEY_SINK &&
			    ((const struct sink *)p)->kind == SINK_FILE)
				check_output(L, &w, name,
					     ((const struct sink *)p)->path);
		}
	}
}

int conf_state(const struct conf_loader *L, const char *key,
	       struct conf_where *w)
{
	char why[256];
	unsigned n;
	long i = keytab_find(L->t, key, &n, why, sizeof(why));
	bool bad;

	*w = (struct conf_where){ 0 };
	if (i < 0)
		return -1;
	const struct conf_slot *s = slot_of(L, (size_t)i, n);
	if (!s->line && !s->arg)
		return 0;
	*w = winner(s, &bad);
	return bad ? -1 : 1;
}

int conf_finish(struct conf_loader *L)
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

void conf_free_values(const struct key_table *t, void *obj)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct key_def *k = &t->keys[i];

		for (unsigned n = 0; n < key_slots(k); n++) {
			void *p = key_value_ptr(k, obj, n);

			if (k->type == KEY_STRING || k->type == KEY_PATH) {
				free(*(char **)p);
				*(char **)p = NULL;
			} else if (k->type == KEY_SINK) {
				free(((struct sink *)p)->path);
				((struct sink *)p)->path = NULL;
			}
		}
	}
}
