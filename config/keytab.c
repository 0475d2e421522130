/* Key lookup, numbered keys and suggestions; see keytab.h. */
#include "keytab.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

bool key_is_numbered(const struct key_def *k)
{
	return n_component(k->name) != NULL;
}

unsigned key_slots(const struct key_def *k)
{
	return key_is_numbered(k) ? CONFIG_MAX_DEVICES : 1;
}

size_t key_prefix_len(const struct key_def *k)
{
	const char *p = n_component(k->name);

	return p ? (size_t)(p - k->name) : 0;
}

/* The pattern with its N component replaced by text. */
static void instantiate(const char *pat, const char *text, char *buf,
			size_t len)
{
	const char *p = n_component(pat);

	if (!p)
		snprintf(buf, len, "%s", pat);
	else
		snprintf(buf, len, "%.*s%s%s", (int)(p - pat), pat, text,
			 p + 1);
}

void key_name(const struct key_def *k, unsigned n, char *buf, size_t len)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", n);
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

long keytab_find(const struct key_table *t, const char *key, unsigned *n,
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

bool keytab_suggest(const struct key_table *t, const char *key, char *buf,
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
