/* Small helpers shared by the report side: allocation that cannot fail
 * silently, growable arrays, error messages. */
#ifndef KT_REPORT_UTIL_H
#define KT_REPORT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define KT_PROG "kcmptrace"

void *kt_xmalloc(size_t n);
void *kt_xcalloc(size_t n, size_t size);
void *kt_xrealloc(void *p, size_t n);
char *kt_xstrdup(const char *s);
char *kt_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Make room for one more element in a growable array: *cap doubles. */
void kt_grow(void **array, size_t *cap, size_t count, size_t elem_size);
#define KT_PUSH(array, count, cap)                                              \
	(kt_grow((void **)&(array), &(cap), (count), sizeof *(array)),          \
	 &(array)[(count)++])

/* A growable string, always NUL-terminated once something was added. */
struct kt_str {
	char *s; /* NULL while empty */
	size_t len, cap;
};
void kt_str_add(struct kt_str *t, const char *s, size_t n);
void kt_str_printf(struct kt_str *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string (the caller frees it): "" when nothing was added. */
char *kt_str_take(struct kt_str *t);

/* Columns a UTF-8 string takes: its characters (continuation bytes not
 * counted). */
size_t kt_utf8_columns(const char *s, size_t len);

/* An error message buffer filled by loaders: "FILE:LINE: what". */
struct kt_error {
	char msg[1024];
};
void kt_error_set(struct kt_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "kcmptrace: ..." and a newline on stderr. */
void kt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict decimal parsing of a whole string; false on anything else. */
bool kt_parse_ll(const char *s, long long *out);
bool kt_parse_ull(const char *s, unsigned long long *out);

const char *kt_basename(const char *path);

/* Open a file to read only if it is a regular file: never blocks on a FIFO
 * or a device (O_NONBLOCK), fails with ENODEV for anything else. flags adds
 * e.g. O_NOFOLLOW. */
int kt_open_regular(const char *path, int flags);

#endif
