/* The trace record format: writing escaped fields into a fixed buffer and
 * splitting a line back into unescaped fields. See record.h.
 * No malloc and no stdio here: the shim calls this from hooks, signal-time
 * close paths and exit paths. */
#include "record.h"

#include <string.h>

void kt_buf_put(struct kt_buf *b, const char *s, size_t n)
{
	if (b->overflow)
		return;
	if (n > b->cap - b->len) {
		/* All or nothing, so a record is never cut in the middle of a field. */
		b->overflow = 1;
		return;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void kt_buf_str(struct kt_buf *b, const char *s)
{
	kt_buf_put(b, s, strlen(s));
}

void kt_buf_field(struct kt_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	kt_buf_put(b, "\t", 1);
	if (s == NULL || *s == '\0') {
		kt_buf_put(b, "-", 1);
		return;
	}
	/* Copy runs of plain bytes at once; escape the rest one by one. */
	const char *run = s;
	for (const char *p = s;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c != '\0' && c >= 0x20 && c != 0x7f && c != '\\')
			continue;
		kt_buf_put(b, run, (size_t)(p - run));
		if (c == '\0')
			break;
		char esc[4];
		size_t n = 2;
		esc[0] = '\\';
		if (c == '\\')
			esc[1] = '\\';
		else if (c == '\t')
			esc[1] = 't';
		else if (c == '\n')
			esc[1] = 'n';
		else {
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 0xf];
			n = 4;
		}
		kt_buf_put(b, esc, n);
		run = p + 1;
	}
}

void kt_buf_unum(struct kt_buf *b, unsigned long long v)
{
	char digits[24];
	size_t i = sizeof digits;
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	digits[--i] = '\t';
	kt_buf_put(b, digits + i, sizeof digits - i);
}

void kt_buf_num(struct kt_buf *b, long long v)
{
	if (v >= 0) {
		kt_buf_unum(b, (unsigned long long)v);
		return;
	}
	/* Negate in unsigned arithmetic so LLONG_MIN works. */
	unsigned long long mag = 0ULL - (unsigned long long)v;
	char digits[24];
	size_t i = sizeof digits;
	do {
		digits[--i] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag != 0);
	digits[--i] = '-';
	digits[--i] = '\t';
	kt_buf_put(b, digits + i, sizeof digits - i);
}

void kt_buf_endline(struct kt_buf *b)
{
	kt_buf_put(b, "\n", 1);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape one field in place; the result is never longer than the input. */
static int unescape_field(char *s)
{
	char *out = s;
	for (const char *in = s; *in != '\0'; in++) {
		if (*in != '\\') {
			*out++ = *in;
			continue;
		}
		in++;
		switch (*in) {
		case '\\':
			*out++ = '\\';
			break;
		case 't':
			*out++ = '\t';
			break;
		case 'n':
			*out++ = '\n';
			break;
		case 'x': {
			int hi = hex_value(in[1]);
			int lo = hi < 0 ? -1 : hex_value(in[2]);
			if (lo < 0)
				return -1;
			*out++ = (char)(hi << 4 | lo);
			in += 2;
			break;
		}
		default: /* includes a backslash at the end of the field */
			return -1;
		}
	}
	*out = '\0';
	return 0;
}

int kt_record_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	if (max <= 0)
		return 0;
	/* Fields beyond max are left alone (not unescaped, not returned): the
	 * caller that needs them all counts the TABs and passes a larger max. */
	for (;;) {
		char *tab = strchr(p, '\t');
		if (tab != NULL && n + 1 < max)
			*tab = '\0';
		else
			tab = NULL;
		if (unescape_field(p) != 0)
			return -1;
		fields[n++] = p;
		if (tab == NULL || n == max)
			break;
		p = tab + 1;
	}
	return n;
}

void kt_record_put_fd(struct kt_buf *b, const struct kt_record_fd *f)
{
	kt_buf_str(b, "fd");
	kt_buf_num(b, f->fd);
	kt_buf_unum(b, f->gen);
	kt_buf_field(b, f->type);
	kt_buf_field(b, f->target);
	kt_buf_field(b, f->access);
	kt_buf_num(b, f->cloexec > 0);
	kt_buf_field(b, f->how);
	if (f->raw_tail) {
		kt_buf_str(b, "\t");
		kt_buf_str(b, f->raw_tail);
	} else {
		kt_buf_field(b, f->call);
		kt_buf_num(b, f->src_pid);
		kt_buf_unum(b, f->src_start);
		kt_buf_num(b, f->src_fd);
		kt_buf_unum(b, f->src_gen);
		kt_buf_field(b, f->site);
	}
	kt_buf_endline(b);
}

void kt_record_put_same(struct kt_buf *b, int fd, unsigned long long gen, long long pid,
			unsigned long long start, int fd2, unsigned long long gen2)
{
	kt_buf_str(b, "same");
	kt_buf_num(b, fd);
	kt_buf_unum(b, gen);
	kt_buf_num(b, pid);
	kt_buf_unum(b, start);
	kt_buf_num(b, fd2);
	kt_buf_unum(b, gen2);
	kt_buf_endline(b);
}
