/* Reading a trace directory: PID-START.rec files (see shim/common/record.h),
 * validated strictly so a corrupt trace gives one clear error naming the file
 * and line instead of a wrong report. */
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "record.h"
#include "table.h"

static bool is_one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static const char *const fd_types[] = {"file", "dir", "pipe", "fifo", "socket", "chr",
				       "blk", "anon", "unknown", NULL};
static const char *const fd_hows[] = {"open", "dup", "inherited", "exec", "received", "unknown",
				      NULL};
static const char *const fd_accesses[] = {"r", "w", "rw", NULL};

/* "-" stands for an absent string. */
static const char *optional(const char *field)
{
	return strcmp(field, "-") == 0 ? NULL : field;
}

/* Parsing state for one file, so helpers can name file and line. */
struct parser {
	const char *path;
	int line;
	struct kt_error *err;
};

#define PARSE_FAIL(ps, ...)                                                        \
	do {                                                                       \
		char what_[512];                                                   \
		snprintf(what_, sizeof what_, __VA_ARGS__);                        \
		kt_error_set((ps)->err, "%s:%d: %s", (ps)->path, (ps)->line, what_); \
		return false;                                                      \
	} while (0)

static bool field_int(struct parser *ps, const char *s, const char *name, long long lo,
		      long long hi, int *out)
{
	long long v;
	if (!kt_parse_ll(s, &v) || v < lo || v > hi)
		PARSE_FAIL(ps, "bad number '%s' for %s", s, name);
	*out = (int)v;
	return true;
}

static bool field_ull(struct parser *ps, const char *s, const char *name,
		      unsigned long long *out)
{
	if (!kt_parse_ull(s, out))
		PARSE_FAIL(ps, "bad number '%s' for %s", s, name);
	return true;
}

static bool parse_image(struct parser *ps, struct kt_process *proc, char **f, int n)
{
	struct kt_image im = {.line = ps->line};
	if (n < 7)
		PARSE_FAIL(ps, "image record has %d fields, expected at least 7", n);
	if (!field_int(ps, f[1], "image PID", 1, INT_MAX, &im.pid) ||
	    !field_int(ps, f[2], "image PPID", 0, INT_MAX, &im.ppid) ||
	    !field_ull(ps, f[3], "image PARENT_START", &im.parent_start) ||
	    !field_ull(ps, f[4], "image START", &im.start) ||
	    !field_int(ps, f[6], "image ARGC", 0, INT_MAX, &im.argc))
		return false;
	if (im.argc != n - 7)
		PARSE_FAIL(ps, "image record has ARGC %d but %d arguments", im.argc, n - 7);
	if (im.pid != proc->pid || im.start != proc->start)
		PARSE_FAIL(ps, "image record is for %d-%llu, not for this file's process", im.pid,
			   im.start);
	im.exe = optional(f[5]);
	im.argv = kt_xcalloc((size_t)im.argc + 1, sizeof *im.argv);
	for (int i = 0; i < im.argc; i++)
		im.argv[i] = f[7 + i];
	*KT_PUSH(proc->images, proc->nimages, proc->images_cap) = im;
	return true;
}

static bool parse_snap(struct parser *ps, struct kt_snapshot *snap, char **f, int n)
{
	memset(snap, 0, sizeof *snap);
	snap->line = ps->line;
	if (n < 4)
		PARSE_FAIL(ps, "snap record has %d fields, expected 4", n);
	if (strcmp(f[1], "exit") == 0) {
		snap->at_exit = true;
		if (!field_int(ps, f[2], "snap STATUS", 0, 255, &snap->status))
			return false;
	} else if (strcmp(f[1], "exec") == 0 || strcmp(f[1], "live") == 0 ||
		   strcmp(f[1], "table") == 0 || strcmp(f[1], "exit-observed") == 0) {
		snap->live = strcmp(f[1], "exec") != 0;
		snap->from_table = f[1][0] == 't';
		snap->seen_at_exit = snap->observed = strcmp(f[1], "exit-observed") == 0;
		if (!field_int(ps, f[2], "snap STATUS", -1, -1, &snap->status))
			return false;
	} else {
		PARSE_FAIL(ps, "bad snapshot reason '%s' (expected exit, exec, live, table or exit-observed)",
			   f[1]);
	}
	if (strcmp(f[3], "ok") == 0)
		snap->kcmp_ok = true;
	else if (!(snap->from_table && strcmp(f[3], "none") == 0) &&
		 strncmp(f[3], "unavailable:", 12) != 0)
		PARSE_FAIL(ps, "bad KCMP field '%s' (expected ok or unavailable:ERRNO)", f[3]);
	snap->kcmp = f[3];
	return true;
}

