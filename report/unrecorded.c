/* Processes whose trace could not be written in full (unrecorded.h): what
 * their tables kept, moved into the records; what is missing, in words;
 * and the launcher's one word on it. */
#include "unrecorded.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notes.h"
#include "procfs.h"
#include "record.h"
#include "table.h"
#include "tracedir.h"
#include "util.h"

/* ---- from the tables into the records ---- */

static bool same_loss(const struct kt_rec_unrecorded *a, const struct kt_rec_unrecorded *b)
{
	return a->what == b->what && a->err == b->err && a->seccomp == b->seccomp &&
	       (a->path == NULL) == (b->path == NULL) && (!a->path || strcmp(a->path, b->path) == 0);
}

static void append_loss(const char *dir, const struct kt_process *p, const struct kt_rec_unrecorded *u)
{
	for (size_t i = 0; i < p->nunrecorded; i++)
		if (same_loss(&p->unrecorded[i], u))
			return; /* moved on an earlier report */
	size_t cap = 256 + 4 * (u->path ? strlen(u->path) : 0);
	struct kt_buf b = {kt_xmalloc(cap), 0, cap, 0};
	kt_rec_put_unrecorded(&b, u);
	if (!b.overflow)
		kt_trace_append_records(dir, p->pid, p->start, b.data, b.len);
	free(b.data);
}

/* A fork child that could not get a table: a record of its own, with its
 * parent's image (a fork runs the same program) and its loss. */
static void make_child_record(const char *dir, const struct kt_process *parent,
			      const struct kt_table_lost_child *c)
{
	int pid = atomic_load(&c->pid);
	char path[4200];
	if (parent->nimages == 0 || !kt_trace_rec_path(path, sizeof path, dir, pid, c->start) ||
	    access(path, F_OK) == 0)
		return; /* nothing to name it by, or made on an earlier report */
	struct kt_rec_image im = parent->images[parent->nimages - 1];
	im.pid = pid;
	im.ppid = parent->pid;
	im.parent_start = parent->start;
	im.start = c->start;
	size_t cap = 512 + 4 * (im.exe ? strlen(im.exe) : 0);
	for (int a = 0; a < im.argc; a++)
		cap += 4 * strlen(im.argv[a]) + 4;
	struct kt_buf b = {kt_xmalloc(cap), 0, cap, 0};
	kt_rec_put_image(&b, &im);
	kt_rec_put_unrecorded(&b, &(struct kt_rec_unrecorded){KT_LOST_FORK, c->err, c->seccomp != 0, NULL});
	if (!b.overflow)
		kt_trace_append_records(dir, pid, c->start, b.data, b.len);
	free(b.data);
}

static int collect_table(pid_t pid, unsigned long long start, void *ctx)
{
	const char *dir = ctx;
	if (kt_proc_alive(pid, start))
		return 0; /* it may still write its record itself */
	size_t cap;
	const struct kt_fd_entry *t = kt_trace_map_table(dir, pid, start, &cap);
	struct kt_process p;
	struct kt_error err;
	if (t != NULL && kt_trace_load_process(dir, pid, start, &p, &err)) {
		struct kt_rec_unrecorded u;
		if (kt_table_lost_of(t, &u))
			append_loss(dir, &p, &u);
		struct kt_table_lost_child children[KT_TABLE_LOST_CHILDREN];
		size_t n = kt_table_lost_children(t, children, KT_TABLE_LOST_CHILDREN);
		for (size_t i = 0; i < n; i++)
			make_child_record(dir, &p, &children[i]);
	}
	if (t != NULL)
		kt_process_free(&p);
	kt_table_unmap(t, cap);
	return 0;
}

void kt_trace_collect_unrecorded(const char *dir)
{
	kt_trace_each_table(dir, collect_table, (void *)dir);
}

void kt_trace_infer_unrecorded(struct kt_trace *trace)
{
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		if (p->nsnaps > 0 && p->snaps[p->nsnaps - 1].head.why != KT_WHY_EXEC)
			continue; /* its end is known: its own, a table's, or a look from outside */
		if (p->untraced_path != NULL || p->nunrecorded > 0 || kt_proc_alive(p->pid, p->start))
			continue; /* observed from outside, already marked, or not ended */
		struct kt_rec_unrecorded u = {.what = KT_LOST_END};
		append_loss(trace->dir, p, &u);
		*KT_PUSH(p->unrecorded, p->nunrecorded, p->unrecorded_cap) = u;
	}
}

/* ---- in words ---- */

static bool refused(int err)
{
	return err == EPERM || err == EACCES || err == ENOSYS || err == EROFS;
}

const char *kt_unrecorded_cause(const struct kt_rec_unrecorded *u)
{
	if (u->seccomp && refused(u->err))
		return "seccomp";
	if (u->err == EPERM || u->err == EACCES || u->err == EROFS)
		return "permission";
	return u->err != 0 ? "error" : NULL;
}

const char *kt_unrecorded_reason(const struct kt_rec_unrecorded *u, char *buf, size_t len)
{
	const char *cause = kt_unrecorded_cause(u), *name = kt_errno_name(u->err);
	if (cause == NULL)
		snprintf(buf, len, "reason unknown");
	else if (strcmp(cause, "seccomp") == 0)
		snprintf(buf, len, "a seccomp filter refused writing the trace (%s)", name);
	else if (strcmp(cause, "permission") == 0)
		snprintf(buf, len, "permission denied writing the trace (%s)", name);
	else
		snprintf(buf, len, "writing the trace failed: %s (%s)", strerror(u->err), name);
	return buf;
}

