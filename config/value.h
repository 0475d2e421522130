/*
 * Parsers and printers for the value types of the config language.  They
 * know only the text of one value (already unquoted by the lexer); what a
 * key allows (ranges, alignment) is the loader's business.
 *
 * Parsers return 0, -EINVAL when the text is not of the type, or -ERANGE
 * when it is but the number does not fit in 64 bits.  Nothing is written
 * to *out on failure.
 */
#ifndef PICOVM_CONFIG_VALUE_H
#define PICOVM_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only: no sign, no spaces, no 0x. */
int value_parse_u64(const char *s, uint64_t *out);
/* Bytes: digits, then nothing or K, M, G, T or KiB, MiB, GiB, TiB in any
 * case (powers of 1024). */
int value_parse_size(const char *s, uint64_t *out);
/* true/false, on/off, yes/no, 1/0, in any case. */
int value_parse_bool(const char *s, bool *out);
/* Milliseconds: digits followed by ms, s, m or h (lower case, because "M"
 * means mebibytes elsewhere), or a bare "0". */
int value_parse_duration(const char *s, uint64_t *out_ms);

/* The shortest exact spelling the parsers read back: "256M", "4097", "0".
 * 24 bytes always suffice. */
#define VALUE_BUF 24
void value_format_size(uint64_t bytes, char *buf, size_t n);
void value_format_duration(uint64_t ms, char *buf, size_t n);

#endif