static bool parse_fd(struct parser *ps, struct kt_snapshot *snap, char **f, int n)
{
	struct kt_fd fd = {.line = ps->line};
	int cloexec;
	/* fd FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE */
	if (n < 14)
		PARSE_FAIL(ps, "fd record has %d fields, expected 14", n);
	if (!field_int(ps, f[1], "fd FD", 0, INT_MAX, &fd.fd) ||
	    !field_ull(ps, f[2], "fd GEN", &fd.gen) ||
	    !field_int(ps, f[6], "fd CLOEXEC", 0, 1, &cloexec) ||
	    !field_int(ps, f[9], "fd SRC_PID", 0, INT_MAX, &fd.src_pid) ||
	    !field_ull(ps, f[10], "fd SRC_START", &fd.src_start) ||
	    !field_int(ps, f[11], "fd SRC_FD", -1, INT_MAX, &fd.src_fd) ||
	    !field_ull(ps, f[12], "fd SRC_GEN", &fd.src_gen))
		return false;
	if (!is_one_of(f[3], fd_types))
		PARSE_FAIL(ps, "bad descriptor type '%s'", f[3]);
	/* A table snapshot cannot know the access mode: "-". */
	if (!is_one_of(f[5], fd_accesses) && !(snap->from_table && strcmp(f[5], "-") == 0))
		PARSE_FAIL(ps, "bad access mode '%s'", f[5]);
	if (!is_one_of(f[7], fd_hows))
		PARSE_FAIL(ps, "bad origin '%s'", f[7]);
	fd.type = f[3];
	fd.target = optional(f[4]);
	fd.access = optional(f[5]);
	fd.cloexec = cloexec != 0;
	fd.how = f[7];
	fd.call = optional(f[8]);
	fd.site = optional(f[13]);
	/* A dup names its source descriptor; an inheritance its parent, and
	 * the parent's descriptor unless none was the same description (the far
	 * end of a pipe made by the parent's popen). */
	if ((strcmp(fd.how, "dup") == 0 && (fd.src_pid == 0 || fd.src_fd < 0)) ||
	    (strcmp(fd.how, "inherited") == 0 && fd.src_pid == 0))
		PARSE_FAIL(ps, "%s descriptor %d has no source", fd.how, fd.fd);
	for (size_t i = 0; i < snap->nfds; i++)
		if (snap->fds[i].fd == fd.fd)
			PARSE_FAIL(ps, "descriptor %d listed twice in one snapshot", fd.fd);
	*KT_PUSH(snap->fds, snap->nfds, snap->fds_cap) = fd;
	return true;
}

/* observed PID START FD GEN TYPE TARGET ACCESS CLOEXEC TIME */
static bool parse_observed(struct parser *ps, struct kt_process *proc, char **f, int n)
{
	struct kt_observed o = {.fd = {.line = ps->line, .src_fd = -1, .how = "unknown"}};
	int cloexec;
	if (n < 10)
		PARSE_FAIL(ps, "observed record has %d fields, expected 10", n);
	if (!field_int(ps, f[1], "observed PID", 1, INT_MAX, &o.pid) ||
	    !field_ull(ps, f[2], "observed START", &o.start) ||
	    !field_int(ps, f[3], "observed FD", 0, INT_MAX, &o.fd.fd) ||
	    !field_ull(ps, f[4], "observed GEN", &o.fd.gen) ||
	    !field_int(ps, f[8], "observed CLOEXEC", 0, 1, &cloexec) ||
	    !field_ull(ps, f[9], "observed TIME", &o.time))
		return false;
	if (!is_one_of(f[5], fd_types))
		PARSE_FAIL(ps, "bad descriptor type '%s'", f[5]);
	if (!is_one_of(f[7], fd_accesses))
		PARSE_FAIL(ps, "bad access mode '%s'", f[7]);
	o.fd.type = f[5];
	o.fd.target = optional(f[6]);
	o.fd.access = f[7];
	o.fd.cloexec = cloexec != 0;
	*KT_PUSH(proc->observed, proc->nobserved, proc->observed_cap) = o;
	return true;
}