/* What is missing, as a sentence without its period. */
static char *what_sentence(const struct kt_rec_unrecorded *u)
{
	switch (u->what) {
	case KT_LOST_START:
		return kt_xstrdup("Its new program could not start a trace");
	case KT_LOST_FORK:
		return kt_xstrdup("Nothing but its fork could be recorded (it could not get a table)");
	case KT_LOST_EXEC:
		return kt_xasprintf("Nothing from its exec of %s on could be written",
				    u->path ? u->path : "a program");
	case KT_LOST_EXIT:
		return kt_xstrdup("Its exit snapshot could not be written");
	case KT_LOST_TABLE:
		return kt_xstrdup("Its descriptor table could not grow to the numbers it used");
	case KT_LOST_END:
	default:
		return kt_xstrdup("Nothing of its end was recorded: it left neither a snapshot nor a "
				  "table");
	}
}

static const char *meaning_of(enum kt_lost_what what)
{
	switch (what) {
	case KT_LOST_FORK:
		return "It is listed with its parent's program; its descriptors and its end are not "
		       "known.";
	case KT_LOST_END:
		return "Its last descriptors are not known, nor how they were shared.";
	case KT_LOST_EXIT:
		return "Its descriptors are those its table last held, without kcmp.";
	case KT_LOST_TABLE:
		return "Its descriptors above the table's size are listed with origin unknown.";
	default: /* start, exec */
		return "Its descriptors are those its table held at that exec, without kcmp; what "
		       "the new program did is not known.";
	}
}

static const char *advice_of(const char *cause)
{
	if (cause == NULL)
		return "Trace again; if it stays, keep the trace (--trace-dir) and report it.";
	if (strcmp(cause, "seccomp") == 0)
		return "Nothing to fix in the program: it sandboxes this process on purpose. To trace "
		       "it in full, run it without its sandbox if it offers that (man-db: "
		       "MAN_DISABLE_SECCOMP=1).";
	if (strcmp(cause, "permission") == 0)
		return "Give the run a trace directory every traced process can write (--trace-dir).";
	return "Check the trace directory's file system (free space, quota) and trace again.";
}

void kt_unrecorded_words(const struct kt_rec_unrecorded *u, struct kt_note_words *w)
{
	char reason[160];
	char *what = what_sentence(u);
	const char *cause = kt_unrecorded_cause(u);
	w->what = kt_xasprintf("%s: %s", what, kt_unrecorded_reason(u, reason, sizeof reason));
	w->meaning = meaning_of(u->what);
	w->advice = advice_of(cause);
	w->kind = kt_xasprintf("unrecorded %s %s %s", kt_lost_what_name(u->what), cause ? cause : "-",
			       kt_errno_name(u->err));
	free(what);
}

char *kt_unrecorded_paragraph(const struct kt_rec_unrecorded *u)
{
	struct kt_note_words w;
	kt_unrecorded_words(u, &w);
	char *text = kt_xasprintf("%s. %s %s", w.what, w.meaning, w.advice);
	kt_note_words_free(&w);
	return text;
}

const char *kt_unrecorded_program(const struct kt_mproc *mp)
{
	const struct kt_process *p = mp->proc;
	for (size_t i = p->nunrecorded; i-- > 0;)
		if (p->unrecorded[i].what == KT_LOST_EXEC && p->unrecorded[i].path != NULL)
			return kt_basename(p->unrecorded[i].path);
	return mp->name;
}

/* ---- the launcher's word ---- */

#define SAY_PIDS 8  /* named per reason; the rest counted */
#define SAY_REASONS 3

void kt_unrecorded_say(const struct kt_model *m)
{
	char reasons[SAY_REASONS][160];
	size_t nreasons = 0, more_reasons = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		if (p->nunrecorded == 0)
			continue;
		char reason[160];
		kt_unrecorded_reason(&p->unrecorded[p->nunrecorded - 1], reason, sizeof reason);
		bool known = false;
		for (size_t r = 0; r < nreasons && !known; r++)
			known = strcmp(reasons[r], reason) == 0;
		if (!known && nreasons < SAY_REASONS)
			strcpy(reasons[nreasons++], reason);
		else if (!known)
			more_reasons++;
	}
	for (size_t r = 0; r < nreasons; r++) {
		struct kt_str line = {0};
		size_t n = 0;
		for (size_t i = 0; i < m->nprocs; i++) {
			const struct kt_mproc *mp = &m->procs[i];
			const struct kt_process *p = mp->proc;
			char reason[160];
			if (p->nunrecorded == 0 ||
			    strcmp(kt_unrecorded_reason(&p->unrecorded[p->nunrecorded - 1], reason,
							sizeof reason), reasons[r]) != 0)
				continue;
			if (n++ < SAY_PIDS)
				kt_str_printf(&line, "%s%d %s", n > 1 ? ", " : "", p->pid,
					      kt_unrecorded_program(mp));
		}
		if (n > SAY_PIDS)
			kt_str_printf(&line, " and %zu more", n - SAY_PIDS);
		kt_warn("%zu process%s not fully recorded, %s: %s%s", n, n == 1 ? "" : "es",
			reasons[r], line.s ? line.s : "", r + 1 == nreasons ? "; the report marks them" : "");
		free(line.s);
	}
	if (more_reasons > 0)
		kt_warn("and processes not fully recorded for %zu other reason%s (see the report)",
			more_reasons, more_reasons == 1 ? "" : "s");
}
