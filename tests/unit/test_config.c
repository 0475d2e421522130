/*
 * Unit tests of the config code: value parsers, the line lexer, key tables
 * with numbered device keys (through a test table of its own), the loader
 * (overrides, duplicates, suggestions, error order) and the print/reload
 * round trip of picovm's real table.
 *
 * Prints "ok    NAME" or "FAIL  NAME: why" per check; exits 1 if any
 * failed.  tests/t-unit.sh turns the lines into test results.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "../../config/internal.h"

/* A writable string, as overrides are (argv), from a literal. */
#define S(text) ((char[]){ text })

static char tmpdir[] = "/tmp/picovm-unit.XXXXXX";

static char *tmp_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		abort();
	return p;
}

/* tmp_path() without the free(), for use inside expressions; a few
 * results stay valid at once. */
static const char *tmp_path_static(const char *name)
{
	static char ring[4][512];
	static unsigned next;
	char *buf = ring[next++ % 4];

	snprintf(buf, sizeof(ring[0]), "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		return strdup("");
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

/* stderr capture: the loader prints its errors there. */
static int saved_stderr = -1;

static void capture_start(void)
{
	char *path = tmp_path("stderr");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	saved_stderr = dup(2);
	if (fd < 0 || saved_stderr < 0 || dup2(fd, 2) < 0)
		abort();
	close(fd);
	free(path);
}

static char *capture_end(void)
{
	char *path = tmp_path("stderr");

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	char *text = read_all(path);
	free(path);
	return text;
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- value parsers --------------------------------------------------- */

static void test_sizes(void)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t out;
	} cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "1K", 0, 1024 },
		{ "1k", 0, 1024 },
		{ "256M", 0, 256ULL << 20 },
		{ "256m", 0, 256ULL << 20 },
		{ "2G", 0, 2ULL << 30 },
		{ "1T", 0, 1ULL << 40 },
		{ "512MiB", 0, 512ULL << 20 },
		{ "512mib", 0, 512ULL << 20 },
		{ "3KiB", 0, 3072 },
		{ "1GiB", 0, 1ULL << 30 },
		{ "1TiB", 0, 1ULL << 40 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
		{ "16777215T", 0, 16777215ULL << 40 },
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "12X", -EINVAL, 0 },
		{ "12 M", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 },
		{ "1KB", -EINVAL, 0 },
		{ "1B", -EINVAL, 0 },
		{ "0x1000", -EINVAL, 0 },
		{ "99999999999999999999999X", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		char name[80];
		int r = cfg_parse_size(cases[i].in, &v);

		snprintf(name, sizeof(name), "size '%s'", cases[i].in);
		if (cases[i].ret)
			check(name, r == cases[i].ret && v == 12345,
			      "returned %d, wanted %d (value %" PRIu64 ")", r,
			      cases[i].ret, v);
		else
			check(name, r == 0 && v == cases[i].out,
			      "returned %d value %" PRIu64 ", wanted %" PRIu64,
			      r, v, cases[i].out);
	}
}

static void test_size_format(void)
{
	static const struct {
		uint64_t in;
		const char *out;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ 1024, "1K" },
		{ 4097, "4097" },
		{ 1536ULL << 10, "1536K" },
		{ 256ULL << 20, "256M" },
		{ 3ULL << 30, "3G" },
		{ 1ULL << 40, "1T" },
		{ 2048ULL << 40, "2048T" },
		{ UINT64_MAX, "18446744073709551615" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[CFG_VALUE_BUF], name[80];
		uint64_t back = 0;

		cfg_format_size(cases[i].in, buf, sizeof(buf));
		snprintf(name, sizeof(name), "size format %s", cases[i].out);
		check(name, strcmp(buf, cases[i].out) == 0 &&
			      cfg_parse_size(buf, &back) == 0 &&
			      back == cases[i].in,
		      "got '%s' (reads back as %" PRIu64 ")", buf, back);
	}
}

static void test_bools(void)
{
	static const char *const yes[] = { "true", "TRUE", "on", "On",
					   "yes", "YES", "1" };
	static const char *const no[] = { "false", "False", "off", "OFF",
					  "no", "No", "0" };
	static const char *const bad[] = { "", "2", "maybe", "y", "n",
					   "truee", " true", "enable" };
	char name[64];

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		bool v = false;
		snprintf(name, sizeof(name), "bool '%s'", yes[i]);
		check(name, cfg_parse_bool(yes[i], &v) == 0 && v, "not true");
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		bool v = true;
		snprintf(name, sizeof(name), "bool '%s'", no[i]);
		check(name, cfg_parse_bool(no[i], &v) == 0 && !v,
		      "not false");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool v;
		snprintf(name, sizeof(name), "bool bad '%s'", bad[i]);
		check(name, cfg_parse_bool(bad[i], &v) == -EINVAL,
		      "accepted");
	}
}

static void test_durations(void)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t ms;
	} cases[] = {
		{ "0", 0, 0 },
		{ "0s", 0, 0 },
		{ "500ms", 0, 500 },
		{ "30s", 0, 30000 },
		{ "2m", 0, 120000 },
		{ "1h", 0, 3600000 },
		{ "30", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "1.5s", -EINVAL, 0 },
		{ "5 s", -EINVAL, 0 },
		{ "5S", -EINVAL, 0 },
		{ "5sec", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "5124095576030432h", -ERANGE, 0 },
		{ "18446744073709551615ms", 0, UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 777;
		char name[80];
		int r = cfg_parse_duration(cases[i].in, &v);

		snprintf(name, sizeof(name), "duration '%s'", cases[i].in);
		if (cases[i].ret)
			check(name, r == cases[i].ret && v == 777,
			      "returned %d, wanted %d", r, cases[i].ret);
		else
			check(name, r == 0 && v == cases[i].ms,
			      "returned %d value %" PRIu64, r, v);
	}

	static const struct {
		uint64_t ms;
		const char *out;
	} fmt[] = {
		{ 0, "0" },	    { 1, "1ms" },	  { 1500, "1500ms" },
		{ 30000, "30s" },   { 90000, "90s" },	  { 120000, "2m" },
		{ 3600000, "1h" },  { 3660000, "61m" },
	};
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char buf[CFG_VALUE_BUF];
		uint64_t back = 1;

		cfg_format_duration(fmt[i].ms, buf, sizeof(buf));
		char name[64];
		snprintf(name, sizeof(name), "duration format %s", fmt[i].out);
		check(name, strcmp(buf, fmt[i].out) == 0 &&
			      cfg_parse_duration(buf, &back) == 0 &&
			      back == fmt[i].ms,
		      "got '%s'", buf);
	}
}

