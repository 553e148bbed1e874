/* The trace record codec (record.h): the format's names, writing each kind
 * of record into a fixed buffer, and reading it back from a split line.
 * No malloc here, and no stdio on the writing side: the shim writes from
 * hooks, signal-time close paths and exit paths. */
#include "record.h"

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
/* O_ACCMODE's four values; 3 (both bits) opens for ioctl only: neither
 * read nor write (open(2), used on devices). */
static const char *const access_names[] = {"r", "w", "rw", "ioctl"};
static const char *const why_names[] = {"exit", "exec", "live", "table", "exit-observed", "signal"};
static const char *const event_names[] = {"unknown", "close-ebadf", "setfl", "flock", "ofd-lock",
					  "setfd", "close-unopened", "close-minus-one",
					  "stdio-copied", "bad-use"};
static const char *const use_call_names[] = {NULL,	 "read",    "write",    "pread",   "pwrite",
					     "readv",	 "writev",  "lseek",    "fstat",   "send",
					     "recv",	 "sendto",  "recvfrom", "sendmsg", "recvmsg",
					     "sendmmsg", "recvmmsg", "ioctl",   "fcntl"};
static const char *const lost_what_names[] = {"start", "fork", "exec", "exit", "end", "table"};
static const char *const block_kind_names[] = {"running", "fd",      "fds",       "wait", "lock",
					       "sleep",   "stopped", "fifo-open", "other"};
/* The errno values a kcmp probe fails with (the first seven), and those
 * writing a trace may fail with, as records name them. */
static const struct {
	int err;
	const char *name;
} errno_names[] = {{ENOSYS, "ENOSYS"}, {EPERM, "EPERM"},   {EACCES, "EACCES"}, {EINVAL, "EINVAL"},
		   {EBADF, "EBADF"},   {ESRCH, "ESRCH"},   {EIO, "EIO"},       {EROFS, "EROFS"},
		   {ENOSPC, "ENOSPC"}, {EDQUOT, "EDQUOT"}, {ENOENT, "ENOENT"}, {ENOTDIR, "ENOTDIR"},
		   {ELOOP, "ELOOP"},   {EMFILE, "EMFILE"}, {ENFILE, "ENFILE"}, {ENOMEM, "ENOMEM"},
		   {EEXIST, "EEXIST"}, {EFBIG, "EFBIG"},   {EFAULT, "EFAULT"}};

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

const char *kt_close_call_name(enum kt_close_call call)
{
	static const char *const names[] = {NULL,	"close",   "close_range", "closefrom",
					    "fclose",	"closedir", "syscall",     "login_tty"};
	return (unsigned)call < COUNT(names) ? names[call] : NULL;
}

_Static_assert(COUNT(use_call_names) == KT_USE_COUNT, "a name for each enum kt_use_call");

const char *kt_use_call_name(long long call)
{
	return call > 0 && call < (long long)COUNT(use_call_names) ? use_call_names[call] : NULL;
}

const char *kt_event_name(enum kt_event_kind kind)
{
	return (unsigned)kind < COUNT(event_names) ? event_names[kind] : "unknown";
}