static bool parse_peer(struct parser *ps, struct kt_snapshot *snap, char **f, int n)
{
	struct kt_peer peer;
	if (n < 5)
		PARSE_FAIL(ps, "peer record has %d fields, expected 5", n);
	if (!field_int(ps, f[1], "peer FD", 0, INT_MAX, &peer.fd) ||
	    !field_ull(ps, f[2], "peer GEN", &peer.gen) ||
	    !field_int(ps, f[3], "peer FD2", 0, INT_MAX, &peer.fd2) ||
	    !field_ull(ps, f[4], "peer GEN2", &peer.gen2))
		return false;
	*KT_PUSH(snap->peers, snap->npeers, snap->peers_cap) = peer;
	return true;
}

static bool parse_same(struct parser *ps, struct kt_snapshot *snap, char **f, int n)
{
	struct kt_same same = {.line = ps->line};
	if (n < 7)
		PARSE_FAIL(ps, "same record has %d fields, expected 7", n);
	if (!field_int(ps, f[1], "same FD", 0, INT_MAX, &same.fd) ||
	    !field_ull(ps, f[2], "same GEN", &same.gen) ||
	    !field_int(ps, f[3], "same PID", 1, INT_MAX, &same.pid) ||
	    !field_ull(ps, f[4], "same START", &same.start) ||
	    !field_int(ps, f[5], "same FD2", 0, INT_MAX, &same.fd2) ||
	    !field_ull(ps, f[6], "same GEN2", &same.gen2))
		return false;
	*KT_PUSH(snap->sames, snap->nsames, snap->sames_cap) = same;
	return true;
}

static bool parse_stat(struct parser *ps, struct kt_snapshot *snap, char **f, int n)
{
	struct kt_stat st;
	if (n < 3)
		PARSE_FAIL(ps, "stat record has %d fields, expected 3", n);
	st.name = f[1];
	if (!kt_parse_ll(f[2], &st.value))
		PARSE_FAIL(ps, "bad number '%s' for stat %s", f[2], f[1]);
	*KT_PUSH(snap->stats, snap->nstats, snap->stats_cap) = st;
	return true;
}

/* stack FD GEN SITE... : kept until the end line attaches it to its fd. */
static bool parse_stack(struct parser *ps, struct kt_snapshot *snap, char **f, int n)
{
	struct kt_stack st = {0};
	if (n < 3)
		PARSE_FAIL(ps, "stack record has %d fields, expected at least 3", n);
	if (!field_int(ps, f[1], "stack FD", 0, INT_MAX, &st.fd) ||
	    !field_ull(ps, f[2], "stack GEN", &st.gen))
		return false;
	st.nsites = (size_t)(n - 3);
	st.sites = kt_xcalloc(st.nsites + 1, sizeof *st.sites);
	for (int i = 3; i < n; i++)
		st.sites[i - 3] = f[i];
	*KT_PUSH(snap->stacks, snap->nstacks, snap->stacks_cap) = st;
	return true;
}