static void test_u64(void)
{
	uint64_t v = 0;

	check("u64 '42'", cfg_parse_u64("42", &v) == 0 && v == 42, "bad");
	check("u64 '007'", cfg_parse_u64("007", &v) == 0 && v == 7, "bad");
	check("u64 ''", cfg_parse_u64("", &v) == -EINVAL, "accepted");
	check("u64 'two'", cfg_parse_u64("two", &v) == -EINVAL, "accepted");
	check("u64 '1 '", cfg_parse_u64("1 ", &v) == -EINVAL, "accepted");
	check("u64 '-1'", cfg_parse_u64("-1", &v) == -EINVAL, "accepted");
	check("u64 overflow",
	      cfg_parse_u64("18446744073709551616", &v) == -ERANGE,
	      "not -ERANGE");
}

/* ---- lexer ----------------------------------------------------------- */

static void lex_expect(const char *name, const char *line,
		       enum cfg_line_kind kind, const char *key, const char *value,
		       enum cfg_lex_error err)
{
	struct cfg_line l;

	if (cfg_lex(line, strlen(line), &l) < 0) {
		check(name, false, "out of memory");
		return;
	}
	bool ok = l.kind == kind && l.error == err &&
		  (key ? l.key && !strcmp(l.key, key) : !l.key) &&
		  (value ? l.value && !strcmp(l.value, value) : !l.value);
	check(name, ok, "kind %d error %d key '%s' value '%s' why '%s'",
	      l.kind, l.error, l.key ? l.key : "(null)",
	      l.value ? l.value : "(null)", l.why);
	cfg_line_free(&l);
}

static void test_lexer(void)
{
	lex_expect("lex empty", "", CFG_BLANK, NULL, NULL, CFG_LEX_NONE);
	lex_expect("lex spaces", " \t ", CFG_BLANK, NULL, NULL, CFG_LEX_NONE);
	lex_expect("lex comment", "  # memory = 1", CFG_BLANK, NULL, NULL,
		   CFG_LEX_NONE);
	lex_expect("lex plain", "memory = 256M", CFG_ASSIGN, "memory", "256M",
		   CFG_LEX_NONE);
	lex_expect("lex tight", "memory=256M", CFG_ASSIGN, "memory", "256M",
		   CFG_LEX_NONE);
	lex_expect("lex trims", " \tvcpus\t=  2 \t", CFG_ASSIGN, "vcpus", "2",
		   CFG_LEX_NONE);
	lex_expect("lex crlf", "vcpus = 2\r", CFG_ASSIGN, "vcpus", "2",
		   CFG_LEX_NONE);
	lex_expect("lex trailing comment", "vcpus = 2 # two", CFG_ASSIGN,
		   "vcpus", "2", CFG_LEX_NONE);
	lex_expect("lex comment no space", "vcpus = 2#two", CFG_ASSIGN,
		   "vcpus", "2", CFG_LEX_NONE);
	lex_expect("lex empty value", "cmdline =", CFG_ASSIGN, "cmdline", "",
		   CFG_LEX_NONE);
	lex_expect("lex value with =", "cmdline = root=/dev/vda ro",
		   CFG_ASSIGN, "cmdline", "root=/dev/vda ro", CFG_LEX_NONE);
	lex_expect("lex unquoted inner quotes", "cmdline = a \"b\" c",
		   CFG_ASSIGN, "cmdline", "a \"b\" c", CFG_LEX_NONE);
	lex_expect("lex unquoted backslash", "cmdline = a\\nb", CFG_ASSIGN,
		   "cmdline", "a\\nb", CFG_LEX_NONE);
	lex_expect("lex quoted hash",
		   "cmdline = \"console=ttyS0 quiet # not a comment\"",
		   CFG_ASSIGN, "cmdline", "console=ttyS0 quiet # not a comment",
		   CFG_LEX_NONE);
	lex_expect("lex quoted spaces kept", "cmdline = \"  a  \"  # c",
		   CFG_ASSIGN, "cmdline", "  a  ", CFG_LEX_NONE);
	lex_expect("lex quoted empty", "cmdline = \"\"", CFG_ASSIGN,
		   "cmdline", "", CFG_LEX_NONE);
	lex_expect("lex escapes", "cmdline = \"a\\\"b\\\\c\"", CFG_ASSIGN,
		   "cmdline", "a\"b\\c", CFG_LEX_NONE);
	lex_expect("lex bad escape", "cmdline = \"a\\nb\"", CFG_ERROR,
		   "cmdline", NULL, CFG_LEX_BAD_ESCAPE);
	lex_expect("lex unterminated", "cmdline = \"abc", CFG_ERROR,
		   "cmdline", NULL, CFG_LEX_UNTERMINATED);
	lex_expect("lex escaped last quote", "cmdline = \"abc\\\"", CFG_ERROR,
		   "cmdline", NULL, CFG_LEX_UNTERMINATED);
	lex_expect("lex junk after quote", "cmdline = \"abc\" d", CFG_ERROR,
		   "cmdline", NULL, CFG_LEX_AFTER_QUOTE);
	lex_expect("lex second quoted part", "cmdline = \"a\" \"b\"",
		   CFG_ERROR, "cmdline", NULL, CFG_LEX_AFTER_QUOTE);
	lex_expect("lex no equals", "memory 256M", CFG_ERROR, NULL, NULL,
		   CFG_LEX_NO_EQUALS);
	lex_expect("lex equals in comment", "memory # = 256M", CFG_ERROR,
		   NULL, NULL, CFG_LEX_NO_EQUALS);
	lex_expect("lex empty key", " = 256M", CFG_ERROR, NULL, NULL,
		   CFG_LEX_EMPTY_KEY);
	lex_expect("lex key with space", "mem ory = 256M", CFG_ERROR,
		   "mem ory", NULL, CFG_LEX_BAD_KEY);
	lex_expect("lex key with quote", "\"memory\" = 256M", CFG_ERROR,
		   "\"memory\"", NULL, CFG_LEX_BAD_KEY);
	lex_expect("lex newline inside", "a = b\nc = d", CFG_ERROR, NULL,
		   NULL, CFG_LEX_CONTROL);

	struct cfg_line l;
	static const char nul_line[] = "a = b\0c";
	cfg_lex(nul_line, sizeof(nul_line) - 1, &l);
	check("lex NUL inside", l.kind == CFG_ERROR &&
				       l.error == CFG_LEX_CONTROL,
	      "kind %d", l.kind);
	cfg_line_free(&l);
}

