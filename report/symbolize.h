/* Call sites: "MODULE+0xOFF" (record.h) to "func+0xNN (basename)" with
 * elfutils, or "basename+0xOFF" when the module is gone or has no symbol.
 * Modules are opened once and cached until kt_symbolize_reset. */
#ifndef KT_SYMBOLIZE_H
#define KT_SYMBOLIZE_H

#include <stddef.h>

/* Writes the symbolized site into out (always NUL-terminated). Returns out.
 * A site that does not parse is copied as is. */
const char *kt_symbolize(const char *site, char *out, size_t outlen);

void kt_symbolize_reset(void);

#endif