/* event KIND FD GEN ARG1 ARG2 SITE (after a snapshot's end line). */
static bool parse_event(struct parser *ps, struct kt_process *proc, char **f, int n)
{
	struct kt_event ev = {.line = ps->line, .snap = (int)proc->nsnaps - 1};
	if (n < 7)
		PARSE_FAIL(ps, "event record has %d fields, expected 7", n);
	long long fd;
	if (!kt_parse_ll(f[2], &fd) || fd < INT_MIN || fd > INT_MAX)
		PARSE_FAIL(ps, "bad number '%s' for event FD", f[2]);
	if (!field_ull(ps, f[3], "event GEN", &ev.gen))
		return false;
	if (!kt_parse_ll(f[4], &ev.arg1) || !kt_parse_ll(f[5], &ev.arg2))
		PARSE_FAIL(ps, "bad number in event arguments '%s' '%s'", f[4], f[5]);
	if (f[1][0] == '\0')
		PARSE_FAIL(ps, "event record without a kind");
	ev.kind = f[1];
	ev.fd = (int)fd;
	ev.site = optional(f[6]);
	*KT_PUSH(proc->events, proc->nevents, proc->events_cap) = ev;
	return true;
}

/* Give each fd of a finished snapshot the stack line naming it. */
static void attach_stacks(struct kt_snapshot *snap)
{
	for (size_t i = 0; i < snap->nstacks; i++)
		for (size_t k = 0; k < snap->nfds; k++)
			if (snap->fds[k].fd == snap->stacks[i].fd &&
			    snap->fds[k].gen == snap->stacks[i].gen) {
				snap->fds[k].stack = snap->stacks[i].sites;
				snap->fds[k].nstack = snap->stacks[i].nsites;
			}
}

static void free_stacks(struct kt_snapshot *snap)
{
	for (size_t i = 0; i < snap->nstacks; i++)
		free(snap->stacks[i].sites);
	free(snap->stacks);
}

