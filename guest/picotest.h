/*
 * picotest: the test guest.  The kernel command line word picotest=NAME
 * or picotest=NAME:ARG picks one test from the table in picotest.c; its
 * return value is the exit status written to picovm's exit port.
 *
 * To add a test: write `int test_x(const struct bootinfo *bi, const char
 * *arg, size_t arglen)` (arg is NULL for a test without ":ARG"), declare
 * it here and add a row to the table.
 */
#ifndef PICOTEST_H
#define PICOTEST_H

#include <stddef.h>

#include "rt/rt.h"

/* Exit status for a missing or unknown test or a malformed argument. */
#define EXIT_USAGE 99

typedef int test_fn(const struct bootinfo *bi, const char *arg,
		    size_t arglen);

test_fn test_info;	/* t_info.c */
test_fn test_smp;	/* t_smp.c */
test_fn test_echo;	/* t_serial.c */
test_fn test_flood;
test_fn test_print;
test_fn test_uart;

#endif