/* ---- a test table with numbered devices ------------------------------ */

struct tdev {
	bool present;
	char *path;
	bool readonly;
	uint64_t size;
};

struct tnet {
	bool present;
	char *tap;
};

struct tobj {
	char *name;
	char *file;
	unsigned count;
	uint64_t mem;
	bool flag;
	uint64_t wait;
	unsigned mode;
	struct sink out;
	struct tdev disk[CONFIG_MAX_DEVICES];
	struct tnet net[CONFIG_MAX_DEVICES];
};

static const char *const modes[] = { "alpha", "beta", "gamma" };
static const char *const outs[] = { [SINK_STDOUT] = "stdout",
				    [SINK_NONE] = "none" };

static int check_even(const union cfg_value *v, const void *ctx, char *why,
		      size_t n)
{
	const unsigned *ctx_max = ctx;

	if (v->u % 2) {
		snprintf(why, n, "%u is odd; expected an even number", v->u);
		return -1;
	}
	if (ctx_max && v->u > *ctx_max) {
		snprintf(why, n, "%u is above the context's %u; expected "
			 "less", v->u, *ctx_max);
		return -1;
	}
	return 0;
}

#define T(f) offsetof(struct tobj, f)
#define DISK(sub, f)                                                      \
	.name = "disk.N." sub, .offset = T(disk[0].f),                     \
	.stride = sizeof(struct tdev), .present = T(disk[0].present)
static const struct cfg_key test_keys[] = {
	{ .name = "name", .type = CFG_STRING, .offset = T(name), .max = 8,
	  .help = "h" },
	{ .name = "file", .type = CFG_PATH, .flags = CFG_FILE,
	  .offset = T(file), .help = "h" },
	{ .name = "count", .type = CFG_UINT, .offset = T(count), .def = "2",
	  .min = 2, .max = 100, .check = check_even, .help = "h" },
	{ .name = "mem", .type = CFG_SIZE, .offset = T(mem), .def = "64M",
	  .min = 1 << 20, .max = 1ULL << 30, .align = 4096, .help = "h" },
	{ .name = "flag", .type = CFG_BOOL, .offset = T(flag), .help = "h" },
	{ .name = "wait", .type = CFG_DURATION, .offset = T(wait),
	  .def = "30s", .help = "h" },
	{ .name = "mode", .type = CFG_ENUM, .offset = T(mode), .def = "beta",
	  .choices = modes, .nchoices = 3, .help = "h" },
	{ .name = "out", .type = CFG_SINK, .offset = T(out), .def = "stdout",
	  .choices = outs, .nchoices = 3, .help = "h" },
	{ DISK("path", path), .type = CFG_PATH, .flags = CFG_REQUIRED,
	  .help = "h" },
	{ DISK("readonly", readonly), .type = CFG_BOOL, .def = "false",
	  .help = "h" },
	{ DISK("size", size), .type = CFG_SIZE, .def = "1G", .help = "h" },
	{ .name = "net.N.tap", .type = CFG_STRING, .offset = T(net[0].tap),
	  .stride = sizeof(struct tnet), .present = T(net[0].present),
	  .help = "h" },
};
static const struct cfg_table test_table = {
	test_keys, sizeof(test_keys) / sizeof(test_keys[0])
};

/* Loads text as file "t.conf" (or the given name) through the test
 * table; *err gets what the loader printed. */
static int tload_as(const char *fname, const char *text, int n,
		    char *const ov[], struct tobj *o, char **err,
		    const void *ctx)
{
	char *path = tmp_path(fname);
	struct cfg_loader L;
	int r;

	write_file(path, text);
	memset(o, 0, sizeof(*o));
	capture_start();
	if (cfg_init(&L, &test_table, o, ctx, path) < 0)
		abort();
	if (cfg_read_file(&L) == 0) {
		cfg_apply_overrides(&L, n, ov);
		cfg_check(&L);
	}
	r = cfg_finish(&L);
	*err = capture_end();
	free(path);
	return r;
}

static int tload(const char *text, int n, char *const ov[], struct tobj *o,
		 char **err)
{
	return tload_as("t.conf", text, n, ov, o, err, NULL);
}

static void test_table_defaults(void)
{
	struct tobj o;
	char *err;
	int r = tload("", 0, NULL, &o, &err);

	check("table defaults load", r == 0 && !*err, "r=%d err=%s", r, err);
	check("table defaults values",
	      o.count == 2 && o.mem == 64 << 20 && o.wait == 30000 &&
		      o.mode == 1 && o.out.kind == SINK_STDOUT && !o.name &&
		      !o.file && !o.flag,
	      "count %u mem %" PRIu64 " wait %" PRIu64 " mode %u", o.count,
	      o.mem, o.wait, o.mode);
	bool all = true;
	for (int i = 0; i < CONFIG_MAX_DEVICES; i++)
		all = all && o.disk[i].size == 1ULL << 30 &&
		      !o.disk[i].present && !o.disk[i].readonly;
	check("table defaults every device", all, "a device differs");
	cfg_free_values(&test_table, &o);
	free(err);
}