static int compare_fd(const void *a, const void *b)
{
	const struct kt_fd *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Parse PID-START from a file name ending in ".rec". */
static bool parse_file_name(const char *name, int *pid, unsigned long long *start)
{
	char buf[64];
	size_t len = strlen(name);
	if (len < 5 || len - 4 >= sizeof buf || strcmp(name + len - 4, ".rec") != 0)
		return false;
	memcpy(buf, name, len - 4);
	buf[len - 4] = '\0';
	char *dash = strchr(buf, '-');
	if (dash == NULL)
		return false;
	*dash = '\0';
	long long p;
	if (!kt_parse_ll(buf, &p) || p <= 0 || p > INT_MAX || !kt_parse_ull(dash + 1, start))
		return false;
	*pid = (int)p;
	return true;
}

bool kt_process_parse(struct kt_process *proc, const char *path, char *text, size_t len,
		      struct kt_error *err)
{
	struct parser ps = {.path = path, .line = 0, .err = err};
	struct kt_snapshot cur;   /* the snapshot being read */
	bool in_snap = false;
	bool unterminated = false; /* the last line has no LF */
	char **fields = NULL;
	size_t fields_cap = 0;
	bool ok = false;

	proc->text = text;
	if (memchr(text, '\0', len) != NULL) {
		kt_error_set(err, "%s: NUL byte in record file", path);
		return false;
	}
	char *p = text, *end = text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p;
		if (nl != NULL) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p = end; /* text is NUL-terminated by the caller */
			unterminated = true;
		}
		ps.line++;

		/* Split: count the fields first so every argument of an image
		 * line gets its own slot. */
		size_t nfields = 1;
		for (const char *c = line; *c != '\0'; c++)
			nfields += *c == '\t';
		if (nfields > fields_cap) {
			fields_cap = nfields;
			fields = kt_xrealloc(fields, fields_cap * sizeof *fields);
		}
		if (nfields > INT_MAX) {
			kt_error_set(err, "%s:%d: too many fields", path, ps.line);
			goto out;
		}
		int n = kt_record_split(line, fields, (int)nfields);
		if (n < 0) {
			kt_error_set(err, "%s:%d: malformed escape sequence", path, ps.line);
			goto out;
		}
		const char *kind = fields[0];

		if (ps.line == 1) {
			long long version;
			if (strcmp(kind, KT_RECORD_MAGIC) != 0) {
				kt_error_set(err, "%s:1: not a kcmptrace record (bad magic)", path);
				goto out;
			}
			if (n < 2 || !kt_parse_ll(fields[1], &version)) {
				kt_error_set(err, "%s:1: bad record version", path);
				goto out;
			}
			if (version != KT_RECORD_VERSION) {
				kt_error_set(err, "%s:1: unsupported record version %lld (expected %d)",
					     path, version, KT_RECORD_VERSION);
				goto out;
			}
			continue;
		}

		bool good = true;
		if (strcmp(kind, "image") == 0) {
			if (in_snap) {
				kt_error_set(err, "%s:%d: image record inside a snapshot", path, ps.line);
				goto out;
			}
			good = parse_image(&ps, proc, fields, n);
		} else if (strcmp(kind, "snap") == 0) {
			if (in_snap) {
				kt_error_set(err, "%s:%d: snapshot of line %d has no end line", path,
					     ps.line, cur.line);
				goto out;
			}
			good = parse_snap(&ps, &cur, fields, n);
			in_snap = good;
		} else if (strcmp(kind, "fd") == 0 || strcmp(kind, "same") == 0 ||
			   strcmp(kind, "stat") == 0 || strcmp(kind, "stack") == 0 ||
			   strcmp(kind, "peer") == 0 || strcmp(kind, "end") == 0) {
			if (!in_snap) {
				kt_error_set(err, "%s:%d: %s record outside a snapshot", path, ps.line,
					     kind);
				goto out;
			}
			if (kind[0] == 'f')
				good = parse_fd(&ps, &cur, fields, n);
			else if (kind[0] == 's' && kind[1] == 'a')
				good = parse_same(&ps, &cur, fields, n);
			else if (strcmp(kind, "stack") == 0)
				good = parse_stack(&ps, &cur, fields, n);
			else if (strcmp(kind, "peer") == 0)
				good = parse_peer(&ps, &cur, fields, n);
			else if (kind[0] == 's')
				good = parse_stat(&ps, &cur, fields, n);
			else {
				if (cur.nfds > 1)
					qsort(cur.fds, cur.nfds, sizeof *cur.fds, compare_fd);
				attach_stacks(&cur);
				*KT_PUSH(proc->snaps, proc->nsnaps, proc->snaps_cap) = cur;
				in_snap = false;
			}
		} else if (strcmp(kind, "note") == 0) {
			if (n < 2) {
				kt_error_set(err, "%s:%d: note record without text", path, ps.line);
				goto out;
			}
			*KT_PUSH(proc->notes, proc->nnotes, proc->notes_cap) = fields[1];
		} else if (strcmp(kind, "event") == 0) {
			/* Written after a snapshot's end line; one inside a
			 * snapshot belongs to that snapshot. */
			good = parse_event(&ps, proc, fields, n);
			if (good && in_snap)
				proc->events[proc->nevents - 1].snap = (int)proc->nsnaps;
		} else if (strcmp(kind, "observed") == 0) {
			good = parse_observed(&ps, proc, fields, n);
		} else if (strcmp(kind, "untraced") == 0) {
			if (n < 3) {
				kt_error_set(err, "%s:%d: malformed untraced record", path, ps.line);
				goto out;
			}
			proc->untraced_path = fields[1];
			proc->untraced_reason = fields[2];
			proc->untraced_snap = proc->nsnaps;
		} else if (strcmp(kind, "reaped") == 0) {
			long long pid, status;
			if (n < 3 || !kt_parse_ll(fields[1], &pid) || !kt_parse_ll(fields[2], &status) ||
			    pid <= 0 || pid > INT_MAX || status < INT_MIN || status > INT_MAX) {
				kt_error_set(err, "%s:%d: malformed reaped record", path, ps.line);
				goto out;
			}
			*KT_PUSH(proc->reaps, proc->nreaps, proc->reaps_cap) =
				(struct kt_reap){(int)pid, (int)status};
		} else if (kind[0] == '\0') {
			kt_error_set(err, "%s:%d: empty record", path, ps.line);
			goto out;
		}
		/* Any other kind: a future extension, skipped. */
		if (!good)
			goto out;
	}
	if (ps.line == 0) {
		kt_error_set(err, "%s: empty record file", path);
		goto out;
	}
	if (in_snap) {
		kt_error_set(err, "%s:%d: snapshot is truncated (no end line)", path, cur.line);
		goto out;
	}
	if (unterminated) {
		kt_error_set(err, "%s:%d: last line is truncated (no newline)", path, ps.line);
		goto out;
	}
	ok = true;
