/* Value parsers and printers; see value.h. */
#include "value.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int value_parse_u64(const char *s, uint64_t *out)
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

int value_parse_size(const char *s, uint64_t *out)
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

int value_parse_bool(const char *s, bool *out)
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

int value_parse_duration(const char *s, uint64_t *out_ms)
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

void value_format_size(uint64_t bytes, char *buf, size_t n)
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

void value_format_duration(uint64_t ms, char *buf, size_t n)
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