static void test_table_numbered(void)
{
	struct tobj o;
	char *err;
	int r = tload("disk.0.path = /a\n"
		      "disk.15.path = b\n"
		      "disk.15.readonly = yes\n"
		      "disk.3.size = 2G\n"
		      "disk.3.path = \"/c d\"\n"
		      "net.7.tap = tap7\n",
		      0, NULL, &o, &err);

	check("numbered load", r == 0 && !*err, "r=%d err=%s", r, err);
	check("numbered present",
	      o.disk[0].present && o.disk[3].present && o.disk[15].present &&
		      !o.disk[1].present && !o.disk[14].present &&
		      o.net[7].present && !o.net[0].present,
	      "wrong present flags");
	check("numbered values",
	      o.disk[0].path && !strcmp(o.disk[0].path, "/a") &&
		      o.disk[3].path && !strcmp(o.disk[3].path, "/c d") &&
		      o.disk[3].size == 2ULL << 30 && o.disk[15].readonly &&
		      !o.disk[0].readonly && o.net[7].tap &&
		      !strcmp(o.net[7].tap, "tap7"),
	      "wrong values");
	char *want = tmp_path("b");
	check("numbered relative path", o.disk[15].path &&
						!strcmp(o.disk[15].path, want),
	      "got '%s' want '%s'", o.disk[15].path, want);
	free(want);

	/* The printer groups keys by device, in device order. */
	char *out = tmp_path("print.conf");
	FILE *f = fopen(out, "w");
	cfg_print(&test_table, &o, f);
	fclose(f);
	char *text = read_all(out);
	const char *p0 = strstr(text, "disk.0.path"),
		   *p0s = strstr(text, "disk.0.size"),
		   *p3 = strstr(text, "disk.3.path"),
		   *p15 = strstr(text, "disk.15.readonly"),
		   *n7 = strstr(text, "net.7.tap = tap7");
	check("numbered print order",
	      p0 && p0s && p3 && p15 && n7 && p0 < p0s && p0s < p3 &&
		      p3 < p15 && p15 < n7 && !strstr(text, "disk.1."),
	      "printed:\n%s", text);
	check("numbered print quotes", contains(text, "disk.3.path = \"/c d\""),
	      "printed:\n%s", text);

	/* And the printed file loads back to the same values. */
	struct tobj o2;
	char *err2;
	r = tload(text, 0, NULL, &o2, &err2);
	bool same = r == 0 && o2.count == o.count && o2.mem == o.mem &&
		    o2.wait == o.wait && o2.mode == o.mode;
	for (int i = 0; same && i < CONFIG_MAX_DEVICES; i++) {
		same = o2.disk[i].present == o.disk[i].present &&
		       o2.disk[i].readonly == o.disk[i].readonly &&
		       o2.disk[i].size == o.disk[i].size &&
		       !o2.disk[i].path == !o.disk[i].path &&
		       (!o.disk[i].path ||
			!strcmp(o2.disk[i].path, o.disk[i].path)) &&
		       o2.net[i].present == o.net[i].present;
	}
	check("numbered print round trip", same, "r=%d err=%s", r, err2);
	cfg_free_values(&test_table, &o2);
	free(err2);
	free(text);
	free(out);
	cfg_free_values(&test_table, &o);
	free(err);
}

static void expect_error(const char *name, const char *text, int n,
			 char *const ov[], const char *want)
{
	struct tobj o;
	char *err;
	int r = tload(text, n, ov, &o, &err);

	check(name, r == -1 && contains(err, want), "r=%d, wanted '%s', got '%s'",
	      r, want, err);
	cfg_free_values(&test_table, &o);
	free(err);
}

