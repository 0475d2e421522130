/*
 * libFuzzer target: the config loader (config/: lexer, value parsers, key
 * table, overrides, cross-key checks) and the print/reload round trip.
 *
 * Input: the config file's text, then up to 8 command-line overrides,
 * separated by NUL bytes.  The file lives in a private temporary folder
 * holding a file "k", so `kernel = k` is a kernel that exists.  When a
 * load succeeds, `check`'s output is loaded again and must print the
 * same: anything else is a bug (abort).  The loader's messages go to
 * stderr: run with -close_fd_mask=2 (libFuzzer keeps its own reports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../config/config.h"

#define MAX_OVERRIDES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* In memory when /dev/shm exists: the loader opens and stats a lot. */
static char dir[64];
static char file[64], again[64], kfile[64];

static void cleanup(void)
{
	unlink(file);
	unlink(again);
	unlink(kfile);
	rmdir(dir);
}

static void write_all(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static char *printed(const struct config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	config_print(c, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct config_limits lim = { .max_vcpus = 254 };
	char *copy, *ov[MAX_OVERRIDES];
	int nov = 0;

	if (!file[0]) {
		strcpy(dir, "/dev/shm/picovm-fuzz-config.XXXXXX");
		if (!mkdtemp(dir)) {
			strcpy(dir, "/tmp/picovm-fuzz-config.XXXXXX");
			if (!mkdtemp(dir))
				abort();
		}
		atexit(cleanup);
		snprintf(file, sizeof(file), "%s/vm.conf", dir);
		snprintf(again, sizeof(again), "%s/again.conf", dir);
		snprintf(kfile, sizeof(kfile), "%s/k", dir);
		write_all(kfile, "kernel", 6);
	}
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	size_t flen = strlen(copy);
	for (char *p = copy + flen; p < copy + size && nov < MAX_OVERRIDES;) {
		ov[nov++] = ++p;
		p += strlen(p);
	}
	write_all(file, copy, flen);

	struct config c, c2;
	if (config_load(&c, file, nov, ov, &lim) == 0) {
		size_t n1, n2;
		char *p1 = printed(&c, &n1);
		write_all(again, p1, n1);
		if (config_load(&c2, again, 0, NULL, &lim) != 0)
			abort();	/* check's output does not load */
		char *p2 = printed(&c2, &n2);
		/* name defaults to the file name: only that line may differ
		 * when the input left it unset, and then it is printed as
		 * set in the first output, so the second matches. */
		if (n1 != n2 || memcmp(p1, p2, n1) != 0)
			abort();	/* the round trip changed something */
		free(p1);
		free(p2);
		config_free(&c2);
		config_free(&c);
	}
	free(copy);
	return 0;
}
