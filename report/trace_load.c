/* Loading a trace directory: every PID-START.rec file read (trace_read.c)
 * into one kt_trace, processes in (start, pid) order, and the snapshots of
 * untraced images made from what others saw of them. */
#include "trace.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracedir.h"


static char *read_whole_file(const char *path, size_t *len_out, struct kt_error *err)
{
	int fd = kt_open_regular(path, O_NOFOLLOW);
	if (fd < 0) {
		kt_error_set(err, "%s: %s", path,
			     errno == ENODEV || errno == ELOOP ? "not a regular file" : strerror(errno));
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

/* The process that made the latest observation of p, and its time. */
static const struct kt_process *latest_observer(const struct kt_trace *trace,
						const struct kt_process *p,
						unsigned long long *latest)
{
	const struct kt_process *by = NULL;
	*latest = 0;
	for (size_t j = 0; j < trace->nprocs; j++)
		for (size_t k = 0; k < trace->procs[j].nobserved; k++) {
			const struct kt_rec_observed *o = &trace->procs[j].observed[k];
			if (o->pid == p->pid && o->start == p->start && o->time >= *latest) {
				*latest = o->time;
				by = &trace->procs[j];
			}
		}
	return by;
}

/* A process whose last exec went untraced writes no snapshot of its own:
 * its descriptors are the latest observation other traced processes made
 * of it, as a snapshot of its own (observed; the model tells their
 * origins). */
static void attach_observations(struct kt_trace *trace)
{
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		if (p->untraced_path == NULL || p->nsnaps != p->untraced_snap)
			continue; /* traced, or the exec failed and it snapshot itself later */
		unsigned long long latest;
		const struct kt_process *by = latest_observer(trace, p, &latest);
		if (by == NULL)
			continue;
		struct kt_snapshot snap = {.head = {.why = KT_WHY_LIVE, .status = -1, .kcmp = 0},
					   .observed = true};
		/* The latest observer's view: its lines about p (one snapshot's worth). */
		unsigned long long from = latest > 1000000000ULL ? latest - 1000000000ULL : 0;
		for (size_t k = by->nobserved; k-- > 0;) { /* newest first */
			const struct kt_rec_observed *o = &by->observed[k];
			if (o->pid != p->pid || o->start != p->start || o->time < from)
				continue;
			bool dup = false;
			for (size_t d = 0; d < snap.nfds && !dup; d++)
				dup = snap.fds[d].rec.fd == o->fd;
			if (dup)
				continue;
			struct kt_fd fd = {.rec = {.fd = o->fd, .gen = o->gen, .type = o->type,
						   .target = o->target, .access = o->access,
						   .cloexec = o->cloexec, .how = KT_HOW_UNKNOWN,
						   .src_fd = -1}};
			*KT_PUSH(snap.fds, snap.nfds, snap.fds_cap) = fd;
		}
		kt_snapshot_sort(&snap);
		*KT_PUSH(p->snaps, p->nsnaps, p->snaps_cap) = snap;
	}
}

/* Read DIR/NAME into a new process of trace. */
static bool load_process(struct kt_trace *trace, size_t *cap, const char *name,
			 struct kt_error *err)
{
	struct kt_process proc = {0};
	proc.path = kt_xasprintf("%s/%s", trace->dir, name);
	pid_t pid;
	if (!kt_trace_parse_name(name, KT_TRACE_REC, &pid, &proc.start)) {
		kt_error_set(err, "%s: record file name is not PID-START.rec", proc.path);
		free(proc.path);
		return false;
	}
	proc.pid = pid;
	size_t len;
	char *text = read_whole_file(proc.path, &len, err);
	if (text != NULL && len == 0) {
		/* Made, then nothing written: the process ended (a signal, the
		 * file system full) as it began its trace. Said, and the rest of
		 * the trace is still reported. */
		kt_warn("%s: empty record (the process ended as it began to write its trace): left out",
			proc.path);
		free(text);
		free(proc.path);
		return true;
	}
	/* Keep the process even when parsing fails, so free releases it. */
	struct kt_process *p = KT_PUSH(trace->procs, trace->nprocs, *cap);
	*p = proc;
	if (text == NULL)
		return false;
	return kt_process_parse(p, p->path, text, len, err);
}

bool kt_trace_load_process(const char *dir, int pid, unsigned long long start,
			   struct kt_process *out, struct kt_error *err)
{
	char path[4200];
	*out = (struct kt_process){.pid = pid, .start = start};
	if (!kt_trace_rec_path(path, sizeof path, dir, pid, start)) {
		kt_error_set(err, "%s: name too long", dir);
		return false;
	}
	out->path = kt_xstrdup(path);
	size_t len;
	char *text = read_whole_file(path, &len, err);
	return text != NULL && kt_process_parse(out, out->path, text, len, err);
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
	while (ok && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' && kt_trace_rec_name(e->d_name))
			ok = load_process(trace, &cap, e->d_name, err);
		errno = 0;
	}
	if (ok && errno != 0) {
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
	attach_observations(trace);
	return trace;
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
