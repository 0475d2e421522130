/*
 * The one reporting helper of the unit tests: check() prints "ok    NAME"
 * or "FAIL  NAME: why" and counts failures; main() returns
 * check_failures ? 1 : 0.  tests/t-unit.sh turns the lines into results.
 */
#ifndef PICOVM_TESTS_UNIT_CHECK_H
#define PICOVM_TESTS_UNIT_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int check_failures;

__attribute__((format(printf, 3, 4), unused)) static void
check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok    %s\n", name);
		return;
	}
	check_failures++;
	printf("FAIL  %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#endif
