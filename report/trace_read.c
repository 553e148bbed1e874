/* Reading one record file (PID-START.rec) into a kt_process through the
 * record codec (shim/common/record.h), strictly: a corrupt trace gives one
 * clear error naming the file and line instead of a wrong report. */
#include "trace.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocked.h"
#include "blocked_record.h"

/* Reading state for one file, so that errors can name file and line. */
struct reader {
	struct kt_process *proc;
	const char *path;
	int line;
	struct kt_error *err;
	struct kt_snapshot cur; /* the snapshot being read */
	bool in_snap;
};

static bool fail(struct reader *r, const char *what)
{
	kt_error_set(r->err, "%s:%d: %s", r->path, r->line, what);
	return false;
}

static void free_snapshot(struct kt_snapshot *s)
{
	for (size_t i = 0; i < s->nstacks; i++)
		free(s->stacks[i].sites);
	free(s->stacks);
	free(s->addrs);
	free(s->fds);
	free(s->closed);
	free(s->sames);
	free(s->peers);
	free(s->inos);
	free(s->stats);
	if (s->blocked != NULL)
		kt_blocked_free(s->blocked);
	free(s->blocked);
}

static int compare_fd(const void *a, const void *b)
{
	const struct kt_fd *x = a, *y = b;
	return (x->rec.fd > y->rec.fd) - (x->rec.fd < y->rec.fd);
}

void kt_snapshot_sort(struct kt_snapshot *s)
{
	if (s->nfds > 1)
		qsort(s->fds, s->nfds, sizeof *s->fds, compare_fd);
}

static struct kt_fd *find_fd(struct kt_snapshot *s, int fd)
{
	struct kt_fd key = {.rec = {.fd = fd}};
	if (s->nfds == 0)
		return NULL; /* bsearch wants an array, even an empty one */
	return bsearch(&key, s->fds, s->nfds, sizeof *s->fds, compare_fd);
}

/* The end line: descriptors in order (each once), stacks given to their
 * descriptors, and the snapshot kept. */
static bool end_snapshot(struct reader *r)
{
	struct kt_snapshot *s = &r->cur;
	kt_snapshot_sort(s);
	for (size_t i = 1; i < s->nfds; i++)
		if (s->fds[i].rec.fd == s->fds[i - 1].rec.fd) {
			char what[128];
			snprintf(what, sizeof what, "descriptor %d listed twice in one snapshot",
				 s->fds[i].rec.fd);
			return fail(r, what);
		}
	for (size_t i = 0; i < s->nstacks; i++) {
		struct kt_fd *fd = find_fd(s, s->stacks[i].fd);
		if (fd != NULL && fd->rec.gen == s->stacks[i].gen) {
			fd->stack = s->stacks[i].sites;
			fd->nstack = s->stacks[i].nsites;
		}
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		struct kt_fd *fd = find_fd(s, s->addrs[i].fd);
		if (fd != NULL && fd->rec.gen == s->addrs[i].gen) {
			fd->has_addr = true;
			fd->addr = s->addrs[i];
		}
	}
	free(s->addrs);
	s->addrs = NULL;
	s->naddrs = s->addrs_cap = 0;
	*KT_PUSH(r->proc->snaps, r->proc->nsnaps, r->proc->snaps_cap) = *s;
	r->in_snap = false;
	return true;
}

static bool read_image(struct reader *r, const struct kt_rec_line *l, struct kt_rec_error *e)
{
	struct kt_rec_image im;
	if (r->in_snap)
		return fail(r, "image record inside a snapshot");
	if (!kt_rec_parse_image(l, &im, e))
		return fail(r, e->what);
	if (im.pid != r->proc->pid || im.start != r->proc->start) {
		snprintf(e->what, sizeof e->what,
			 "image record is for %d-%llu, not for this file's process", (int)im.pid,
			 im.start);
		return fail(r, e->what);
	}
	/* The fields array is reused for the next line: argv gets its own. */
	const char **argv = kt_xcalloc((size_t)im.argc + 1, sizeof *argv);
	memcpy(argv, im.argv, (size_t)im.argc * sizeof *argv);
	im.argv = argv;
	*KT_PUSH(r->proc->images, r->proc->nimages, r->proc->images_cap) = im;
	return true;
}

