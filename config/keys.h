/*
 * picovm's key table: every key a config file may set, in the order
 * `picovm check` prints them and `picovm --help` lists them.
 */
#ifndef PICOVM_CONFIG_KEYS_H
#define PICOVM_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "keytab.h"

extern const struct key_table config_keys;

/* The rule for `name` (also applied to the default taken from the file
 * name): returns 0, or -1 with "what was wrong; expected what" in why. */
int config_check_name(const char *name, char *why, size_t n);
/* "02:00:00:12:34:56" -> bytes; returns 0, or -1 when malformed. */
int config_parse_mac(const char *s, uint8_t mac[6]);

#endif
