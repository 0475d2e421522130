/*
 * Printing an object through its key table: as a config file (`picovm
 * check`) and as the key list of `picovm --help`.
 */
#ifndef PICOVM_CONFIG_PRINT_H
#define PICOVM_CONFIG_PRINT_H

#include <stdio.h>

#include "keytab.h"

/* Every key, one "key = value" line each, in table order; numbered keys
 * only for the devices present, device by device.  config_load() reads the
 * output back to the same values. */
void conf_print(const struct key_table *t, const void *obj, FILE *out);
/* Every key with its type, default and one line of help. */
void conf_help(const struct key_table *t, FILE *out);
/* Writes s as a config value: verbatim, or in quotes when it would not
 * read back verbatim. */
void conf_put_value(const char *s, FILE *out);

#endif
