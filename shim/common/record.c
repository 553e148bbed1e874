/* The trace record codec (record.h): the format's names, writing each kind
 * of record into a fixed buffer, and reading it back from a split line.
 * No malloc here, and no stdio on the writing side: the shim writes from
 * hooks, signal-time close paths and exit paths. */
#include "record.h"
#include "table.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* ---- names ---- */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const how_names[] = {"unknown", "open", "dup", "inherited", "exec", "received",
					"unknown"};
static const char *const type_names[] = {"unknown", "file", "dir",  "pipe", "fifo",
					 "socket",  "chr",  "blk",  "anon"};
static const char *const access_names[] = {"r", "w", "rw"};
static const char *const why_names[] = {"exit", "exec", "live", "table", "exit-observed"};
static const char *const event_names[] = {"unknown", "close-ebadf", "setfl", "flock", "ofd-lock",
					  "setfd"};
/* The errno values a kcmp probe fails with, as snapshots name them. */
static const struct {
	int err;
	const char *name;
} errno_names[] = {{ENOSYS, "ENOSYS"}, {EPERM, "EPERM"}, {EACCES, "EACCES"}, {EINVAL, "EINVAL"},
		   {EBADF, "EBADF"},   {ESRCH, "ESRCH"}, {EIO, "EIO"}};

const char *kt_how_name(enum kt_how how)
{
	return (unsigned)how < COUNT(how_names) ? how_names[how] : "unknown";
}

const char *kt_fd_type_name(enum kt_fd_type t)
{
	return (unsigned)t < COUNT(type_names) ? type_names[t] : "unknown";
}

const char *kt_access_name(int access)
{
	return access >= 0 && (unsigned)access < COUNT(access_names) ? access_names[access] : NULL;
}

const char *kt_snap_why_name(enum kt_snap_why why)
{
	return (unsigned)why < COUNT(why_names) ? why_names[why] : "exit";
}

const char *kt_event_name(enum kt_event_kind kind)
{
	return (unsigned)kind < COUNT(event_names) ? event_names[kind] : "unknown";
}

