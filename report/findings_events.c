/* Findings from the calls the hooks noted as events (record.h "event"):
 * shared-status-flags (F_SETFL on a description others hold), shared-lock
 * (flock or an OFD lock on one), bad-close (close of a descriptor that was
 * not open), bad-use (read, write... of a descriptor that was not open). */
#include "findings_impl.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

/* The holders named in a message; the rest are counted ("and N more"),
 * and all of them are in the finding's related pids. */
#define HOLDERS_NAMED 6

static void name_holder(struct kt_str *t, size_t n, int pid, const char *name, int fd)
{
	if (n < HOLDERS_NAMED)
		kt_str_printf(t, "%s%d (%s) fd %d", n ? ", " : "", pid, name, fd);
}

/* Whether process q was forked after time (a setfl's TIME): it got its
 * copy of the description after the call, which changed nothing under it.
 * Unknown times (older traces, spawned processes) say no. */
static bool forked_after(const struct kt_model *m, int q, unsigned long long time)
{
	unsigned long long forked = m->procs[q].proc->fork_time;
	return time != 0 && forked != 0 && forked > time;
}

/* Whether process q still held its descriptor fd (generation gen) at
 * time (a setfl's TIME; 0: no bound, it counts as held). Its last
 * snapshot tells: taken after the call and still listing it, held; taken
 * before, at its exit, then its real end (end-fds TIME) decides, and an
 * end that wrote nothing after that snapshot (_exit, a signal) came right
 * after it. What no time orders (a close between two snapshots, an end
 * nobody timed) is unknown. */
enum held { HELD, GONE, UNSURE };

static enum held held_at(const struct kt_model *m, int q, int fd, unsigned long long gen,
			 unsigned long long time)
{
	const struct kt_process *p = m->procs[q].proc;
	const struct kt_snapshot *s = m->procs[q].snap;
	if (time == 0)
		return HELD;
	if (s == NULL || s->head.why == KT_WHY_TABLE)
		return UNSURE; /* it ended without a snapshot, when unknown */
	bool listed = false;
	for (size_t k = 0; k < s->nfds && !listed; k++)
		listed = s->fds[k].rec.fd == fd && s->fds[k].rec.gen == gen;
	if (s->head.time == 0)
		return listed ? HELD : UNSURE; /* older traces, observed images */
	if (s->head.time >= time)
		return listed ? HELD : UNSURE; /* or closed before: unknown when */
	bool exited = s->head.why == KT_WHY_EXIT || s->head.why == KT_WHY_EXIT_OBSERVED;
	if (!exited)
		return UNSURE;
	if (p->end_same && p->end_time != 0)
		return p->end_time < time || !listed ? GONE : HELD; /* unchanged until its end */
	if (!p->end_known || p->end_time == 0)
		return p->end_known ? UNSURE : GONE;
	if (p->end_time < time)
		return GONE;
	for (size_t k = 0; k < p->nend_fds; k++)
		if (p->end_fds[k].rec.fd == fd && fd > 2)
			return HELD;
	return UNSURE;
}

/* Other traced processes that hold the node's description: holders of its
 * ofd elsewhere, and the processes it came from (not a sender's: what it
 * sent is the receiver's), but none forked after `after` (a setfl's TIME;
 * 0: no such bound) nor gone by then. Returns how many were written into t
 * as "1234 (name) fd 3, ..."; those that may or may not have held it then
 * go into unsure, and their count into *nunsure. */