static void test_table_errors(void)
{
	expect_error("numbered 16 rejected", "disk.16.path = a\n", 0, NULL,
		     "t.conf:1: disk.16.path: '16' is not a device number; "
		     "expected disk.N.path with N from 0 to 15");
	expect_error("numbered leading zero", "disk.01.path = a\n", 0, NULL,
		     "disk.01.path: '01' is not a device number");
	expect_error("numbered sign", "disk.+1.path = a\n", 0, NULL,
		     "disk.+1.path: key contains '+'");
	expect_error("numbered letters", "disk.x.path = a\n", 0, NULL,
		     "'x' is not a device number");
	expect_error("numbered empty", "disk..path = a\n", 0, NULL,
		     "'' is not a device number");
	expect_error("numbered required", "disk.4.readonly = on\n", 0, NULL,
		     "t.conf: missing required key 'disk.4.path'");
	expect_error("numbered duplicate",
		     "disk.2.path = a\ndisk.2.path = b\n", 0, NULL,
		     "t.conf:2: disk.2.path: already set on line 1");
	expect_error("unknown numbered suggestion", "disk.2.pth = a\n", 0,
		     NULL, "disk.2.pth: unknown key; did you mean "
			   "'disk.2.path'?");
	expect_error("unknown numbered suffix", "dsk.3.readonly = on\n", 0,
		     NULL, "did you mean 'disk.3.readonly'?");
	expect_error("unknown missing number", "disk.path = a\n", 0, NULL,
		     "did you mean 'disk.0.path'?");
	expect_error("unknown near", "mem2 = 1M\n", 0, NULL,
		     "mem2: unknown key; did you mean 'mem'?");
	expect_error("unknown transposed", "mme = 1M\n", 0, NULL,
		     "mme: unknown key; did you mean 'mem'?");
	expect_error("unknown case", "COUNT = 4\n", 0, NULL,
		     "did you mean 'count'?");
	expect_error("unknown far", "zzzzzz = 1\n", 0, NULL,
		     "zzzzzz: unknown key; expected a key listed by");
	expect_error("duplicate key", "count = 4\nmem = 2M\n\ncount = 6\n", 0,
		     NULL, "t.conf:4: count: already set on line 1");
	char *dup[] = { S("count=4"), S("count=6") };
	expect_error("duplicate override", "", 2, dup,
		     "command line: argument 2: count: already set by "
		     "argument 1");
	char *noeq[] = { S("count") };
	expect_error("override without =", "", 1, noeq,
		     "command line: argument 1: 'count' is not an "
		     "assignment; expected key=value");
	char *unk[] = { S("count=4"), S("mem=2M"), S("cuont=4") };
	expect_error("override unknown suggestion", "", 3, unk,
		     "command line: argument 3: cuont: unknown key; did you "
		     "mean 'count'?");
	char *badq[] = { S("name=\"ab") };
	expect_error("override bad quote", "", 1, badq,
		     "command line: argument 1: name: no closing quote");
	expect_error("uint below min", "count = 0\n", 0, NULL,
		     "count: 0 is below the minimum of 2; expected 2..100");
	expect_error("uint above max", "count = 102\n", 0, NULL,
		     "count: 102 is above the maximum of 100; expected 2..100");
	expect_error("uint check callback", "count = 5\n", 0, NULL,
		     "count: 5 is odd; expected an even number");
	expect_error("uint not a number", "count = 4x\n", 0, NULL,
		     "count: '4x' is not a whole number");
	expect_error("uint too large", "count = 4294967296\n", 0, NULL,
		     "count: '4294967296' is too large");
	expect_error("size below min", "mem = 4K\n", 0, NULL,
		     "mem: 4K is below the minimum of 1M; expected 1M..1G");
	expect_error("size above max", "mem = 2G\n", 0, NULL,
		     "mem: 2G is above the maximum of 1G; expected 1M..1G");
	expect_error("size alignment", "mem = 1048577\n", 0, NULL,
		     "mem: 1048577 is not a multiple of 4K");
	expect_error("size overflow", "mem = 99999999999T\n", 0, NULL,
		     "mem: '99999999999T' is too large");
	expect_error("bad enum", "mode = delta\n", 0, NULL,
		     "mode: 'delta' is not a valid choice; expected alpha, "
		     "beta or gamma");
	expect_error("bad sink", "out = stderr\n", 0, NULL,
		     "out: 'stderr' is not a valid output; expected stdout, "
		     "none or file:PATH");
	expect_error("sink file without path", "out = file:\n", 0, NULL,
		     "out: no path after 'file:'");
	expect_error("sink folder missing", "out = file:nodir/x.log\n", 0,
		     NULL, "/nodir/x.log': No such file or directory");
	expect_error("string too long", "name = abcdefghi\n", 0, NULL,
		     "name: the value is 9 bytes long; expected at most 8");
	expect_error("path missing", "file = nofile\n", 0, NULL,
		     "t.conf:1: file: cannot open '");
	expect_error("path directory", "file = /\n", 0, NULL,
		     "file: '/' is a directory; expected a regular file");

	/* The context reaches the check callback. */
	struct tobj o;
	char *err;
	unsigned max = 6;
	int r = tload_as("t.conf", "count = 8\n", 0, NULL, &o, &err, &max);
	check("check callback context", r == -1 && contains(err, "above the "
							"context's 6"),
	      "r=%d err=%s", r, err);
	cfg_free_values(&test_table, &o);
	free(err);
}

static void test_table_collects(void)
{
	struct tobj o;
	char *err;
	/* Line 1's error is found last (files are checked at the end), but
	 * it must be printed first. */
	int r = tload("file = nofile\n"
		      "count = x\n"
		      "bogus\n"
		      "mem = 1Q\n"
		      "flag = maybe\n"
		      "wait = 30\n",
		      0, NULL, &o, &err);

	check("errors all collected", r == -1 && count_lines(err) == 6,
	      "got %d lines:\n%s", count_lines(err), err);
	const char *l1 = strstr(err, "t.conf:1:"), *l2 = strstr(err, "t.conf:2:"),
		   *l6 = strstr(err, "t.conf:6:");
	check("errors in line order", l1 && l2 && l6 && l1 < l2 && l2 < l6,
	      "got:\n%s", err);
	check("errors bool message",
	      contains(err, "t.conf:5: flag: 'maybe' is not a boolean"),
	      "got:\n%s", err);
	check("errors duration message",
	      contains(err, "t.conf:6: wait: '30' is not a duration"),
	      "got:\n%s", err);
	cfg_free_values(&test_table, &o);
	free(err);
}

static void test_table_overrides(void)
{
	struct tobj o;
	char *err;
	char *ov[] = { S("mem=128M"), S("name = \"a b\""), S("out=none"),
		       S("flag=1"), S("disk.1.path=rel") };
	int r = tload("mem = 32M\nname = x\nflag = no\n", 5, ov, &o, &err);

	check("overrides load", r == 0 && !*err, "r=%d err=%s", r, err);
	check("overrides win",
	      o.mem == 128ULL << 20 && o.name && !strcmp(o.name, "a b") &&
		      o.out.kind == SINK_NONE && o.flag,
	      "mem %" PRIu64 " name %s", o.mem, o.name);
	char *cwd = getcwd(NULL, 0), *want;
	if (asprintf(&want, "%s/rel", cwd) < 0)
		abort();
	check("override path relative to cwd",
	      o.disk[1].path && !strcmp(o.disk[1].path, want), "got %s",
	      o.disk[1].path);
	free(want);
	free(cwd);
	cfg_free_values(&test_table, &o);
	free(err);

	/* A bad file value stays an error even when overridden; a good
	 * override of a file value that would fail a later check is not. */
	char *ov2[] = { S("file=/dev/null") };
	r = tload("file = nofile\n", 1, ov2, &o, &err);
	check("override replaces a file's missing path", r == -1 &&
		     contains(err, "'/dev/null' is not a regular file") &&
		     !contains(err, "nofile"),
	      "r=%d err=%s", r, err);
	cfg_free_values(&test_table, &o);
	free(err);
	char *me = tmp_path("t.conf"), *ov3[2];
	if (asprintf(&ov3[0], "file=%s", me) < 0)
		abort();
	ov3[1] = NULL;
	r = tload("file = nofile\n", 1, ov3, &o, &err);
	check("override path wins", r == 0 && o.file && !strcmp(o.file, me),
	      "r=%d err=%s", r, err);
	cfg_free_values(&test_table, &o);
	free(err);
	free(ov3[0]);
	free(me);
}