const char *kt_errno_name(int err)
{
	for (size_t i = 0; i < COUNT(errno_names); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return "EIO";
}

const char *kt_kcmp_text(int kcmp, char buf[32])
{
	if (kcmp == 0)
		return strcpy(buf, "ok");
	if (kcmp == KT_KCMP_NONE)
		return strcpy(buf, "none");
	strcpy(buf, "unavailable:");
	return strcat(buf, kt_errno_name(kcmp));
}

/* Index of s in names[from..n), or -1. */
static int name_index(const char *const *names, size_t n, size_t from, const char *s)
{
	for (size_t i = from; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- writing ---- */

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

void kt_rec_put_magic(struct kt_buf *b)
{
	kt_buf_str(b, KT_RECORD_MAGIC);
	kt_buf_unum(b, KT_RECORD_VERSION);
	kt_buf_endline(b);
}

void kt_rec_put_image(struct kt_buf *b, const struct kt_rec_image *r)
{
	kt_buf_str(b, "image");
	kt_buf_num(b, r->pid);
	kt_buf_num(b, r->ppid);
	kt_buf_unum(b, r->parent_start);
	kt_buf_unum(b, r->start);
	kt_buf_field(b, r->exe);
	kt_buf_num(b, r->argc);
	for (int i = 0; i < r->argc; i++)
		kt_buf_field(b, r->argv[i]);
	kt_buf_endline(b);
}

void kt_rec_put_snap(struct kt_buf *b, const struct kt_rec_snap *r)
{
	kt_buf_str(b, "snap");
	kt_buf_field(b, kt_snap_why_name(r->why));
	kt_buf_num(b, r->status);
	char kcmp[32];
	kt_buf_field(b, kt_kcmp_text(r->kcmp, kcmp));
	kt_buf_endline(b);
}

void kt_rec_put_fd(struct kt_buf *b, const struct kt_rec_fd *r)
{
	kt_buf_str(b, "fd");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_field(b, kt_fd_type_name(r->type));
	kt_buf_field(b, r->target);
	kt_buf_field(b, kt_access_name(r->access));
	kt_buf_num(b, r->cloexec);
	kt_buf_field(b, kt_how_name(r->how));
	kt_buf_field(b, kt_call_name((enum kt_call)r->call));
	kt_buf_num(b, r->src_pid);
	kt_buf_unum(b, r->src_start);
	kt_buf_num(b, r->src_fd);
	kt_buf_unum(b, r->src_gen);
	kt_buf_field(b, r->site);
	kt_buf_endline(b);
}

void kt_rec_put_stack(struct kt_buf *b, const struct kt_rec_stack *r)
{
	kt_buf_str(b, "stack");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	for (int i = 0; i < r->nsites; i++)
		kt_buf_field(b, r->sites[i]);
	kt_buf_endline(b);
}

void kt_rec_put_peer(struct kt_buf *b, const struct kt_rec_peer *r)
{
	kt_buf_str(b, "peer");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_num(b, r->fd2);
	kt_buf_unum(b, r->gen2);
	kt_buf_endline(b);
}

void kt_rec_put_same(struct kt_buf *b, const struct kt_rec_same *r)
{
	kt_buf_str(b, "same");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_num(b, r->pid);
	kt_buf_unum(b, r->start);
	kt_buf_num(b, r->fd2);
	kt_buf_unum(b, r->gen2);
	kt_buf_endline(b);
}

void kt_rec_put_observed(struct kt_buf *b, const struct kt_rec_observed *r)
{
	kt_buf_str(b, "observed");
	kt_buf_num(b, r->pid);
	kt_buf_unum(b, r->start);
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_field(b, kt_fd_type_name(r->type));
	kt_buf_field(b, r->target);
	kt_buf_field(b, kt_access_name(r->access));
	kt_buf_num(b, r->cloexec);
	kt_buf_unum(b, r->time);
	kt_buf_endline(b);
}

void kt_rec_put_note(struct kt_buf *b, const char *text)
{
	kt_buf_str(b, "note");
	kt_buf_field(b, text);
	kt_buf_endline(b);
}

void kt_rec_put_stat(struct kt_buf *b, const struct kt_rec_stat *r)
{
	kt_buf_str(b, "stat");
	kt_buf_field(b, r->name);
	kt_buf_unum(b, r->value);
	kt_buf_endline(b);
}

void kt_rec_put_end(struct kt_buf *b)
{
	kt_buf_str(b, "end");
	kt_buf_endline(b);
}

void kt_rec_put_event(struct kt_buf *b, const struct kt_rec_event *r)
{
	kt_buf_str(b, "event");
	kt_buf_field(b, kt_event_name(r->kind));
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_num(b, r->arg1);
	kt_buf_num(b, r->arg2);
	kt_buf_field(b, r->site);
	kt_buf_endline(b);
}

void kt_rec_put_untraced(struct kt_buf *b, const struct kt_rec_untraced *r)
{
	kt_buf_str(b, "untraced");
	kt_buf_field(b, r->path);
	kt_buf_field(b, r->reason);
	kt_buf_endline(b);
}

void kt_rec_put_reaped(struct kt_buf *b, const struct kt_rec_reaped *r)
{
	kt_buf_str(b, "reaped");
	kt_buf_num(b, r->pid);
	kt_buf_num(b, r->status);
	kt_buf_endline(b);
}

/* ---- splitting ---- */

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

size_t kt_record_count_fields(const char *line)
{
	size_t n = 1;
	for (const char *c = line; *c != '\0'; c++)
		n += *c == '\t';
	return n;
}

static const char *const kind_names[] = {
	[KT_REC_MAGIC] = KT_RECORD_MAGIC, [KT_REC_IMAGE] = "image",     [KT_REC_SNAP] = "snap",
	[KT_REC_FD] = "fd",               [KT_REC_STACK] = "stack",     [KT_REC_PEER] = "peer",
	[KT_REC_SAME] = "same",           [KT_REC_OBSERVED] = "observed", [KT_REC_NOTE] = "note",
	[KT_REC_STAT] = "stat",           [KT_REC_END] = "end",         [KT_REC_EVENT] = "event",
	[KT_REC_UNTRACED] = "untraced",   [KT_REC_REAPED] = "reaped",
};

#define FAIL(err, ...)                                                                             \
	do {                                                                                       \
		snprintf((err)->what, sizeof (err)->what, __VA_ARGS__);                            \
		return false;                                                                      \
	} while (0)

bool kt_rec_line_split(char *line, char **fields, int max, struct kt_rec_line *out,
		       struct kt_rec_error *err)
{
	int n = kt_record_split(line, fields, max);
	if (n < 0)
		FAIL(err, "malformed escape sequence");
	if (fields[0][0] == '\0')
		FAIL(err, "empty record");
	int kind = name_index(kind_names, COUNT(kind_names), 1, fields[0]);
	*out = (struct kt_rec_line){fields, n, kind < 0 ? KT_REC_OTHER : (enum kt_rec_kind)kind};
	return true;
}

/* ---- reading fields ---- */

/* Strict decimal: optional '-', digits, nothing else. */
static bool decimal(const char *s, bool negative_ok, unsigned long long *mag, bool *neg)
{
	*neg = negative_ok && *s == '-';
	s += *neg;
	if (*s < '0' || *s > '9')
		return false;
	unsigned long long v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*mag = v;
	return *s == '\0';
}

static bool field_ll(const char *s, long long lo, long long hi, long long *out)
{
	unsigned long long mag;
	bool neg;
	if (!decimal(s, lo < 0, &mag, &neg) || mag > (unsigned long long)LLONG_MAX + neg)
		return false;
	long long v = neg ? (long long)(0ULL - mag) : (long long)mag;
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

#define INT_FIELD(err, l, i, name, lo, hi, dst)                                                    \
	do {                                                                                       \
		long long v_;                                                                      \
		if (!field_ll((l)->f[i], (lo), (hi), &v_))                                         \
			FAIL(err, "bad number '%s' for %s", (l)->f[i], name);                      \
		(dst) = (int)v_;                                                                   \
	} while (0)

#define ULL_FIELD(err, l, i, name, dst)                                                            \
	do {                                                                                       \
		bool neg_;                                                                         \
		if (!decimal((l)->f[i], false, &(dst), &neg_))                                     \
			FAIL(err, "bad number '%s' for %s", (l)->f[i], name);                      \
	} while (0)

#define NFIELDS(err, l, want)                                                                      \
	do {                                                                                       \
		if ((l)->n < (want))                                                               \
			FAIL(err, "%s record has %d fields, expected %d", (l)->f[0], (l)->n, want); \
	} while (0)

/* "-" stands for an absent string. */
static const char *optional(const char *field)
{
	return strcmp(field, "-") == 0 ? NULL : field;
}

static bool parse_type(const char *s, enum kt_fd_type *out, struct kt_rec_error *err)
{
	int t = name_index(type_names, COUNT(type_names), 0, s);
	if (t < 0)
		FAIL(err, "bad descriptor type '%s'", s);
	*out = (enum kt_fd_type)t;
	return true;
}

static bool parse_access(const char *s, bool unknown_ok, int *out, struct kt_rec_error *err)
{
	int a = name_index(access_names, COUNT(access_names), 0, s);
	if (a < 0 && !(unknown_ok && strcmp(s, "-") == 0))
		FAIL(err, "bad access mode '%s'", s);
	*out = a < 0 ? KT_ACCESS_UNKNOWN : a;
	return true;
}

bool kt_rec_parse_magic(const struct kt_rec_line *l, struct kt_rec_error *err)
{
	long long version;
	if (l->kind != KT_REC_MAGIC)
		FAIL(err, "not a kcmptrace record (bad magic)");
	if (l->n < 2 || !field_ll(l->f[1], LLONG_MIN, LLONG_MAX, &version))
		FAIL(err, "bad record version");
	if (version != KT_RECORD_VERSION)
		FAIL(err, "unsupported record version %lld (expected %d)", version, KT_RECORD_VERSION);
	return true;
}

bool kt_rec_parse_image(const struct kt_rec_line *l, struct kt_rec_image *r, struct kt_rec_error *err)
{
	if (l->n < 7)
		FAIL(err, "image record has %d fields, expected at least 7", l->n);
	INT_FIELD(err, l, 1, "image PID", 1, INT_MAX, r->pid);
	INT_FIELD(err, l, 2, "image PPID", 0, INT_MAX, r->ppid);
	ULL_FIELD(err, l, 3, "image PARENT_START", r->parent_start);
	ULL_FIELD(err, l, 4, "image START", r->start);
	INT_FIELD(err, l, 6, "image ARGC", 0, INT_MAX, r->argc);
	if (r->argc != l->n - 7)
		FAIL(err, "image record has ARGC %d but %d arguments", r->argc, l->n - 7);
	r->exe = optional(l->f[5]);
	r->argv = (const char *const *)l->f + 7;
	return true;
}

bool kt_rec_parse_snap(const struct kt_rec_line *l, struct kt_rec_snap *r, struct kt_rec_error *err)
{
	NFIELDS(err, l, 4);
	int why = name_index(why_names, COUNT(why_names), 0, l->f[1]);
	if (why < 0)
		FAIL(err, "bad snapshot reason '%s' (expected exit, exec, live, table or exit-observed)",
		     l->f[1]);
	r->why = (enum kt_snap_why)why;
	if (r->why == KT_WHY_EXIT)
		INT_FIELD(err, l, 2, "snap STATUS", 0, 255, r->status);
	else
		INT_FIELD(err, l, 2, "snap STATUS", -1, -1, r->status);
	const char *kcmp = l->f[3];
	r->kcmp = -2;
	if (strcmp(kcmp, "ok") == 0)
		r->kcmp = 0;
	else if (r->why == KT_WHY_TABLE && strcmp(kcmp, "none") == 0)
		r->kcmp = KT_KCMP_NONE;
	else if (strncmp(kcmp, "unavailable:", 12) == 0)
		for (size_t i = 0; i < COUNT(errno_names); i++)
			if (strcmp(kcmp + 12, errno_names[i].name) == 0)
				r->kcmp = errno_names[i].err;
	if (r->kcmp == -2)
		FAIL(err, "bad KCMP field '%s' (expected ok or unavailable:ERRNO)", kcmp);
	return true;
}

bool kt_rec_parse_fd(const struct kt_rec_line *l, struct kt_rec_fd *r, struct kt_rec_error *err)
{
	/* fd FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE */
	int cloexec;
	NFIELDS(err, l, 14);
	INT_FIELD(err, l, 1, "fd FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "fd GEN", r->gen);
	INT_FIELD(err, l, 6, "fd CLOEXEC", 0, 1, cloexec);
	INT_FIELD(err, l, 9, "fd SRC_PID", 0, INT_MAX, r->src_pid);
	ULL_FIELD(err, l, 10, "fd SRC_START", r->src_start);
	INT_FIELD(err, l, 11, "fd SRC_FD", -1, INT_MAX, r->src_fd);
	ULL_FIELD(err, l, 12, "fd SRC_GEN", r->src_gen);
	if (!parse_type(l->f[3], &r->type, err) || !parse_access(l->f[5], true, &r->access, err))
		return false;
	int how = name_index(how_names, COUNT(how_names) - 1, 1, l->f[7]);
	if (how < 0 && strcmp(l->f[7], "unknown") == 0)
		how = KT_HOW_UNKNOWN;
	if (how < 0)
		FAIL(err, "bad origin '%s'", l->f[7]);
	r->how = (enum kt_how)how;
	r->call = KT_CALL_NONE;
	for (int c = KT_CALL_NONE + 1; c < KT_CALL_COUNT && strcmp(l->f[8], "-") != 0; c++)
		if (strcmp(kt_call_name((enum kt_call)c), l->f[8]) == 0)
			r->call = c;
	if (r->call == KT_CALL_NONE && strcmp(l->f[8], "-") != 0)
		FAIL(err, "bad call '%s'", l->f[8]);
	r->target = optional(l->f[4]);
	r->cloexec = cloexec != 0;
	r->site = optional(l->f[13]);
	/* A dup names its source descriptor; an inheritance its parent, and
	 * the parent's descriptor unless none was the same description (the far
	 * end of a pipe made by the parent's popen). */
	if ((r->how == KT_HOW_DUP && (r->src_pid == 0 || r->src_fd < 0)) ||
	    (r->how == KT_HOW_INHERITED && r->src_pid == 0))
		FAIL(err, "%s descriptor %d has no source", kt_how_name(r->how), r->fd);
	return true;
}

bool kt_rec_parse_stack(const struct kt_rec_line *l, struct kt_rec_stack *r, struct kt_rec_error *err)
{
	if (l->n < 3)
		FAIL(err, "stack record has %d fields, expected at least 3", l->n);
	INT_FIELD(err, l, 1, "stack FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "stack GEN", r->gen);
	r->nsites = l->n - 3;
	r->sites = (const char *const *)l->f + 3;
	return true;
}

bool kt_rec_parse_peer(const struct kt_rec_line *l, struct kt_rec_peer *r, struct kt_rec_error *err)
{
	NFIELDS(err, l, 5);
	INT_FIELD(err, l, 1, "peer FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "peer GEN", r->gen);
	INT_FIELD(err, l, 3, "peer FD2", 0, INT_MAX, r->fd2);
	ULL_FIELD(err, l, 4, "peer GEN2", r->gen2);
	return true;
}

bool kt_rec_parse_same(const struct kt_rec_line *l, struct kt_rec_same *r, struct kt_rec_error *err)
{
	NFIELDS(err, l, 7);
	INT_FIELD(err, l, 1, "same FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "same GEN", r->gen);
	INT_FIELD(err, l, 3, "same PID", 1, INT_MAX, r->pid);
	ULL_FIELD(err, l, 4, "same START", r->start);
	INT_FIELD(err, l, 5, "same FD2", 0, INT_MAX, r->fd2);
	ULL_FIELD(err, l, 6, "same GEN2", r->gen2);
	return true;
}

bool kt_rec_parse_observed(const struct kt_rec_line *l, struct kt_rec_observed *r,
			   struct kt_rec_error *err)
{
	int cloexec;
	NFIELDS(err, l, 10);
	INT_FIELD(err, l, 1, "observed PID", 1, INT_MAX, r->pid);
	ULL_FIELD(err, l, 2, "observed START", r->start);
	INT_FIELD(err, l, 3, "observed FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 4, "observed GEN", r->gen);
	INT_FIELD(err, l, 8, "observed CLOEXEC", 0, 1, cloexec);
	ULL_FIELD(err, l, 9, "observed TIME", r->time);
	if (!parse_type(l->f[5], &r->type, err) || !parse_access(l->f[7], false, &r->access, err))
		return false;
	r->target = optional(l->f[6]);
	r->cloexec = cloexec != 0;
	return true;
}

bool kt_rec_parse_note(const struct kt_rec_line *l, const char **text, struct kt_rec_error *err)
{
	if (l->n < 2)
		FAIL(err, "note record without text");
	*text = l->f[1];
	return true;
}

bool kt_rec_parse_stat(const struct kt_rec_line *l, struct kt_rec_stat *r, struct kt_rec_error *err)
{
	bool neg;
	NFIELDS(err, l, 3);
	r->name = l->f[1];
	if (!decimal(l->f[2], false, &r->value, &neg))
		FAIL(err, "bad number '%s' for stat %s", l->f[2], l->f[1]);
	return true;
}

bool kt_rec_parse_end(const struct kt_rec_line *l, struct kt_rec_error *err)
{
	(void)l;
	(void)err;
	return true;
}

bool kt_rec_parse_event(const struct kt_rec_line *l, struct kt_rec_event *r, struct kt_rec_error *err)
{
	NFIELDS(err, l, 7);
	if (l->f[1][0] == '\0')
		FAIL(err, "event record without a kind");
	INT_FIELD(err, l, 2, "event FD", INT_MIN, INT_MAX, r->fd);
	ULL_FIELD(err, l, 3, "event GEN", r->gen);
	if (!field_ll(l->f[4], LLONG_MIN, LLONG_MAX, &r->arg1) ||
	    !field_ll(l->f[5], LLONG_MIN, LLONG_MAX, &r->arg2))
		FAIL(err, "bad number in event arguments '%s' '%s'", l->f[4], l->f[5]);
	int kind = name_index(event_names, COUNT(event_names), 1, l->f[1]);
	r->kind = kind < 0 ? KT_EVENT_UNKNOWN : (enum kt_event_kind)kind;
	r->site = optional(l->f[6]);
	return true;
}

bool kt_rec_parse_untraced(const struct kt_rec_line *l, struct kt_rec_untraced *r,
			   struct kt_rec_error *err)
{
	if (l->n < 3)
		FAIL(err, "malformed untraced record");
	r->path = l->f[1];
	r->reason = l->f[2];
	return true;
}

bool kt_rec_parse_reaped(const struct kt_rec_line *l, struct kt_rec_reaped *r, struct kt_rec_error *err)
{
	long long pid, status;
	if (l->n < 3 || !field_ll(l->f[1], 1, INT_MAX, &pid) ||
	    !field_ll(l->f[2], INT_MIN, INT_MAX, &status))
		FAIL(err, "malformed reaped record");
	r->pid = (pid_t)pid;
	r->status = (int)status;
	return true;
}
