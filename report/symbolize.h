/* Call sites: "MODULE+0xOFF" (record.h) to "func+0xNN (basename)" with
 * elfutils, or "basename+0xOFF" when the module is gone or has no symbol.
 * Modules are opened once and cached until kt_symbolize_reset. */
#ifndef KT_SYMBOLIZE_H
#define KT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the symbolized site into out (always NUL-terminated). Returns out.
 * A site that does not parse is copied as is. */
const char *kt_symbolize(const char *site, char *out, size_t outlen);

/* Everything known about a site. */
struct kt_symbol {
	char site[1024];  /* as kt_symbolize: "func+0xNN (module)" or "module+0xOFF" */
	char where[1024]; /* for people: "func+0xNN (file.c:17)" with line information,
			   * else the same as site */
	char file[1024];  /* source file as the debug information names it, or "" */
	int line;         /* 0 when unknown */
};

/* Fills sym; returns false when the site does not parse (then site and
 * where are copies of it). */
bool kt_symbolize_full(const char *site, struct kt_symbol *sym);

void kt_symbolize_reset(void);

#endif