/* Lines that belong inside a snapshot. */
static bool read_in_snapshot(struct reader *r, const struct kt_rec_line *l, struct kt_rec_error *e)
{
	struct kt_snapshot *s = &r->cur;
	if (!r->in_snap) {
		snprintf(e->what, sizeof e->what, "%s record outside a snapshot", l->f[0]);
		return fail(r, e->what);
	}
	switch (l->kind) {
	case KT_REC_FD: {
		struct kt_fd fd = {0};
		if (!kt_rec_parse_fd(l, &fd.rec, e))
			return fail(r, e->what);
		/* Access "-" (unknown) is what a table snapshot writes; elsewhere
		 * it is kept as unknown rather than losing the trace over it. */
		*KT_PUSH(s->fds, s->nfds, s->fds_cap) = fd;
		return true;
	}
	case KT_REC_CLOSED: {
		struct kt_fd *fd = KT_PUSH(s->closed, s->nclosed, s->closed_cap);
		*fd = (struct kt_fd){0};
		return kt_rec_parse_closed(l, &fd->rec, e) || fail(r, e->what);
	}
	case KT_REC_SAME:
		return kt_rec_parse_same(l, KT_PUSH(s->sames, s->nsames, s->sames_cap), e) ||
		       fail(r, e->what);
	case KT_REC_PEER:
		return kt_rec_parse_peer(l, KT_PUSH(s->peers, s->npeers, s->peers_cap), e) ||
		       fail(r, e->what);
	case KT_REC_INO:
		return kt_rec_parse_ino(l, KT_PUSH(s->inos, s->ninos, s->inos_cap), e) ||
		       fail(r, e->what);
	case KT_REC_ADDR:
		return kt_rec_parse_addr(l, KT_PUSH(s->addrs, s->naddrs, s->addrs_cap), e) ||
		       fail(r, e->what);
	case KT_REC_STAT:
		return kt_rec_parse_stat(l, KT_PUSH(s->stats, s->nstats, s->stats_cap), e) ||
		       fail(r, e->what);
	case KT_REC_STACK: {
		struct kt_rec_stack st;
		if (!kt_rec_parse_stack(l, &st, e))
			return fail(r, e->what);
		struct kt_stack *keep = KT_PUSH(s->stacks, s->nstacks, s->stacks_cap);
		keep->fd = st.fd;
		keep->gen = st.gen;
		keep->nsites = (size_t)st.nsites;
		keep->sites = kt_xcalloc(keep->nsites + 1, sizeof *keep->sites);
		memcpy(keep->sites, st.sites, keep->nsites * sizeof *keep->sites);
		return true;
	}
	case KT_REC_BLOCKED: {
		struct kt_rec_blocked b;
		struct kt_rec_blocked_fd *fds = kt_xcalloc((size_t)l->n, sizeof *fds);
		const char *why = NULL;
		bool ok = kt_rec_parse_blocked(l, &b, fds, e) && kt_blocked_take(&s->blocked, &b, &why);
		free(fds);
		if (why != NULL)
			return fail(r, why);
		return ok || fail(r, e->what);
	}
	default: /* KT_REC_END */
		return end_snapshot(r);
	}
}

/* Lines outside snapshots (events may be either). */
static bool read_record(struct reader *r, const struct kt_rec_line *l, struct kt_rec_error *e)
{
	struct kt_process *p = r->proc;
	switch (l->kind) {
	case KT_REC_IMAGE:
		return read_image(r, l, e);
	case KT_REC_SNAP:
		if (r->in_snap) {
			snprintf(e->what, sizeof e->what, "snapshot of line %d has no end line",
				 r->cur.line);
			return fail(r, e->what);
		}
		r->cur = (struct kt_snapshot){.line = r->line};
		if (!kt_rec_parse_snap(l, &r->cur.head, e))
			return fail(r, e->what);
		r->cur.observed = r->cur.head.why == KT_WHY_EXIT_OBSERVED;
		r->in_snap = true;
		return true;
	case KT_REC_FD:
	case KT_REC_CLOSED:
	case KT_REC_SAME:
	case KT_REC_PEER:
	case KT_REC_INO:
	case KT_REC_ADDR:
	case KT_REC_STAT:
	case KT_REC_STACK:
	case KT_REC_BLOCKED:
	case KT_REC_END:
		return read_in_snapshot(r, l, e);
	case KT_REC_NOTE:
		return kt_rec_parse_note(l, KT_PUSH(p->notes, p->nnotes, p->notes_cap), e) ||
		       fail(r, e->what);
	case KT_REC_EVENT: {
		/* Written after a snapshot's end line; one inside a snapshot
		 * belongs to that snapshot. */
		struct kt_event *ev = KT_PUSH(p->events, p->nevents, p->events_cap);
		ev->snap = (int)p->nsnaps - (r->in_snap ? 0 : 1);
		return kt_rec_parse_event(l, &ev->rec, e) || fail(r, e->what);
	}
	case KT_REC_OBSERVED:
		return kt_rec_parse_observed(l, KT_PUSH(p->observed, p->nobserved, p->observed_cap), e) ||
		       fail(r, e->what);
	case KT_REC_UNTRACED: {
		struct kt_rec_untraced u;
		if (!kt_rec_parse_untraced(l, &u, e))
			return fail(r, e->what);
		p->untraced_path = u.path;
		p->untraced_reason = u.reason;
		p->untraced_snap = p->nsnaps;
		return true;
	}
	case KT_REC_FORKED:
		return kt_rec_parse_forked(l, &p->fork_time, e) || fail(r, e->what);
	case KT_REC_SPAWNED:
		return kt_rec_parse_spawned(l, &p->spawned_by, &p->fork_time, e) || fail(r, e->what);
	case KT_REC_ENDED:
		p->ended = true;
		return kt_rec_parse_ended(l, &p->ended_status, e) || fail(r, e->what);
	case KT_REC_REAPED:
		return kt_rec_parse_reaped(l, KT_PUSH(p->reaps, p->nreaps, p->reaps_cap), e) ||
		       fail(r, e->what);
	case KT_REC_END_FD: {
		struct kt_fd *fd = KT_PUSH(p->end_fds, p->nend_fds, p->end_fds_cap);
		*fd = (struct kt_fd){0};
		return kt_rec_parse_fd(l, &fd->rec, e) || fail(r, e->what);
	}
	case KT_REC_END_FDS: {
		long n;
		if (!kt_rec_parse_end_fds(l, &n, &p->end_time, e))
			return fail(r, e->what);
		if (n < 0 && p->nend_fds == 0) {
			p->end_same = true; /* open-at-exit: the exit snapshot's */
			return true;
		}
		if (n < 0 || (size_t)n != p->nend_fds)
			return fail(r, "end-fds count differs from its end-fd lines");
		p->end_known = true;
		return true;
	}
	case KT_REC_UNRECORDED:
		return kt_rec_parse_unrecorded(l, KT_PUSH(p->unrecorded, p->nunrecorded,
							  p->unrecorded_cap), e) ||
		       fail(r, e->what);
	default: /* a future extension: skipped */
		return true;
	}
}

