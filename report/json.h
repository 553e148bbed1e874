/* A small JSON writer: strings escaped so output always parses (control
 * bytes as \u00XX, invalid UTF-8 replaced by \ufffd). */
#ifndef KT_JSON_H
#define KT_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Writes "s" with quotes; NULL writes null. */
void kt_json_string(FILE *out, const char *s);
void kt_json_string_n(FILE *out, const char *s, size_t len);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t kt_utf8_sequence_length(const unsigned char *s, size_t avail);

#endif