out:
	if (in_snap) {
		free(cur.fds);
		free(cur.sames);
		free(cur.peers);
		free(cur.stats);
		free_stacks(&cur);
	}
	free(fields);
	return ok;
}

static char *read_whole_file(const char *path, size_t *len_out, struct kt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kt_error_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = kt_xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = kt_xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			kt_error_set(err, "%s: %s", path, strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*len_out = len;
	return buf;
}

static int compare_process(const void *a, const void *b)
{
	const struct kt_process *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void read_root_file(struct kt_trace *trace)
{
	char *path = kt_xasprintf("%s/root", trace->dir);
	FILE *f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return;
	char line[128];
	if (fgets(line, sizeof line, f) != NULL) {
		int pid;
		unsigned long long start;
		if (strcmp(line, "launcher\n") == 0) {
			trace->has_root = true;
			trace->root_is_launcher = true;
		} else if (sscanf(line, "%d %llu", &pid, &start) == 2) {
			trace->has_root = true;
			trace->root_pid = pid;
			trace->root_start = start;
		}
	}
	fclose(f);
}

static bool has_rec_suffix(const char *name)
{
	size_t len = strlen(name);
	return len > 4 && strcmp(name + len - 4, ".rec") == 0;
}

int kt_trace_dir_has_records(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL)
		found = has_rec_suffix(e->d_name);
	closedir(d);
	return found;
}

/* The descriptor of P's exec snapshot that an observed one was kept from
 * (same number and generation), to tell its origin. */
static const struct kt_fd *kept_from(const struct kt_process *p, const struct kt_fd *seen)
{
	if (p->untraced_snap == 0 || (seen->gen & KT_GEN_OBSERVED))
		return NULL;
	const struct kt_snapshot *exec = &p->snaps[p->untraced_snap - 1];
	for (size_t i = 0; i < exec->nfds; i++)
		if (exec->fds[i].fd == seen->fd && exec->fds[i].gen == seen->gen)
			return &exec->fds[i];
	return NULL;
}

/* An observed descriptor of an untraced image: kept across the exec into it
 * when its exec snapshot has it (same number, generation and target), with
 * the origin it had there; else made by the image, out of our sight. */
static void origin_across_exec(const struct kt_process *p, struct kt_fd *fd)
{
	const struct kt_fd *before = kept_from(p, fd);
	if (before == NULL || strcmp(before->how, "unknown") == 0 || before->target == NULL ||
	    fd->target == NULL || strcmp(before->target, fd->target) != 0) {
		fd->how = "unknown";
		fd->call = fd->site = NULL;
		return;
	}
	fd->how = "exec";
	fd->call = before->call;
	fd->site = before->site;
	if (strcmp(before->how, "dup") == 0 || strcmp(before->how, "inherited") == 0) {
		fd->src_pid = before->src_pid;
		fd->src_start = before->src_start;
		fd->src_fd = before->src_fd;
		fd->src_gen = before->src_gen;
	}
}

/* The launcher's look at an untraced image stopped at its exit (watch.c):
 * its descriptors' origins, as for observations. */
static void complete_exit_observations(struct kt_trace *trace)
{
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		for (size_t s = p->untraced_path ? p->untraced_snap : p->nsnaps; s < p->nsnaps; s++)
			for (size_t k = 0; p->snaps[s].seen_at_exit && k < p->snaps[s].nfds; k++)
				origin_across_exec(p, &p->snaps[s].fds[k]);
	}
}

/* A process whose last exec went untraced writes no snapshot of its own:
 * its descriptors are the latest observation other traced processes made
 * of it, as a snapshot of its own (observed). */
