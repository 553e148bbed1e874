/* Reading the trace record format (record.h): splitting a line into
 * unescaped fields, and each kind of record from its fields. No malloc:
 * the shim reads the snapshot of its previous image at start-up. */
#include "record.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

const char kt_rec_absent[] = "-";

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
		if (p[0] == '-' && p[1] == '\0')
			p = (char *)kt_rec_absent; /* not the same as an escaped dash */
		else if (unescape_field(p) != 0)
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

/* Index of s in names[from..n), or -1. */
static int name_index(const char *const *names, size_t n, size_t from, const char *s)
{
	for (size_t i = from; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static const char *const kind_names[] = {
	[KT_REC_MAGIC] = KT_RECORD_MAGIC, [KT_REC_IMAGE] = "image",     [KT_REC_SNAP] = "snap",
	[KT_REC_FD] = "fd",               [KT_REC_STACK] = "stack",     [KT_REC_PEER] = "peer",
	[KT_REC_SAME] = "same",           [KT_REC_OBSERVED] = "observed", [KT_REC_NOTE] = "note",
	[KT_REC_STAT] = "stat",           [KT_REC_END] = "end",         [KT_REC_EVENT] = "event",
	[KT_REC_UNTRACED] = "untraced",   [KT_REC_REAPED] = "reaped",     [KT_REC_CLOSED] = "closed",
	[KT_REC_ENDED] = "ended",         [KT_REC_UNRECORDED] = "unrecorded",
	[KT_REC_END_FD] = "end-fd",       [KT_REC_END_FDS] = "end-fds",     [KT_REC_INO] = "ino",
	[KT_REC_FORKED] = "forked",       [KT_REC_ADDR] = "addr",         [KT_REC_SPAWNED] = "spawned",
	[KT_REC_BLOCKED] = "blocked",
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

/* A raw "-" stands for an absent string (kt_record_split). */
static const char *optional(const char *field)
{
	return field == kt_rec_absent ? NULL : field;
}

static bool parse_type(const char *s, enum kt_fd_type *out, struct kt_rec_error *err)
{
	int t = kt_fd_type_from_name(s);
	if (t < 0)
		FAIL(err, "bad descriptor type '%s'", s);
	*out = (enum kt_fd_type)t;
	return true;
}

static bool parse_access(const char *s, bool unknown_ok, int *out, struct kt_rec_error *err)
{
	int a = kt_access_from_name(s);
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
	int why = kt_snap_why_from_name(l->f[1]);
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
		/* an errno this reader has no name for: unavailable all the same */
		r->kcmp = kt_errno_from_name(kcmp + 12) > 0 ? kt_errno_from_name(kcmp + 12) : EIO;
	if (r->kcmp == -2)
		FAIL(err, "bad KCMP field '%s' (expected ok or unavailable:ERRNO)", kcmp);
	r->time = 0;
	if (l->n > 4)
		ULL_FIELD(err, l, 4, "snap TIME", r->time);
	return true;
}

/* HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE from field i on (fd and
 * closed records); kind names the record in messages. */
static bool parse_origin(const struct kt_rec_line *l, int i, const char *kind, struct kt_rec_fd *r,
			 struct kt_rec_error *err)
{
	char name[32];
	snprintf(name, sizeof name, "%s SRC_PID", kind);
	INT_FIELD(err, l, i + 2, name, 0, INT_MAX, r->src_pid);
	snprintf(name, sizeof name, "%s SRC_START", kind);
	ULL_FIELD(err, l, i + 3, name, r->src_start);
	snprintf(name, sizeof name, "%s SRC_FD", kind);
	INT_FIELD(err, l, i + 4, name, -1, INT_MAX, r->src_fd);
	snprintf(name, sizeof name, "%s SRC_GEN", kind);
	ULL_FIELD(err, l, i + 5, name, r->src_gen);
	int how = kt_how_from_name(l->f[i]);
	if (how < 0)
		FAIL(err, "bad origin '%s'", l->f[i]);
	r->how = (enum kt_how)how;
	/* CALL is an open list (a newer shim interposes more): a name this
	 * reader does not know is read as none, not a corrupt trace. */
	r->call = kt_call_from_name(l->f[i + 1]);
	if (r->call < 0)
		r->call = KT_CALL_NONE;
	r->site = optional(l->f[i + 6]);
	/* A dup names its source descriptor; an inheritance its parent, and
	 * the parent's descriptor unless none was the same description (the far
	 * end of a pipe made by the parent's popen). */
	if ((r->how == KT_HOW_DUP && (r->src_pid == 0 || r->src_fd < 0)) ||
	    (r->how == KT_HOW_INHERITED && r->src_pid == 0))
		FAIL(err, "%s descriptor %d has no source", kt_how_name(r->how), r->fd);
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
	if (!parse_type(l->f[3], &r->type, err) || !parse_access(l->f[5], true, &r->access, err))
		return false;
	r->target = optional(l->f[4]);
	r->cloexec = cloexec != 0;
	return parse_origin(l, 7, "fd", r, err);
}

bool kt_rec_parse_end_fds(const struct kt_rec_line *l, long *n, unsigned long long *time,
			   struct kt_rec_error *err)
{
	NFIELDS(err, l, 2);
	if (strcmp(l->f[1], "same") == 0)
		*n = -1;
	else
		INT_FIELD(err, l, 1, "end-fds N", 0, INT_MAX, *n);
	*time = 0;
	if (l->n > 2)
		ULL_FIELD(err, l, 2, "end-fds TIME", *time);
	return true;
}

bool kt_rec_parse_closed(const struct kt_rec_line *l, struct kt_rec_fd *r, struct kt_rec_error *err)
{
	/* closed FD GEN HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE */
	NFIELDS(err, l, 10);
	INT_FIELD(err, l, 1, "closed FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "closed GEN", r->gen);
	r->type = KT_FD_UNKNOWN;
	r->target = NULL;
	r->access = KT_ACCESS_UNKNOWN;
	r->cloexec = false;
	return parse_origin(l, 3, "closed", r, err);
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

bool kt_rec_parse_ino(const struct kt_rec_line *l, struct kt_rec_ino *r, struct kt_rec_error *err)
{
	NFIELDS(err, l, 6);
	INT_FIELD(err, l, 1, "ino FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "ino GEN", r->gen);
	ULL_FIELD(err, l, 3, "ino DEV", r->dev);
	ULL_FIELD(err, l, 4, "ino INO", r->ino);
	if (strcmp(l->f[5], "sent") != 0 && strcmp(l->f[5], "received") != 0)
		FAIL(err, "ino record: '%s' is neither sent nor received", l->f[5]);
	r->sent = l->f[5][0] == 's';
	return true;
}

bool kt_rec_parse_addr(const struct kt_rec_line *l, struct kt_rec_addr *r, struct kt_rec_error *err)
{
	NFIELDS(err, l, 6);
	INT_FIELD(err, l, 1, "addr FD", 0, INT_MAX, r->fd);
	ULL_FIELD(err, l, 2, "addr GEN", r->gen);
	r->local = optional(l->f[3]);
	r->peer = optional(l->f[4]);
	int listening;
	INT_FIELD(err, l, 5, "addr LISTENING", 0, 1, listening);
	r->listening = listening;
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
	if (!parse_type(l->f[5], &r->type, err) || !parse_access(l->f[7], true, &r->access, err))
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
	r->kind = (enum kt_event_kind)kt_event_from_name(l->f[1]);
	r->site = optional(l->f[6]);
	r->time = 0;
	if (r->kind == KT_EVENT_SETFL) {
		r->opened_site = r->closed_call = r->closed_site = NULL;
		if (l->n > 7)
			ULL_FIELD(err, l, 7, "setfl TIME", r->time);
		return true;
	}
	r->opened_site = l->n > 7 ? optional(l->f[7]) : NULL;
	r->closed_call = l->n > 8 ? optional(l->f[8]) : NULL;
	r->closed_site = l->n > 9 ? optional(l->f[9]) : NULL;
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
	r->time = 0;
	if (l->n > 3)
		ULL_FIELD(err, l, 3, "reaped TIME", r->time);
	return true;
}

bool kt_rec_parse_forked(const struct kt_rec_line *l, unsigned long long *time,
			 struct kt_rec_error *err)
{
	NFIELDS(err, l, 2);
	ULL_FIELD(err, l, 1, "forked TIME", *time);
	return true;
}

bool kt_rec_parse_spawned(const struct kt_rec_line *l, const char **how, unsigned long long *time,
			  struct kt_rec_error *err)
{
	NFIELDS(err, l, 2);
	if (l->f[1] == kt_rec_absent || l->f[1][0] == '\0')
		FAIL(err, "malformed spawned record");
	*how = l->f[1];
	*time = 0;
	if (l->n > 2)
		ULL_FIELD(err, l, 2, "spawned TIME", *time);
	return true;
}

bool kt_rec_parse_ended(const struct kt_rec_line *l, int *status, struct kt_rec_error *err)
{
	long long v;
	if (l->n < 2 || !field_ll(l->f[1], INT_MIN, INT_MAX, &v))
		FAIL(err, "malformed ended record");
	*status = (int)v;
	return true;
}

bool kt_rec_parse_unrecorded(const struct kt_rec_line *l, struct kt_rec_unrecorded *r,
			     struct kt_rec_error *err)
{
	if (l->n < 5)
		FAIL(err, "malformed unrecorded record");
	int what = kt_lost_what_from_name(l->f[1]);
	if (what < 0)
		FAIL(err, "unknown unrecorded WHAT '%s'", l->f[1]);
	r->what = (enum kt_lost_what)what;
	r->err = strcmp(l->f[2], "-") == 0 ? 0 : kt_errno_from_name(l->f[2]);
	if (r->err < 0)
		r->err = 0; /* a name this reader does not know: unknown */
	if (strcmp(l->f[3], "seccomp") != 0 && strcmp(l->f[3], "-") != 0)
		FAIL(err, "unknown unrecorded CAUSE '%s'", l->f[3]);
	r->seccomp = strcmp(l->f[3], "seccomp") == 0;
	r->path = optional(l->f[4]);
	return true;
}

/* IO of a blocked record. */
static bool parse_io(const char *s, bool *in, bool *out)
{
	*in = strcmp(s, "r") == 0 || strcmp(s, "rw") == 0;
	*out = strcmp(s, "w") == 0 || strcmp(s, "rw") == 0;
	return *in || *out || strcmp(s, "-") == 0;
}

/* A 0 or 1 field. */
#define BOOL_FIELD(err, l, i, name, dst)                                                           \
	do {                                                                                       \
		int b_;                                                                            \
		INT_FIELD(err, l, i, name, 0, 1, b_);                                              \
		(dst) = b_ != 0;                                                                   \
	} while (0)

bool kt_rec_parse_blocked(const struct kt_rec_line *l, struct kt_rec_blocked *r,
			  struct kt_rec_blocked_fd *fds, struct kt_rec_error *err)
{
	/* blocked ROLE TID STATE KIND CALL NR FD IO PID TIMEOUT THREADS ALL_THREADS
	 * FUTEX_OWN CPU WCHAN ERROR PATH NFDS FD:IO... */
	NFIELDS(err, l, 19);
	if (strcmp(l->f[1], "process") != 0 && strcmp(l->f[1], "thread") != 0)
		FAIL(err, "blocked record: bad ROLE '%s' (process or thread)", l->f[1]);
	r->thread = l->f[1][0] == 't';
	INT_FIELD(err, l, 2, "blocked TID", 0, INT_MAX, r->tid);
	if (strlen(l->f[3]) != 1)
		FAIL(err, "blocked record: bad STATE '%s'", l->f[3]);
	r->state = l->f[3][0];
	int kind = kt_block_kind_from_name(l->f[4]);
	if (kind < 0)
		FAIL(err, "blocked record: bad KIND '%s'", l->f[4]);
	r->kind = (enum kt_block_kind)kind;
	r->call = optional(l->f[5]);
	long long nr;
	if (!field_ll(l->f[6], -1, INT_MAX, &nr))
		FAIL(err, "bad number '%s' for blocked NR", l->f[6]);
	r->nr = (long)nr;
	INT_FIELD(err, l, 7, "blocked FD", -1, INT_MAX, r->fd);
	if (!parse_io(l->f[8], &r->in, &r->out))
		FAIL(err, "blocked record: bad IO '%s'", l->f[8]);
	INT_FIELD(err, l, 9, "blocked PID", INT_MIN, INT_MAX, r->pid);
	BOOL_FIELD(err, l, 10, "blocked TIMEOUT", r->timeout);
	INT_FIELD(err, l, 11, "blocked THREADS", 0, INT_MAX, r->threads);
	BOOL_FIELD(err, l, 12, "blocked ALL_THREADS", r->all_threads);
	BOOL_FIELD(err, l, 13, "blocked FUTEX_OWN", r->futex_own);
	ULL_FIELD(err, l, 14, "blocked CPU", r->cpu);
	r->wchan = optional(l->f[15]);
	r->err = 0;
	if (optional(l->f[16]) != NULL) {
		/* a name this reader does not know: an error all the same */
		r->err = kt_errno_from_name(l->f[16]);
		if (r->err <= 0)
			r->err = EIO;
	}
	r->path = optional(l->f[17]);
	long long nfds;
	if (!field_ll(l->f[18], -1, INT_MAX, &nfds))
		FAIL(err, "bad number '%s' for blocked NFDS", l->f[18]);
	r->nfds = (long)nfds;
	if ((nfds < 0 ? 0 : nfds) != l->n - 19)
		FAIL(err, "blocked record has NFDS %lld but %d descriptors", nfds, l->n - 19);
	for (long i = 0; i < r->nfds; i++) {
		char *s = l->f[19 + i], *colon = strchr(s, ':');
		long long fd;
		if (colon == NULL)
			FAIL(err, "blocked record: bad descriptor '%s' (FD:IO)", s);
		*colon = '\0';
		bool ok = field_ll(s, 0, INT_MAX, &fd) && parse_io(colon + 1, &fds[i].in, &fds[i].out);
		*colon = ':';
		if (!ok)
			FAIL(err, "blocked record: bad descriptor '%s' (FD:IO)", s);
		fds[i].fd = (int)fd;
	}
	r->fds = fds;
	return true;
}
