#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
	fputs(KT_PROG ": out of memory\n", stderr);
	exit(1);
}

void *kt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

void *kt_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

void *kt_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

char *kt_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(kt_xmalloc(n), s, n);
}

char *kt_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	char *s = kt_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void kt_grow(void **array, size_t *cap, size_t count, size_t elem_size)
{
	if (count < *cap)
		return;
	size_t new_cap = *cap ? *cap * 2 : 8;
	if (new_cap > (size_t)-1 / elem_size)
		out_of_memory();
	*array = kt_xrealloc(*array, new_cap * elem_size);
	*cap = new_cap;
}

void kt_str_add(struct kt_str *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->s = kt_xrealloc(t->s, t->cap);
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

void kt_str_printf(struct kt_str *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->s = kt_xrealloc(t->s, t->cap);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

char *kt_str_take(struct kt_str *t)
{
	char *s = t->s != NULL ? t->s : kt_xstrdup("");
	*t = (struct kt_str){0};
	return s;
}

size_t kt_utf8_columns(const char *s, size_t len)
{
	size_t cols = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\033' && i + 1 < len && s[i + 1] == '[') {
			/* an SGR sequence (the text report's colours) takes no column */
			for (i += 2; i < len && s[i] != 'm'; i++)
				;
			continue;
		}
		cols += ((unsigned char)s[i] & 0xc0) != 0x80;
	}
	return cols;
}

void kt_error_set(struct kt_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

void kt_warn(const char *fmt, ...)
{
	va_list ap;
	fputs(KT_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool kt_parse_ull(const char *s, unsigned long long *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool kt_parse_ll(const char *s, long long *out)
{
	if (s == NULL)
		return false;
	const char *digits = *s == '-' ? s + 1 : s;
	if (*digits < '0' || *digits > '9')
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

const char *kt_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

int kt_open_regular(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	return fd;
}