static size_t others_holding(const struct kt_model *m, int proc, const struct kt_chain *c, int ofd,
			     unsigned long long after, struct kt_str *t, struct kt_str *unsure,
			     size_t *nunsure, struct kt_finding *f)
{
	size_t n = 0;
	*nunsure = 0;
	int *listed = kt_xcalloc(m->nprocs, sizeof *listed);
	for (size_t q = 0; q < m->nprocs; q++)
		listed[q] = forked_after(m, (int)q, after);
	/* Every holder (of the ofd), then every process it came from. */
	size_t nofd = ofd > 0 ? m->ofds[ofd - 1].nholders : 0;
	for (size_t i = 0; i < nofd + c->own; i++) {
		int q, fd;
		unsigned long long gen;
		if (i < nofd) {
			const struct kt_holder *h = &m->ofds[ofd - 1].holders[i];
			q = h->proc;
			fd = h->fd;
			gen = h->rec ? h->rec->rec.gen : 0;
		} else if (i - nofd >= 1) {
			const struct kt_step *st = &c->steps[i - nofd];
			q = st->proc;
			fd = st->fd;
			gen = st->gen;
		} else {
			continue; /* steps[0]: the node itself */
		}
		if (q < 0 || q == proc || listed[q])
			continue;
		enum held held = held_at(m, q, fd, gen, after);
		if (held == GONE)
			continue;
		listed[q] = 1;
		kt_finding_relate(f, q);
		if (held == UNSURE) {
			name_holder(unsure, (*nunsure)++, m->procs[q].proc->pid, m->procs[q].name, fd);
			continue;
		}
		name_holder(t, n, m->procs[q].proc->pid, m->procs[q].name, fd);
		n++;
	}
	if (n > HOLDERS_NAMED)
		kt_str_printf(t, " and %zu more processes", n - HOLDERS_NAMED);
	if (*nunsure > HOLDERS_NAMED)
		kt_str_printf(unsure, " and %zu more processes", *nunsure - HOLDERS_NAMED);
	free(listed);
	return n;
}

static void flag_names(struct kt_str *t, unsigned long long changed, unsigned long long after)
{
	static const struct {
		unsigned long long flag;
		const char *name;
	} flags[] = {
		{O_NONBLOCK, "O_NONBLOCK"}, {O_APPEND, "O_APPEND"}, {O_ASYNC, "O_ASYNC"},
#ifdef O_DIRECT
		{O_DIRECT, "O_DIRECT"},
#endif
#ifdef O_NOATIME
		{O_NOATIME, "O_NOATIME"},
#endif
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (!(changed & flags[i].flag))
			continue;
		kt_str_printf(t, "%s%s %s", n++ ? ", " : "", after & flags[i].flag ? "set" : "cleared",
			      flags[i].name);
		changed &= ~flags[i].flag;
	}
	if (changed)
		kt_str_printf(t, "%schanged flags 0%llo", n ? ", " : "", changed);
}

/* The same event written again by a later snapshot (it stays noted in the
 * table entry until the descriptor changes). */
static bool event_seen(const struct kt_process *p, size_t upto, const struct kt_rec_event *ev)
{
	for (size_t e = 0; e < upto; e++) {
		const struct kt_rec_event *x = &p->events[e].rec;
		if (x->kind == ev->kind && x->fd == ev->fd && x->gen == ev->gen &&
		    x->arg1 == ev->arg1 && x->arg2 == ev->arg2 &&
		    (x->site == ev->site || (x->site && ev->site && strcmp(x->site, ev->site) == 0)))
			return true;
	}
	return false;
}

/* What the event is about, for both kinds of sharing findings. */
struct shared {
	const struct kt_process *p;
	const char *name;
	const struct kt_rec_event *ev;
	const struct kt_rec_fd *fd;
	const char *at;        /* where the call was made, or NULL */
	const char *holders;   /* "1234 (name) fd 3, ..." */
};

static void lock_texts(const struct shared *s, struct kt_str *msg, struct kt_str *why)
{
	const struct kt_rec_event *ev = s->ev;
	const char *how = ev->kind == KT_EVENT_FLOCK
				  ? ((ev->arg1 & LOCK_EX) ? "flock(LOCK_EX)" : "flock(LOCK_SH)")
				  : (ev->arg1 == F_WRLCK ? "an OFD write lock (F_OFD_SETLK)"
							 : "an OFD read lock (F_OFD_SETLK)");
	kt_str_printf(msg, "%d %s: took %s on fd %d (%s), a description also held by %s", s->p->pid,
		      s->name, how, ev->fd, kt_target_of(s->fd), s->holders);
	kt_str_printf(why,
		      "%d (%s) took %s on fd %d (%s)%s%s. The lock belongs to the open file "
		      "description, not to the process: %s hold%s the same description, so they hold "
		      "the lock too, can unlock it for everyone, and it is released only when the "
		      "last of them closes it. The descriptor was ",
		      s->p->pid, s->name, how, ev->fd, kt_target_of(s->fd), s->at ? " at " : "",
		      s->at ? s->at : "", s->holders, strchr(s->holders, ',') ? "" : "s");
}