static void test_suggest(void)
{
	char buf[64];

	check("suggest mem", cfg_suggest(&test_table, "men", buf,
					    sizeof(buf)) &&
				     !strcmp(buf, "mem"),
	      "got %s", buf);
	check("suggest keeps device number",
	      cfg_suggest(&test_table, "disk.12.readnoly", buf,
			     sizeof(buf)) &&
		      !strcmp(buf, "disk.12.readonly"),
	      "got %s", buf);
	check("suggest none", !cfg_suggest(&test_table, "qqqqqqq", buf,
					      sizeof(buf)),
	      "suggested %s", buf);
	check("suggest not for 1 letter", !cfg_suggest(&test_table, "x", buf,
							  sizeof(buf)),
	      "suggested %s", buf);
	check("suggest real table", cfg_suggest(&cfg_keys, "memroy", buf,
						   sizeof(buf)) &&
					    !strcmp(buf, "memory"),
	      "got %s", buf);
	check("suggest real table dotted",
	      cfg_suggest(&cfg_keys, "memory.hugepage", buf,
			     sizeof(buf)) &&
		      !strcmp(buf, "memory.hugepages"),
	      "got %s", buf);
}

static void test_quoting(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "", "\"\"" },
		{ "a b", "\"a b\"" },
		{ " lead", "\" lead\"" },
		{ "trail ", "\"trail \"" },
		{ "a#b", "\"a#b\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "back\\slash" },
		{ "back\\ slash", "\"back\\\\ slash\"" },
		{ "tab\there", "\"tab\there\"" },
		{ "root=/dev/vda", "root=/dev/vda" },
	};
	char *path = tmp_path("quote");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");
		cfg_put_value(cases[i].in, f);
		fclose(f);
		char *got = read_all(path), name[64], line[256];
		struct cfg_line l;

		snprintf(name, sizeof(name), "quote %zu", i);
		snprintf(line, sizeof(line), "k = %s", got);
		cfg_lex(line, strlen(line), &l);
		check(name, !strcmp(got, cases[i].out) &&
				    l.kind == CFG_ASSIGN &&
				    !strcmp(l.value, cases[i].in),
		      "'%s' printed as '%s', wanted '%s'", cases[i].in, got,
		      cases[i].out);
		cfg_line_free(&l);
		free(got);
	}
	free(path);
}

/* ---- picovm's own table ---------------------------------------------- */

static const struct config_limits lim254 = { .max_vcpus = CONFIG_MAX_VCPUS };

static int cload(const char *fname, const char *text, int n,
		 char *const ov[], const struct config_limits *lim,
		 struct config *c, char **err)
{
	char *path = tmp_path(fname);
	int r;

	if (text)
		write_file(path, text);
	capture_start();
	r = config_load(c, path, n, ov, lim);
	*err = capture_end();
	free(path);
	return r;
}