static void attach_observations(struct kt_trace *trace)
{
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		if (p->untraced_path == NULL || p->nsnaps != p->untraced_snap)
			continue; /* traced, or the exec failed and it snapshot itself later */
		const struct kt_process *by = NULL;
		unsigned long long latest = 0;
		for (size_t j = 0; j < trace->nprocs; j++)
			for (size_t k = 0; k < trace->procs[j].nobserved; k++) {
				const struct kt_observed *o = &trace->procs[j].observed[k];
				if (o->pid == p->pid && o->start == p->start && o->time >= latest) {
					latest = o->time;
					by = &trace->procs[j];
				}
			}
		if (by == NULL)
			continue;
		struct kt_snapshot snap = {.observed = true, .live = true, .status = -1, .kcmp_ok = true,
					   .kcmp = "ok", .line = 0};
		/* The latest observer's view: its lines about p (one snapshot's worth). */
		unsigned long long from = latest > 1000000000ULL ? latest - 1000000000ULL : 0;
		for (size_t k = by->nobserved; k-- > 0;) { /* newest first */
			const struct kt_observed *o = &by->observed[k];
			if (o->pid != p->pid || o->start != p->start || o->time < from)
				continue;
			bool dup = false;
			for (size_t d = 0; d < snap.nfds && !dup; d++)
				dup = snap.fds[d].fd == o->fd.fd;
			if (dup)
				continue;
			struct kt_fd fd = o->fd;
			origin_across_exec(p, &fd);
			*KT_PUSH(snap.fds, snap.nfds, snap.fds_cap) = fd;
		}
		if (snap.nfds > 1)
			qsort(snap.fds, snap.nfds, sizeof *snap.fds, compare_fd);
		*KT_PUSH(p->snaps, p->nsnaps, p->snaps_cap) = snap;
	}
}

struct kt_trace *kt_trace_load(const char *dir, struct kt_error *err)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		kt_error_set(err, "cannot read trace directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct kt_trace *trace = kt_xcalloc(1, sizeof *trace);
	size_t cap = 0;
	trace->dir = kt_xstrdup(dir);
	struct dirent *e;
	bool ok = true;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !has_rec_suffix(e->d_name))
			continue;
		struct kt_process proc = {0};
		proc.path = kt_xasprintf("%s/%s", dir, e->d_name);
		if (!parse_file_name(e->d_name, &proc.pid, &proc.start)) {
			kt_error_set(err, "%s: record file name is not PID-START.rec", proc.path);
			free(proc.path);
			ok = false;
			break;
		}
		size_t len;
		char *text = read_whole_file(proc.path, &len, err);
		/* Keep the process even when parsing fails, so free releases it. */
		*KT_PUSH(trace->procs, trace->nprocs, cap) = proc;
		if (text == NULL || !kt_process_parse(&trace->procs[trace->nprocs - 1],
						      trace->procs[trace->nprocs - 1].path, text, len,
						      err)) {
			if (text != NULL && trace->procs[trace->nprocs - 1].text == NULL)
				free(text);
			ok = false;
			break;
		}
		errno = 0;
	}
	if (ok && e == NULL && errno != 0) {
		kt_error_set(err, "cannot read trace directory %s: %s", dir, strerror(errno));
		ok = false;
	}
	closedir(d);
	if (ok && trace->nprocs == 0) {
		kt_error_set(err, "%s: no trace records (*.rec) in this directory", dir);
		ok = false;
	}
	if (!ok) {
		kt_trace_free(trace);
		return NULL;
	}
	qsort(trace->procs, trace->nprocs, sizeof *trace->procs, compare_process);
	read_root_file(trace);
	attach_observations(trace);
	complete_exit_observations(trace);
	return trace;
}

void kt_process_free(struct kt_process *p)
{
	for (size_t j = 0; j < p->nimages; j++)
		free(p->images[j].argv);
	for (size_t j = 0; j < p->nsnaps; j++) {
		free(p->snaps[j].fds);
		free(p->snaps[j].sames);
		free(p->snaps[j].peers);
		free(p->snaps[j].stats);
		free_stacks(&p->snaps[j]);
	}
	free(p->images);
	free(p->snaps);
	free(p->notes);
	free(p->reaps);
	free(p->observed);
	free(p->events);
	free(p->text);
	free(p->live_text);
	free(p->path);
}