/* A hook that records under another call's name names one that exists. */
#define KT_AS_HOOK(field, sym, ret, params, NAME)                                                  \
	_Static_assert(KT_CALL_##NAME != KT_CALL_NONE, sym " records as a call of the list");
#include "hooks.def"

const char *kt_call_name(enum kt_call call)
{
	static const char *const names[KT_CALL_COUNT] = {
		[KT_CALL_NONE] = NULL,
#define KT_CALL_HOOK(field, sym, ret, params, NAME) [KT_CALL_##NAME] = sym,
#define KT_CALL_WRAPPER(sym, NAME) [KT_CALL_##NAME] = sym,
#include "hooks.def"
	};
	return (unsigned)call < KT_CALL_COUNT ? names[call] : NULL;
}

const char *kt_errno_name_known(int err)
{
	for (size_t i = 0; i < COUNT(errno_names); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return NULL;
}

const char *kt_errno_name(int err)
{
	const char *name = kt_errno_name_known(err);
	return name ? name : "EIO";
}

const char *kt_lost_what_name(enum kt_lost_what what)
{
	return (unsigned)what < COUNT(lost_what_names) ? lost_what_names[what] : "end";
}

_Static_assert(COUNT(block_kind_names) == KT_BLOCK_OTHER + 1, "a name for each enum kt_block_kind");

const char *kt_block_kind_name(enum kt_block_kind kind)
{
	return (unsigned)kind < COUNT(block_kind_names) ? block_kind_names[kind] : "other";
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

int kt_how_from_name(const char *s)
{
	int how = name_index(how_names, COUNT(how_names) - 1, KT_HOW_OPEN, s);
	return how >= 0 ? how : strcmp(s, "unknown") == 0 ? KT_HOW_UNKNOWN : -1;
}

int kt_fd_type_from_name(const char *s)
{
	return name_index(type_names, COUNT(type_names), 0, s);
}

int kt_access_from_name(const char *s)
{
	return name_index(access_names, COUNT(access_names), 0, s);
}

int kt_snap_why_from_name(const char *s)
{
	return name_index(why_names, COUNT(why_names), 0, s);
}

int kt_event_from_name(const char *s)
{
	int kind = name_index(event_names, COUNT(event_names), KT_EVENT_CLOSE_EBADF, s);
	return kind >= 0 ? kind : KT_EVENT_UNKNOWN;
}

int kt_errno_from_name(const char *s)
{
	for (size_t i = 0; i < COUNT(errno_names); i++)
		if (strcmp(s, errno_names[i].name) == 0)
			return errno_names[i].err;
	return -1;
}

int kt_lost_what_from_name(const char *s)
{
	return name_index(lost_what_names, COUNT(lost_what_names), 0, s);
}

int kt_block_kind_from_name(const char *s)
{
	return name_index(block_kind_names, COUNT(block_kind_names), 0, s);
}

int kt_call_from_name(const char *s)
{
	if (strcmp(s, "-") == 0)
		return KT_CALL_NONE;
	for (int c = KT_CALL_NONE + 1; c < KT_CALL_COUNT; c++) {
		const char *name = kt_call_name((enum kt_call)c);
		if (name != NULL && strcmp(name, s) == 0)
			return c;
	}
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

void kt_buf_field_exact(struct kt_buf *b, const char *s)
{
	/* A NUL ends the string where it stands: "\x00" reads as "". */
	if (s != NULL && (*s == '\0' || strcmp(s, "-") == 0))
		kt_buf_put(b, *s ? "\t\\x2d" : "\t\\x00", 5);
	else
		kt_buf_field(b, s);
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
		kt_buf_field_exact(b, r->argv[i]);
	kt_buf_endline(b);
}

void kt_rec_put_snap(struct kt_buf *b, const struct kt_rec_snap *r)
{
	kt_buf_str(b, "snap");
	kt_buf_field(b, kt_snap_why_name(r->why));
	kt_buf_num(b, r->status);
	char kcmp[32];
	kt_buf_field(b, kt_kcmp_text(r->kcmp, kcmp));
	if (r->time)
		kt_buf_unum(b, r->time);
	kt_buf_endline(b);
}

/* HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE, of fd and closed records. */
static void put_origin(struct kt_buf *b, const struct kt_rec_fd *r)
{
	kt_buf_field(b, kt_how_name(r->how));
	kt_buf_field(b, kt_call_name((enum kt_call)r->call));
	kt_buf_num(b, r->src_pid);
	kt_buf_unum(b, r->src_start);
	kt_buf_num(b, r->src_fd);
	kt_buf_unum(b, r->src_gen);
	kt_buf_field(b, r->site);
}

/* "fd" and "end-fd" lines share their fields. */
static void put_fd_line(struct kt_buf *b, const char *kind, const struct kt_rec_fd *r)
{
	kt_buf_str(b, kind);
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_field(b, kt_fd_type_name(r->type));
	kt_buf_field(b, r->target);
	kt_buf_field(b, kt_access_name(r->access));
	kt_buf_num(b, r->cloexec);
	put_origin(b, r);
	kt_buf_endline(b);
}

void kt_rec_put_fd(struct kt_buf *b, const struct kt_rec_fd *r)
{
	put_fd_line(b, "fd", r);
}

void kt_rec_put_end_fd(struct kt_buf *b, const struct kt_rec_fd *r)
{
	put_fd_line(b, "end-fd", r);
}

void kt_rec_put_end_fds(struct kt_buf *b, long n, unsigned long long time)
{
	kt_buf_str(b, "end-fds");
	if (n < 0)
		kt_buf_field(b, "same");
	else
		kt_buf_num(b, n);
	if (time)
		kt_buf_unum(b, time);
	kt_buf_endline(b);
}

void kt_rec_put_closed(struct kt_buf *b, const struct kt_rec_fd *r)
{
	kt_buf_str(b, "closed");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	put_origin(b, r);
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

void kt_rec_put_ino(struct kt_buf *b, const struct kt_rec_ino *r)
{
	kt_buf_str(b, "ino");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	kt_buf_unum(b, r->dev);
	kt_buf_unum(b, r->ino);
	kt_buf_field(b, r->sent ? "sent" : "received");
	kt_buf_endline(b);
}

void kt_rec_put_addr(struct kt_buf *b, const struct kt_rec_addr *r)
{
	kt_buf_str(b, "addr");
	kt_buf_num(b, r->fd);
	kt_buf_unum(b, r->gen);
	/* An unnamed UNIX socket's "" is no absent address. */
	kt_buf_field_exact(b, r->local);
	kt_buf_field_exact(b, r->peer);
	kt_buf_num(b, r->listening);
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
	if (r->opened_site || r->closed_call || r->closed_site) {
		kt_buf_field(b, r->opened_site);
		kt_buf_field(b, r->closed_call);
		kt_buf_field(b, r->closed_site);
	} else if (r->kind == KT_EVENT_SETFL && r->time) {
		kt_buf_unum(b, r->time);
	}
	kt_buf_endline(b);
}

void kt_rec_put_untraced(struct kt_buf *b, const struct kt_rec_untraced *r)
{
	kt_buf_str(b, "untraced");
	kt_buf_field(b, r->path);
	kt_buf_field(b, r->reason);
	kt_buf_endline(b);
}

void kt_rec_put_forked(struct kt_buf *b, unsigned long long time)
{
	kt_buf_str(b, "forked");
	kt_buf_unum(b, time);
	kt_buf_endline(b);
}

void kt_rec_put_spawned(struct kt_buf *b, const char *how, unsigned long long time)
{
	kt_buf_str(b, "spawned");
	kt_buf_field(b, how);
	if (time)
		kt_buf_unum(b, time);
	kt_buf_endline(b);
}

void kt_rec_put_reaped(struct kt_buf *b, const struct kt_rec_reaped *r)
{
	kt_buf_str(b, "reaped");
	kt_buf_num(b, r->pid);
	kt_buf_num(b, r->status);
	if (r->time)
		kt_buf_unum(b, r->time);
	kt_buf_endline(b);
}

void kt_rec_put_ended(struct kt_buf *b, int status)
{
	kt_buf_str(b, "ended");
	kt_buf_num(b, status);
	kt_buf_endline(b);
}

void kt_rec_put_unrecorded(struct kt_buf *b, const struct kt_rec_unrecorded *r)
{
	kt_buf_str(b, "unrecorded");
	kt_buf_field(b, kt_lost_what_name(r->what));
	kt_buf_field(b, kt_errno_name_known(r->err));
	kt_buf_field(b, r->seccomp ? "seccomp" : NULL);
	kt_buf_field(b, r->path);
	kt_buf_endline(b);
}

/* IO of a blocked record: r, w, rw or -. */
static const char *io_name(bool in, bool out)
{
	return in && out ? "rw" : in ? "r" : out ? "w" : NULL;
}

void kt_rec_put_blocked(struct kt_buf *b, const struct kt_rec_blocked *r)
{
	kt_buf_str(b, "blocked");
	kt_buf_field(b, r->thread ? "thread" : "process");
	kt_buf_num(b, r->tid);
	char state[2] = {r->state > ' ' && r->state < 0x7f ? r->state : '?', '\0'};
	kt_buf_field(b, state);
	kt_buf_field(b, kt_block_kind_name(r->kind));
	kt_buf_field(b, r->call);
	kt_buf_num(b, r->nr);
	kt_buf_num(b, r->fd);
	kt_buf_field(b, io_name(r->in, r->out));
	kt_buf_num(b, r->pid);
	kt_buf_num(b, r->timeout);
	kt_buf_num(b, r->threads);
	kt_buf_num(b, r->all_threads);
	kt_buf_num(b, r->futex_own);
	kt_buf_unum(b, r->cpu);
	kt_buf_field(b, r->wchan);
	kt_buf_field(b, r->err ? kt_errno_name(r->err) : NULL);
	kt_buf_field(b, r->path);
	long n = r->nfds < 0 ? -1 : r->nfds;
	kt_buf_num(b, n);
	for (long i = 0; i < n; i++) {
		/* FD:IO, in one field */
		char one[24];
		size_t k = sizeof one;
		const char *io = io_name(r->fds[i].in, r->fds[i].out);
		io = io ? io : "-";
		size_t iolen = strlen(io);
		k -= iolen;
		memcpy(one + k, io, iolen);
		one[--k] = ':';
		unsigned v = r->fds[i].fd < 0 ? 0u : (unsigned)r->fds[i].fd;
		do {
			one[--k] = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		kt_buf_put(b, "\t", 1);
		kt_buf_put(b, one + k, sizeof one - k);
	}
	kt_buf_endline(b);
}