static void expect_config_error(const char *name, const char *text,
				const struct config_limits *lim,
				const char *want)
{
	struct config c;
	char *err;
	int r = cload("vm.conf", text, 0, NULL, lim, &c, &err);

	check(name, r == -1 && contains(err, want),
	      "r=%d, wanted '%s', got '%s'", r, want, err);
	if (r == 0)
		config_free(&c);
	free(err);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_config(const struct config *a, const struct config *b)
{
	return same_str(a->name, b->name) && same_str(a->kernel, b->kernel) &&
	       a->kernel_format == b->kernel_format &&
	       same_str(a->initrd, b->initrd) &&
	       same_str(a->cmdline, b->cmdline) && a->memory == b->memory &&
	       a->hugepages == b->hugepages && a->vcpus == b->vcpus &&
	       a->serial.kind == b->serial.kind &&
	       same_str(a->serial.path, b->serial.path) &&
	       a->log.kind == b->log.kind &&
	       same_str(a->log.path, b->log.path) &&
	       a->timeout_ms == b->timeout_ms;
}

static void test_config_defaults(void)
{
	char *kernel = tmp_path("vmlinux");
	struct config c;
	char *err;

	write_file(kernel, "not really a kernel");
	int r = cload("my-vm.conf", "kernel = vmlinux\n", 0, NULL, &lim254,
		      &c, &err);
	check("config minimal load", r == 0 && !*err, "r=%d err=%s", r, err);
	free(err);
	if (r)
		return;
	check("config defaults",
	      !strcmp(c.name, "my-vm") && !strcmp(c.kernel, kernel) &&
		      c.kernel_format == KERNEL_FORMAT_AUTO && !c.initrd &&
		      !strcmp(c.cmdline, "") && c.memory == 256ULL << 20 &&
		      !c.hugepages && c.vcpus == 1 &&
		      c.serial.kind == SINK_STDOUT && !c.serial.path &&
		      c.log.kind == SINK_STDOUT && !c.log.path &&
		      c.timeout_ms == 0,
	      "name %s kernel %s", c.name, c.kernel);

	char *out = tmp_path("print");
	FILE *f = fopen(out, "w");
	config_print(&c, f);
	fclose(f);
	char *text = read_all(out), *want;
	if (asprintf(&want,
		     "name = my-vm\n"
		     "kernel = %s\n"
		     "kernel.format = auto\n"
		     "initrd = \"\"\n"
		     "cmdline = \"\"\n"
		     "memory = 256M\n"
		     "memory.hugepages = false\n"
		     "vcpus = 1\n"
		     "serial = stdout\n"
		     "serial.1 = none\n"
		     "log = stderr\n"
		     "timeout = 0\n"
		     "console = serial\n"
		     "acpi = true\n"
		     "virtio.cmdline = auto\n"
		     "sandbox = true\n"
		     "sandbox.user = \"\"\n"
		     "sandbox.chroot = \"\"\n"
		     "snapshot.path = \"\"\n"
		     "snapshot.after = stop\n"
		     "control = \"\"\n"
		     "gdb = \"\"\n"
		     "gdb.wait = false\n",
		     kernel) < 0)
		abort();
	check("config print defaults", !strcmp(text, want), "printed:\n%s",
	      text);
	free(want);
	free(text);
	free(out);
	free(kernel);
	config_free(&c);
	check("config_free clears", !c.name && !c.kernel && !c.file,
	      "pointers left");
}

static void test_config_round_trip(void)
{
	struct config c, c2;
	char *err;
	char *ov[] = { S("vcpus=3"), S("timeout=1500ms") };

	if (mkdir(tmp_path_static("sub"), 0700) < 0 && errno != EEXIST)
		abort();
	write_file(tmp_path_static("sub/initrd.img"), "x");
	int r = cload("rt.conf",
		      "# every key set\n"
		      "name = rt_1.x\n"
		      "kernel = vmlinux\n"
		      "kernel.format = PVH\n"
		      "initrd = ./sub/initrd.img\n"
		      "cmdline = \" console=ttyS0 # \\\"x\\\" \\\\ \" # c\n"
		      "memory = 1536MiB\n"
		      "memory.hugepages = yes\n"
		      "vcpus = 2\n"
		      "serial = file:sub/serial out.log\n"
		      "log = \"file:sub/picovm.log\"\n"
		      "timeout = 2m\n",
		      2, ov, &lim254, &c, &err);
	check("config full load", r == 0 && !*err, "r=%d err=%s", r, err);
	free(err);
	if (r)
		return;
	check("config full values",
	      !strcmp(c.name, "rt_1.x") &&
		      c.kernel_format == KERNEL_FORMAT_PVH &&
		      !strcmp(c.cmdline, " console=ttyS0 # \"x\" \\ ") &&
		      c.memory == 1536ULL << 20 && c.hugepages &&
		      c.vcpus == 3 && c.serial.kind == SINK_FILE &&
		      !strcmp(c.serial.path,
			      tmp_path_static("sub/serial out.log")) &&
		      c.log.kind == SINK_FILE &&
		      !strcmp(c.initrd, tmp_path_static("sub/initrd.img")) &&
		      c.timeout_ms == 1500,
	      "cmdline '%s' vcpus %u timeout %" PRIu64, c.cmdline, c.vcpus,
	      c.timeout_ms);

	/* Print to a file in another folder: paths are absolute, so it
	 * must load back to the same config. */
	char *out = tmp_path("sub/printed.conf");
	FILE *f = fopen(out, "w");
	config_print(&c, f);
	fclose(f);
	capture_start();
	r = config_load(&c2, out, 0, NULL, &lim254);
	err = capture_end();
	check("config print round trip", r == 0 && same_config(&c, &c2),
	      "r=%d err=%s", r, err);
	free(err);
	if (r == 0)
		config_free(&c2);
	free(out);
	config_free(&c);
}

static void test_config_errors(void)
{
	expect_config_error("config missing kernel", "memory = 64M\n", &lim254,
			    "vm.conf: missing required key 'kernel'");
	expect_config_error("config kernel not found", "kernel = nokernel\n",
			    &lim254, "vm.conf:1: kernel: cannot open '");
	expect_config_error("config initrd not found",
			    "kernel = vmlinux\ninitrd = /nonexistent/i\n",
			    &lim254,
			    "vm.conf:2: initrd: cannot open '/nonexistent/i': "
			    "No such file or directory");
	expect_config_error("config vcpus 0", "kernel = vmlinux\nvcpus = 0\n",
			    &lim254,
			    "vm.conf:2: vcpus: 0 is below the minimum of 1");
	expect_config_error("config vcpus picovm limit",
			    "kernel = vmlinux\nvcpus = 255\n", &lim254,
			    "vcpus: 255 is above the maximum of 254; expected "
			    "1..254 (picovm allows at most 254)");
	static const struct config_limits lim4 = { .max_vcpus = 4 };
	expect_config_error("config vcpus KVM limit",
			    "kernel = vmlinux\nvcpus = 5\n", &lim4,
			    "vcpus: 5 is above the maximum of 4; expected 1..4 "
			    "(KVM on this host allows at most 4)");
	expect_config_error("config memory min",
			    "kernel = vmlinux\nmemory = 1M\n", &lim254,
			    "memory: 1M is below the minimum of 8M; expected "
			    "8M..1T");
	expect_config_error("config memory max",
			    "kernel = vmlinux\nmemory = 2T\n", &lim254,
			    "memory: 2T is above the maximum of 1T");
	expect_config_error("config memory 4K",
			    "kernel = vmlinux\nmemory = 10001K\n", &lim254,
			    "memory: 10001K is not a multiple of 4K");
	expect_config_error("config hugepages 2M",
			    "kernel = vmlinux\nmemory = 9M\n"
			    "memory.hugepages = on\n",
			    &lim254,
			    "vm.conf:3: memory.hugepages: memory = 9M is not a "
			    "multiple of 2M");
	expect_config_error("config bad name", "kernel = vmlinux\nname = a/b\n",
			    &lim254, "vm.conf:2: name: 'a/b' contains '/'");
	expect_config_error("config empty kernel", "kernel = \"\"\n", &lim254,
			    "vm.conf:1: kernel: empty path; expected a file "
			    "name");

	char *longline = malloc(70000);
	strcpy(longline, "kernel = vmlinux\ncmdline = ");
	size_t len = strlen(longline);
	memset(longline + len, 'a', 65536);
	strcpy(longline + len + 65536, "\n");
	expect_config_error("config cmdline too long", longline, &lim254,
			    "cmdline: the value is 65536 bytes long; expected "
			    "at most 65535 bytes");
	longline[len + 65535] = '\n';
	longline[len + 65536] = '\0';
	struct config c;
	char *err;
	int r = cload("vm.conf", longline, 0, NULL, &lim254, &c, &err);
	check("config cmdline 65535 ok", r == 0 && strlen(c.cmdline) == 65535,
	      "r=%d err=%.200s", r, err);
	if (r == 0)
		config_free(&c);
	free(err);
	free(longline);

	r = cload("bad+name.conf", "kernel = vmlinux\n", 0, NULL, &lim254, &c,
		  &err);
	check("config bad default name",
	      r == -1 && contains(err, "bad+name.conf: name: 'bad+name' "
				       "contains '+'"),
	      "r=%d err=%s", r, err);
	free(err);
	r = cload("bad+name.conf", "kernel = vmlinux\nname = good\n", 0, NULL,
		  &lim254, &c, &err);
	check("config bad default name overridden", r == 0, "r=%d err=%s", r,
	      err);
	if (r == 0)
		config_free(&c);
	free(err);

	r = cload("nonexistent.conf", NULL, 0, NULL, &lim254, &c, &err);
	check("config file not found",
	      r == -1 && contains(err, "nonexistent.conf: cannot read: No "
				       "such file or directory\n") &&
		      count_lines(err) == 1,
	      "r=%d err=%s", r, err);
	free(err);
	r = cload("sub", NULL, 0, NULL, &lim254, &c, &err);
	check("config file is a directory",
	      r == -1 && contains(err, "/sub: cannot read: Is a directory"),
	      "r=%d err=%s", r, err);
	free(err);

	char *ov[] = { S("vcpus=2"), S("memory=1M") };
	r = cload("vm.conf", "kernel = vmlinux\n", 2, ov, &lim254, &c, &err);
	check("config override error",
	      r == -1 && contains(err, "picovm: command line: argument 2: "
				       "memory: 1M is below the minimum"),
	      "r=%d err=%s", r, err);
	free(err);
}

/* sandbox.user: a typo must never turn the privilege drop into none. */
static void test_user(void)
{
	static const char *const bad[] = {
		"-1", "4294967295", "4294967296", "65534:-1", "65534:4294967295",
		"18446744073709551616", "+5", " 5", "5 ", "5:", ":5", "", "0x10",
		"5:5:5", "0", "root", "0:5", "5:0", "00", "toor", "nosuch",
		"broken", "negative", "wrap",
	};
	static const struct { const char *spec; uint32_t uid, gid; } good[] = {
		{ "1", 1, 1 }, { "65534", 65534, 65534 }, { "1000:100", 1000, 100 },
		{ "4294967294", 4294967294u, 4294967294u }, { "nobody", 65534, 65534 },
		{ "app", 1001, 1002 },
	};
	char *pw = tmp_path("passwd");
	char why[256];

	write_file(pw, "root:x:0:0:root:/root:/bin/sh\n"
		   "toor:x:5:0::/:/bin/sh\n"
		   "nobody:x:65534:65534::/:/bin/false\n"
		   "broken:x:12\n"
		   "negative:x:-1:5::/:/bin/false\n"
		   "wrap:x:4294967296:5::/:/bin/false\n"
		   "app:x:1001:1002::/:/bin/false\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t u = 7, g = 7;
		char name[64];
		why[0] = '\0';
		int r = config_parse_user(bad[i], pw, &u, &g, why, sizeof(why));
		snprintf(name, sizeof(name), "sandbox.user '%s' is refused", bad[i]);
		check(name, r == -1 && u == 7 && g == 7 && strstr(why, "expected"),
		      "r=%d uid=%u gid=%u why=%s", r, u, g, why);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t u = 7, g = 7;
		char name[64];
		int r = config_parse_user(good[i].spec, pw, &u, &g, why, sizeof(why));
		snprintf(name, sizeof(name), "sandbox.user '%s' parses", good[i].spec);
		check(name, r == 0 && u == good[i].uid && g == good[i].gid,
		      "r=%d uid=%u gid=%u", r, u, g);
	}
	free(pw);
}

static void test_forward(void)
{
	static const char *const bad[] = {
		"tcp", "tcp:", "tcp:80", "tcp:80:", "tcp:0:80", "tcp:80:0",
		"tcp:65536:80", "tcp:80:65536", "tcp:080000:80", "tcp:+80:80",
		"tcp: 80:80", "tcp:80:80,", ",tcp:80:80", "tcp:80:80,,udp:1:1",
		"TCP:80:80", "sctp:1:1", "tcp:80:80 ", "tcp:80-81:80",
	};
	struct net_forward f[CONFIG_MAX_FORWARDS];
	char why[256], list[CONFIG_MAX_FORWARDS * 16 + 16] = "";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		why[0] = '\0';
		int r = config_parse_forward(bad[i], f, CONFIG_MAX_FORWARDS, why,
					     sizeof(why));
		snprintf(name, sizeof(name), "net.N.forward '%s' is refused", bad[i]);
		check(name, r == -1 && strstr(why, "expected"), "r=%d why=%s", r, why);
	}
	int r = config_parse_forward("tcp:8080:80,udp:65535:1", f,
				     CONFIG_MAX_FORWARDS, why, sizeof(why));
	check("net.N.forward 'tcp:8080:80,udp:65535:1' parses", r == 2 &&
	      !f[0].udp && f[0].host == 8080 && f[0].guest == 80 && f[1].udp &&
	      f[1].host == 65535 && f[1].guest == 1, "r=%d", r);
	check("net.N.forward '' is none",
	      config_parse_forward("", f, CONFIG_MAX_FORWARDS, why, sizeof(why)) == 0,
	      "not 0");
	for (unsigned i = 0; i <= CONFIG_MAX_FORWARDS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%stcp:%u:1",
			 i ? "," : "", 1000 + i);
	r = config_parse_forward(list, f, CONFIG_MAX_FORWARDS, why, sizeof(why));
	check("net.N.forward: one more than 32 forwards is refused",
	      r == -1 && strstr(why, "more than 32"), "r=%d why=%s", r, why);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_sizes();
	test_size_format();
	test_bools();
	test_durations();
	test_u64();
	test_lexer();
	test_table_defaults();
	test_table_numbered();
	test_table_errors();
	test_table_collects();
	test_table_overrides();
	test_suggest();
	test_quoting();
	test_config_defaults();
	test_config_round_trip();
	test_config_errors();
	test_user();
	test_forward();

	char *cmd;
	if (asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		free(cmd);
	}
	return check_failures ? 1 : 0;
}