static void lock_fix(struct kt_str *why)
{
	kt_str_printf(why, ". Fix: open the file again in the process that locks it (a new "
			   "description), or lock with F_SETLK (per process).");
}

static void flags_texts(const struct shared *s, struct kt_str *msg, struct kt_str *why)
{
	const struct kt_rec_event *ev = s->ev;
	struct kt_str what = {0};
	flag_names(&what, (unsigned long long)(ev->arg1 ^ ev->arg2), (unsigned long long)ev->arg2);
	const char *change = what.s ? what.s : "changed nothing";
	kt_str_printf(msg, "%d %s: fcntl(F_SETFL) %s on fd %d (%s), a description also held by %s",
		      s->p->pid, s->name, change, ev->fd, kt_target_of(s->fd), s->holders);
	bool nonblock = ((ev->arg1 ^ ev->arg2) & O_NONBLOCK) != 0;
	kt_str_printf(why,
		      "%d (%s) %s on fd %d (%s) with fcntl(F_SETFL)%s%s. Status flags belong to the "
		      "open file description, so the change applies to %s as well%s. The descriptor "
		      "was ",
		      s->p->pid, s->name, change, ev->fd, kt_target_of(s->fd), s->at ? " at " : "",
		      s->at ? s->at : "", s->holders,
		      nonblock ? ((ev->arg2 & O_NONBLOCK)
					  ? ": their reads and writes that used to block now fail with "
					    "EAGAIN"
					  : ": their reads and writes now block where they expected "
					    "EAGAIN")
			       : "");
	free(what.s);
}

static void flags_fix(struct kt_str *why)
{
	kt_str_printf(why, ". Fix: open or create a description of its own for this process instead "
			   "of changing a shared one (or set the flag per call, e.g. MSG_DONTWAIT / "
			   "preadv2 RWF_NOWAIT).");
}

/* The call an event of the sharing kinds was, for its finding's origin. */
static const char *event_call(const struct kt_rec_event *ev)
{
	if (ev->kind == KT_EVENT_FLOCK)
		return "flock";
	return ev->kind == KT_EVENT_OFD_LOCK ? "fcntl(F_OFD_SETLK)" : "fcntl(F_SETFL)";
}

static void shared_event(struct kt_model *m, int proc, const struct kt_event *event, bool lock)
{
	const struct kt_rec_event *ev = &event->rec;
	const struct kt_process *p = m->procs[proc].proc;
	struct kt_node_ref ref;
	if (!kt_model_node(m, p->pid, p->start, ev->fd, ev->gen, &ref))
		return;
	struct kt_chain c;
	kt_chain_walk(m, p->pid, p->start, ev->fd, ev->gen, &c);
	struct kt_str holders = {0}, unsure = {0};
	size_t nunsure;
	struct kt_finding *f = kt_finding_add(m, lock ? "shared-lock" : "shared-status-flags",
					      KT_SEVERITY_WARNING, proc, ev->fd, ref.ofd,
					      ref.rec->rec.target);
	f->program = kt_program_at(m, proc, event->snap);
	kt_finding_called(f, event_call(ev), ev->site);
	/* A lock is shared with processes forked after it too: they hold it. */
	unsigned long long after = lock ? 0 : ev->time;
	size_t nheld = others_holding(m, proc, &c, ref.ofd, after, &holders, &unsure, &nunsure, f);
	if (nheld == 0 && nunsure == 0) {
		kt_finding_drop_last(m);
		free(holders.s);
		free(unsure.s);
		return;
	}
	/* Said as such, never guessed either way. */
	if (nunsure > 0)
		kt_str_printf(&holders, "%s%s (%s the call: %s)", nheld ? "; perhaps also by " : "",
			      unsure.s, nunsure > 1 ? "whether they still held it at" : "whether it still held it at",
			      "the trace cannot order its close or end against it");
	char where[1100];
	struct shared s = {p, m->procs[proc].name, ev, &ref.rec->rec,
			   kt_where_of(ev->site, where, sizeof where), holders.s};
	struct kt_str msg = {0}, why = {0};
	(lock ? lock_texts : flags_texts)(&s, &msg, &why);
	kt_chain_describe(&why, m, &c, false);
	(lock ? lock_fix : flags_fix)(&why);
	kt_finding_say(f, &msg, &why);
	free(holders.s);
	free(unsure.s);
}