void kt_trace_free(struct kt_trace *trace)
{
	if (trace == NULL)
		return;
	for (size_t i = 0; i < trace->nprocs; i++)
		kt_process_free(&trace->procs[i]);
	free(trace->procs);
	free(trace->dir);
	free(trace);
}

bool kt_trace_append_records(const char *dir, int pid, unsigned long long start, const char *data,
			     size_t len)
{
	char *path = kt_xasprintf("%s/%d-%llu.rec", dir, pid, start);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	bool ok = fd >= 0 && fstat(fd, &st) == 0;
	if (ok && st.st_size == 0) {
		char first[64];
		int n = snprintf(first, sizeof first, "%s\t%d\n", KT_RECORD_MAGIC, KT_RECORD_VERSION);
		ok = write(fd, first, (size_t)n) == n;
	}
	ok = ok && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (!ok)
		kt_warn("cannot add to %s: %s", path, strerror(errno));
	free(path);
	return ok;
}

const struct kt_fd_entry *kt_trace_map_table(const char *dir, int pid, unsigned long long start,
					     size_t *capacity)
{
	char *path = kt_xasprintf("%s/live/%d-%llu.tbl", dir, pid, start);
	const struct kt_fd_entry *t = kt_table_map_path(path, capacity);
	free(path);
	return t;
}

size_t kt_trace_live_list(const char *dir, struct kt_pid_start **out)
{
	*out = NULL;
	char *live = kt_xasprintf("%s/live", dir);
	DIR *d = opendir(live);
	free(live);
	if (d == NULL)
		return 0;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int pid;
		unsigned long long start;
		char rest[8];
		if (sscanf(e->d_name, "%d-%llu.tb%1s", &pid, &start, rest) == 3 && strcmp(rest, "l") == 0 &&
		    kt_proc_alive(pid, start))
			*KT_PUSH(*out, n, cap) = (struct kt_pid_start){pid, start};
	}
	closedir(d);
	return n;
}

bool kt_trace_live_tables_alive(const char *dir)
{
	struct kt_pid_start *alive;
	size_t n = kt_trace_live_list(dir, &alive);
	free(alive);
	return n > 0;
}

int kt_trace_remove_live(const char *dir)
{
	int result = 0;
	struct dirent *e;
	DIR *d;
	/* live/ holds the shared descriptor tables of processes still running;
	 * for a trace on disk, the shim makes it a link to a directory on
	 * /dev/shm. */
	char *link = kt_xasprintf("%s/live", dir);
	char target[4096];
	ssize_t tl = readlink(link, target, sizeof target - 1);
	char *live = link;
	if (tl > 0) {
		target[tl] = '\0';
		live = kt_xstrdup(target);
	}
	d = opendir(live);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *path = kt_xasprintf("%s/%s", live, e->d_name);
			if (unlink(path) != 0 && errno != ENOENT)
				result = -1;
			free(path);
		}
		closedir(d);
		if (rmdir(live) != 0 && errno != ENOENT)
			result = -1;
	}
	if (live != link) {
		if (unlink(link) != 0 && errno != ENOENT)
			result = -1;
		free(live);
	}
	free(link);
	return result;
}

int kt_trace_remove_dir(const char *dir)
{
	int result = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!has_rec_suffix(e->d_name))
			continue;
		char *path = kt_xasprintf("%s/%s", dir, e->d_name);
		if (unlink(path) != 0 && errno != ENOENT)
			result = -1;
		free(path);
	}
	closedir(d);

	if (kt_trace_remove_live(dir) != 0)
		result = -1;

	/* root: who started the trace; reported: the first process of a plain
	 * LD_PRELOAD run has written its report (shim/process.c). */
	static const char *const markers[] = {"root", "reported"};
	for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
		char *path = kt_xasprintf("%s/%s", dir, markers[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			result = -1;
		free(path);
	}
	if (rmdir(dir) != 0)
		return -1;
	return result;
}