/* The next line of text (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p, char *end, bool *unterminated)
{
	if (*p >= end)
		return NULL;
	char *line = *p;
	char *nl = memchr(line, '\n', (size_t)(end - line));
	if (nl != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = end; /* text is NUL-terminated by the caller */
		*unterminated = true;
	}
	return line;
}

bool kt_process_parse(struct kt_process *proc, const char *path, char *text, size_t len,
		      struct kt_error *err)
{
	struct reader r = {.proc = proc, .path = path, .err = err};
	struct kt_rec_error e;
	bool unterminated = false, ok = false;
	char **fields = NULL;
	size_t fields_cap = 0;
	proc->text = text;
	if (memchr(text, '\0', len) != NULL) {
		kt_error_set(err, "%s: NUL byte in record file", path);
		return false;
	}
	char *p = text, *line;
	while ((line = next_line(&p, text + len, &unterminated)) != NULL) {
		r.line++;
		/* Every argument of an image line gets a field of its own. */
		size_t nfields = kt_record_count_fields(line);
		if (nfields > INT_MAX) {
			fail(&r, "too many fields");
			goto out;
		}
		if (nfields > fields_cap) {
			fields_cap = nfields;
			fields = kt_xrealloc(fields, fields_cap * sizeof *fields);
		}
		struct kt_rec_line l;
		if (!kt_rec_line_split(line, fields, (int)nfields, &l, &e)) {
			fail(&r, e.what);
			goto out;
		}
		if (r.line == 1 ? !kt_rec_parse_magic(&l, &e) && !fail(&r, e.what)
				: !read_record(&r, &l, &e))
			goto out;
	}
	if (r.line == 0)
		kt_error_set(err, "%s: empty record file", path);
	else if (r.in_snap)
		kt_error_set(err, "%s:%d: snapshot is truncated (no end line)", path, r.cur.line);
	else if (unterminated)
		kt_error_set(err, "%s:%d: last line is truncated (no newline)", path, r.line);
	else
		ok = true;
out:
	if (r.in_snap)
		free_snapshot(&r.cur);
	free(fields);
	return ok;
}

const struct kt_rec_image *kt_process_image_at(const struct kt_process *p, size_t snap)
{
	size_t execs = 0;
	for (size_t s = 0; s < snap && s < p->nsnaps; s++)
		execs += p->snaps[s].head.why == KT_WHY_EXEC;
	return execs < p->nimages ? &p->images[execs] : NULL;
}

void kt_process_free(struct kt_process *p)
{
	for (size_t j = 0; j < p->nimages; j++)
		free((void *)p->images[j].argv);
	for (size_t j = 0; j < p->nsnaps; j++)
		free_snapshot(&p->snaps[j]);
	free(p->images);
	free(p->snaps);
	free(p->notes);
	free(p->reaps);
	free(p->unrecorded);
	free(p->observed);
	free(p->events);
	free(p->end_fds);
	free(p->text);
	for (size_t j = 0; j < p->nowned; j++)
		free(p->owned[j]);
	free(p->owned);
	free(p->path);
}