/* A bad close made at the call site of a sweep of closes of numbers never
 * open, in the same image: part of that sweep, not a double close. */
static bool in_sweep(const struct kt_process *p, const struct kt_event *bad)
{
	for (size_t e = 0; e < p->nevents; e++) {
		const struct kt_event *x = &p->events[e];
		if (x->rec.kind == KT_EVENT_CLOSE_UNOPENED && x->snap == bad->snap && x->rec.site &&
		    bad->rec.site && strcmp(x->rec.site, bad->rec.site) == 0)
			return true;
	}
	return false;
}

/* What was wrong with the number a bad close closed, in words, and the
 * fix; NULL wrongs leave the finding out. */
struct bad_close_words {
	const char *what; /* "had already been closed (a double close)"... */
	struct kt_str before; /* " by close() at f (x.c:3); it was opened at g (x.c:2)" */
	const char *fix;
};

static const char fix_double[] = "Fix: close each descriptor once and set the variable to -1 after "
				 "closing it.";

static void bad_close_words(const struct kt_rec_event *ev, struct bad_close_words *w)
{
	char where[1100];
	w->fix = fix_double;
	if (ev->arg2 & KT_BAD_CLOSE_INVALID) {
		w->what = ev->fd < 0 ? "is no descriptor number (negative)"
				     : "is no descriptor number (not below the RLIMIT_NOFILE limit)";
		w->fix = "Fix: check the variable before closing it: an unset descriptor is -1, and "
			 "numbers never reach the limit.";
		return;
	}
	if (ev->arg1 == 0) {
		w->what = "was never opened";
		return;
	}
	if ((ev->arg1 & 1) == 0 || (ev->closed_call == NULL && ev->opened_site != NULL)) {
		w->what = "was not open (closed behind the tracer's back: a raw system call, or a "
			  "library that bypasses close())";
	} else {
		w->what = "had already been closed (a double close)";
		if (ev->closed_call != NULL) {
			kt_str_printf(&w->before, " by %s%s", ev->closed_call,
				      strcmp(ev->closed_call, "syscall") == 0 ? "(SYS_close)" : "()");
			const char *at = kt_where_of(ev->closed_site, where, sizeof where);
			if (at)
				kt_str_printf(&w->before, " at %s", at);
		}
	}
	const char *opened = kt_where_of(ev->opened_site, where, sizeof where);
	if (opened)
		kt_str_printf(&w->before, "; it was opened at %s", opened);
}

static void bad_close(struct kt_model *m, int proc, const struct kt_event *event)
{
	const struct kt_rec_event *ev = &event->rec;
	const struct kt_process *p = m->procs[proc].proc;
	if (ev->fd == -1)
		return; /* close(-1) of older traces: an unset descriptor, harmless */
	if (!(ev->arg2 & KT_BAD_CLOSE_INVALID) && in_sweep(p, event))
		return; /* told with the sweep */
	char where[1100];
	const char *at = kt_where_of(ev->site, where, sizeof where);
	bool range = (ev->arg2 & KT_BAD_CLOSE_RANGE) != 0;
	struct kt_finding *f = kt_finding_add(m, "bad-close", KT_SEVERITY_ERROR, proc, ev->fd, 0, NULL);
	const char *prog = f->program = kt_program_at(m, proc, event->snap);
	kt_finding_called(f, range ? "close_range" : "close", ev->site);
	struct bad_close_words w = {0};
	bad_close_words(ev, &w);
	const char *before = w.before.s ? w.before.s : "";
	struct kt_str msg = {0}, why = {0};
	if (range) {
		kt_str_printf(&msg, "%d %s: close_range()%s%s closed fd %d again: it %s%s", p->pid, prog,
			      at ? " at " : "", at ? at : "", ev->fd, w.what, before);
		kt_str_printf(&why, "%d (%s) called close_range()%s%s on a range that names fd %d, but "
				    "fd %d %s%s. close_range() does not fail for closed numbers; ",
			      p->pid, prog, at ? " at " : "", at ? at : "", ev->fd, ev->fd, w.what,
			      before);
	} else {
		kt_str_printf(&msg, "%d %s: close(%d)%s%s failed with EBADF: fd %d %s%s", p->pid, prog,
			      ev->fd, at ? " at " : "", at ? at : "", ev->fd, w.what, before);
		kt_str_printf(&why, "%d (%s) called close(%d)%s%s, but fd %d %s%s. Here the call only "
				    "failed; ",
			      p->pid, prog, ev->fd, at ? " at " : "", at ? at : "", ev->fd, w.what,
			      before);
	}
	if (ev->arg2 & KT_BAD_CLOSE_INVALID)
		kt_str_printf(&why, "a program that computes or keeps descriptor numbers wrongly may "
				    "close a real descriptor next time. %s", w.fix);
	else
		kt_str_printf(&why,
			      "had another thread, a library or a later open taken the number %d in "
			      "between, this close would have closed that descriptor instead, and its "
			      "owner would then read, write or close the wrong file. %s",
			      ev->fd, w.fix);
	free(w.before.s);
	kt_finding_say(f, &msg, &why);
}

/* A read, write... that failed with EBADF on a number >= 0: a use of a
 * descriptor that was not open (valgrind's "invalid file descriptor"),
 * with where it was closed and opened when the shim saw it. */
static void bad_use(struct kt_model *m, int proc, const struct kt_event *event)
{
	const struct kt_rec_event *ev = &event->rec;
	const struct kt_process *p = m->procs[proc].proc;
	const char *call = kt_use_call_name(ev->arg2);
	if (call == NULL)
		call = "a call";
	char where[1100], closed[1100], opened[1100];
	const char *at = kt_where_of(ev->site, where, sizeof where);
	const char *opened_at = kt_where_of(ev->opened_site, opened, sizeof opened);
	struct kt_finding *f = kt_finding_add(m, "bad-use", KT_SEVERITY_ERROR, proc, ev->fd, 0, NULL);
	const char *prog = f->program = kt_program_at(m, proc, event->snap);
	kt_finding_called(f, call, ev->site);
	struct kt_str what = {0};
	const char *fix = "Fix: do not use a descriptor after closing it: set the variable to -1 "
			  "when closing it and check it before each use.";
	if (ev->arg1 == 0) {
		kt_str_printf(&what, "was never open");
		fix = "Fix: use only descriptors the program holds: check the result of the call "
		      "that made it, and keep the number in one place.";
	} else if ((ev->arg1 & 1) == 0 || ev->closed_call == NULL) {
		kt_str_printf(&what, "was not open (closed behind the tracer's back: a raw system call, "
				     "or a library that bypasses close())");
	} else {
		kt_str_printf(&what, "was closed by %s%s", ev->closed_call,
			      strcmp(ev->closed_call, "syscall") == 0 ? "(SYS_close)" : "()");
		const char *closed_at = kt_where_of(ev->closed_site, closed, sizeof closed);
		if (closed_at)
			kt_str_printf(&what, " at %s", closed_at);
	}
	if (ev->arg1 != 0 && opened_at)
		kt_str_printf(&what, " (opened at %s)", opened_at);
	struct kt_str msg = {0}, why = {0};
	kt_str_printf(&msg, "%d %s: %s(%d)%s%s failed with EBADF: fd %d %s", p->pid, prog, call,
		      ev->fd, at ? " at " : "", at ? at : "", ev->fd, what.s);
	kt_str_printf(&why,
		      "%d (%s) called %s(%d)%s%s, but fd %d %s. Here the call only failed; had "
		      "another thread, a library or a later open taken the number %d in between, "
		      "it would have read, written or changed that descriptor's file instead. %s",
		      p->pid, prog, call, ev->fd, at ? " at " : "", at ? at : "", ev->fd, what.s, ev->fd,
		      fix);
	free(what.s);
	kt_finding_say(f, &msg, &why);
}

/* close(-1) calls, with --report-close-minus-one: one finding per image. */
static void minus_one_closes(struct kt_model *m, int proc, const struct kt_event *event)
{
	const struct kt_rec_event *ev = &event->rec;
	const struct kt_process *p = m->procs[proc].proc;
	char where[1100];
	const char *at = kt_where_of(ev->site, where, sizeof where);
	struct kt_finding *f = kt_finding_add(m, "bad-close", KT_SEVERITY_ERROR, proc, -1, 0, NULL);
	const char *prog = f->program = kt_program_at(m, proc, event->snap);
	kt_finding_called(f, "close", ev->site);
	struct kt_str msg = {0}, why = {0};
	kt_str_printf(&msg, "%d %s: close(-1) called %lld time%s%s%s", p->pid, prog, ev->arg1,
		      ev->arg1 == 1 ? "" : "s", at ? ", first at " : "", at ? at : "");
	kt_str_printf(&why,
		      "%d (%s) called close(-1)%s%s: -1 is no descriptor, the call fails with EBADF. "
		      "It usually closes a variable that was never set or was reset after a close "
		      "(harmless, which is why it is reported only with --report-close-minus-one, "
		      "like valgrind's --track-fds=bad); it may also be an open whose failure was "
		      "not checked. Fix: close only descriptors the program holds.",
		      p->pid, prog, at ? " at " : "", at ? at : "");
	kt_finding_say(f, &msg, &why);
}

/* Closes of numbers that were never open: once per image, as information.
 * A close-everything sweep (daemons, closefrom emulations) is an idiom;
 * a stray one may be a stale variable, which the count and range tell. */
static void unopened_closes(struct kt_model *m, int proc, const struct kt_event *event)
{
	const struct kt_rec_event *ev = &event->rec;
	const struct kt_process *p = m->procs[proc].proc;
	char where[1100];
	const char *at = kt_where_of(ev->site, where, sizeof where);
	struct kt_finding *f =
		kt_finding_add(m, "close-unopened", KT_SEVERITY_INFO, proc, -1, 0, NULL);
	const char *prog = f->program = kt_program_at(m, proc, event->snap);
	kt_finding_called(f, "close", ev->site);
	/* The bad closes of the sweep: numbers it had closed before. */
	long long closed_before = 0;
	for (size_t e = 0; e < p->nevents; e++)
		closed_before += p->events[e].rec.kind == KT_EVENT_CLOSE_EBADF && in_sweep(p, &p->events[e]);
	struct kt_str msg = {0}, why = {0}, range = {0};
	if (ev->arg1 == 1)
		kt_str_printf(&range, "fd %d", ev->fd);
	else
		kt_str_printf(&range, "%lld numbers from fd %d to %lld", ev->arg1, ev->fd, ev->arg2);
	kt_str_printf(&msg, "%d %s: closed %s that %s never open", p->pid, prog, range.s,
		      ev->arg1 == 1 ? "was" : "were");
	if (closed_before > 0)
		kt_str_printf(&msg, ", and %lld it had closed before", closed_before);
	if (at)
		kt_str_printf(&msg, ", first at %s", at);
	kt_str_printf(&why,
		      "%d (%s) called close() on %s that %s not open (EBADF)%s%s. Closing every "
		      "number up to a limit is a common way to start clean (daemons, helpers): "
		      "harmless. A close of one number the program never opened may be a stale "
		      "variable, which closes someone else's descriptor once the number is taken.",
		      p->pid, prog, range.s, ev->arg1 == 1 ? "was" : "were", at ? ", first at " : "",
		      at ? at : "");
	free(range.s);
	kt_finding_say(f, &msg, &why);
}

void kt_find_events(struct kt_model *m, bool minus_one)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		for (size_t e = 0; e < p->nevents; e++) {
			const struct kt_event *ev = &p->events[e];
			if (event_seen(p, e, &ev->rec))
				continue; /* noted again by a later snapshot */
			switch (ev->rec.kind) {
			case KT_EVENT_SETFL:
				shared_event(m, (int)i, ev, false);
				break;
			case KT_EVENT_FLOCK:
			case KT_EVENT_OFD_LOCK:
				shared_event(m, (int)i, ev, true);
				break;
			case KT_EVENT_CLOSE_EBADF:
				bad_close(m, (int)i, ev);
				break;
			case KT_EVENT_BAD_USE:
				bad_use(m, (int)i, ev);
				break;
			case KT_EVENT_CLOSE_UNOPENED:
				unopened_closes(m, (int)i, ev);
				break;
			case KT_EVENT_CLOSE_MINUS_ONE:
				if (minus_one)
					minus_one_closes(m, (int)i, ev);
				break;
			default:
				break;
			}
		}
	}
}
