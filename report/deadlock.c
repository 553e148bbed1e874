/* The deadlock finding: live processes that wait for each other and that
 * nothing outside them can wake (waitfor.h). A process is free when
 * something outside can wake it, or when any process it waits for is free
 * (any of them could write, close or exit); what is left once nothing more
 * becomes free is stuck for good. Each cycle among the stuck is one
 * finding, told step by step with the descriptors it hangs on. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocked.h"
#include "deadlock.h"
#include "findings_impl.h"
#include "waitfor.h"

/* Free whatever waits for something free, until nothing changes. */
static void propagate(const struct kt_waitfor *g, bool *free_)
{
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < g->n; i++) {
			for (size_t k = 0; !free_[i] && k < g->w[i].nwakers; k++)
				if (free_[g->w[i].wakers[k].proc]) {
					free_[i] = true;
					changed = true;
				}
		}
	}
}

/* Whether process proc still waits in the very call the snapshot saw,
 * without having used CPU time since: the processes were read one after
 * the other, and a proof must not rest on a state that did not last. */
static bool still_blocked(const struct kt_model *m, const struct kt_waitfor *g, int proc)
{
	const struct kt_blocked *then = g->w[proc].b;
	struct kt_blocked now;
	bool same = kt_blocked_read(m->procs[proc].proc->pid, &now) == 0 &&
		    now.kind == then->kind && now.nr == then->nr && now.fd == then->fd &&
		    now.pid == then->pid && now.cpu == then->cpu;
	kt_blocked_free(&now);
	return same;
}

/* Whether wait i frees its process: with lenient, a process we could not
 * inspect is not taken to hold what would wake it. */
static bool frees(const struct kt_waitfor *g, size_t i, bool lenient)
{
	return g->w[i].free_why != NULL && !(lenient && g->w[i].unknown);
}

/* The stuck processes: free_[i] false. The costly looks (outside, and
 * again at each process) are taken only for those that look stuck from
 * inside, until none is freed. */
static bool *stuck_set(const struct kt_model *m, struct kt_waitfor *g, bool lenient)
{
	bool *free_ = kt_xcalloc(g->n + 1, sizeof *free_);
	for (size_t i = 0; i < g->n; i++)
		free_[i] = frees(g, i, lenient);
	for (bool freed = true; freed;) {
		propagate(g, free_);
		freed = false;
		for (size_t i = 0; i < g->n; i++)
			if (!free_[i] && (kt_waitfor_outside(g, (int)i), frees(g, i, lenient)))
				free_[i] = freed = true;
		for (size_t i = 0; i < g->n; i++)
			if (!free_[i] && !still_blocked(m, g, (int)i))
				free_[i] = freed = true;
	}
	return free_;
}

static const struct kt_mfd *fd_of(const struct kt_mproc *mp, int fd)
{
	for (size_t i = 0; fd >= 0 && i < mp->nfds; i++)
		if (mp->fds[i].fd->rec.fd == fd)
			return &mp->fds[i];
	return NULL;
}

/* "6164 (writer)" */
static void who(struct kt_str *t, const struct kt_model *m, int proc)
{
	kt_str_printf(t, "%d (%s)", m->procs[proc].proc->pid, m->procs[proc].name);
}

/* ", made by pipe2 at main+0x4f (hang.c:20)" for a holder's descriptor. */
static void origin_of(struct kt_str *t, const struct kt_model *m, int proc, int fd)
{
	const struct kt_mfd *mfd = fd_of(&m->procs[proc], fd);
	if (mfd == NULL)
		return;
	const struct kt_origin *o = &mfd->fd->origin;
	const char *call = kt_call_name((enum kt_call)o->call);
	if (o->how == KT_HOW_INHERITED)
		kt_str_printf(t, ", inherited from %d across fork", o->src_pid);
	else if (o->how == KT_HOW_DUP)
		kt_str_printf(t, ", a dup of its fd %d", o->src_fd);
	else if (call != NULL) {
		kt_str_printf(t, ", made by %s", call);
		kt_str_add_at(t, o->site);
	} else
		kt_str_printf(t, ", origin unknown");
}

static void holders(struct kt_str *t, const struct kt_model *m, const struct kt_wait *w, int self,
		    const char *end)
{
	bool only = w->nwakers == 1;
	kt_str_printf(t, only ? "the only holder of %s is " : "the holders of %s are ", end);
	for (size_t k = 0; k < w->nwakers; k++) {
		const struct kt_waker *h = &w->wakers[k];
		kt_str_printf(t, "%s", k == 0 ? "" : k + 1 == w->nwakers ? " and " : ", ");
		who(t, m, h->proc);
		if (h->proc == self)
			kt_str_printf(t, " itself");
		kt_str_printf(t, " fd %d", h->fd);
		origin_of(t, m, h->proc, h->fd);
	}
}

/* One step in words: what proc waits in, and for whom. */
static void say_step(struct kt_str *t, const struct kt_model *m, const struct kt_waitfor *g,
		     int proc)
{
	const struct kt_wait *w = &g->w[proc];
	const char *target = w->target != NULL ? w->target : "?";
	who(t, m, proc);
	switch (w->on) {
	case KT_WAIT_READ:
		kt_str_printf(t, " reads %s through fd %d and waits for data or end of file; ", target,
			      w->fd);
		if (w->peer != NULL)
			kt_str_printf(t, "its other end is %s, and ", w->peer);
		holders(t, m, w, proc, w->peer != NULL ? "it" : "a write end");
		break;
	case KT_WAIT_WRITE:
		kt_str_printf(t, " writes to %s through fd %d, which is full; ", target, w->fd);
		if (w->peer != NULL)
			kt_str_printf(t, "its other end is %s, and ", w->peer);
		holders(t, m, w, proc, w->peer != NULL ? "it" : "its read end");
		break;
	case KT_WAIT_CHILD:
		kt_str_printf(t, " waits in %s for ", w->b->call);
		for (size_t k = 0; k < w->nwakers; k++) {
			kt_str_printf(t, "%s", k == 0 ? "" : k + 1 == w->nwakers ? " and " : ", ");
			who(t, m, w->wakers[k].proc);
		}
		break;
	case KT_WAIT_LOCK:
		kt_str_printf(t, " waits in %s for the lock on %s (fd %d), held by ", w->b->call, target,
			      w->fd);
		for (size_t k = 0; k < w->nwakers; k++) {
			kt_str_printf(t, "%s", k == 0 ? "" : ", ");
			who(t, m, w->wakers[k].proc);
		}
		break;
	case KT_WAIT_SET: {
		char what[256];
		kt_blocked_describe(w->b, what, sizeof what);
		kt_str_printf(t, " waits in %s, which only ", what);
		for (size_t k = 0; k < w->nwakers; k++) {
			kt_str_printf(t, "%s", k == 0 ? "" : ", ");
			who(t, m, w->wakers[k].proc);
		}
		kt_str_printf(t, " can make ready");
		break;
	}
	}
}

/* The next stuck process proc waits for: another one when it can. */
static int next_stuck(const struct kt_waitfor *g, const bool *free_, int proc)
{
	int self = -1;
	for (size_t k = 0; k < g->w[proc].nwakers; k++) {
		int q = g->w[proc].wakers[k].proc;
		if (!free_[q] && q != proc)
			return q;
		if (q == proc)
			self = q;
	}
	return self;
}

/* The blocked call as a fix names it. */
static const char *fix_call(const struct kt_wait *w)
{
	if (w->on == KT_WAIT_CHILD)
		return "waitpid";
	return w->b->call;
}

/* The fix: a write end held by a process that is not writing to it
 * (it waits elsewhere), closed before it waits; else a writer that must
 * read meanwhile. */
static void say_fix(struct kt_str *t, const struct kt_model *m, const struct kt_waitfor *g,
		    const int *cycle, size_t n, struct kt_finding *f)
{
	for (size_t i = 0; i < n; i++) {
		const struct kt_wait *w = &g->w[cycle[i]];
		for (size_t k = 0; w->on == KT_WAIT_READ && k < w->nwakers; k++) {
			const struct kt_waker *h = &w->wakers[k];
			const struct kt_wait *hw = &g->w[h->proc];
			if (hw->on == KT_WAIT_WRITE && hw->fd == h->fd)
				continue; /* the writer itself */
			kt_str_printf(t, " Fix: close fd %d in ", h->fd);
			who(t, m, h->proc);
			if (h->proc == cycle[i])
				kt_str_printf(t, " before it reads fd %d.", w->fd);
			else
				kt_str_printf(t, " before %s.", fix_call(hw));
			const struct kt_mfd *mfd = fd_of(&m->procs[h->proc], h->fd);
			if (mfd != NULL) {
				f->program = m->procs[h->proc].name;
				kt_finding_called(f, kt_call_name((enum kt_call)mfd->fd->origin.call),
						  mfd->fd->origin.site);
			}
			return;
		}
	}
	kt_str_printf(t, " Fix: read what the other side writes while writing to it (poll both "
			 "pipes, or a thread), or give up waiting where one of them can.");
}

static void add_step(const struct kt_model *m, const struct kt_waitfor *g, const bool *free_,
		     int proc, struct kt_cycle_step *s)
{
	const struct kt_wait *w = &g->w[proc];
	*s = (struct kt_cycle_step){.proc = proc, .call = w->b->call, .fd = w->fd, .ofd = w->ofd};
	s->waits_for = kt_xcalloc(w->nwakers + 1, sizeof *s->waits_for);
	for (size_t k = 0; k < w->nwakers; k++) {
		int pid = m->procs[w->wakers[k].proc].proc->pid;
		bool seen = false;
		for (size_t j = 0; j < s->nwaits; j++)
			seen |= s->waits_for[j] == pid;
		if (!seen && !free_[w->wakers[k].proc])
			s->waits_for[s->nwaits++] = pid;
	}
}

/* Why a stall is not proven: a process that could not be inspected, as
 * the first stuck-looking process that could not rule it out says. */
static const char *unproven(const struct kt_waitfor *g, const bool *free_)
{
	for (size_t i = 0; i < g->n; i++)
		if (!free_[i] && g->w[i].unknown)
			return g->w[i].free_why;
	return "a process could not be inspected";
}

static void report_cycle(struct kt_model *m, const struct kt_waitfor *g, const bool *free_,
			 const int *cycle, size_t n, bool proven)
{
	const struct kt_wait *w0 = &g->w[cycle[0]];
	struct kt_finding *f =
		kt_finding_add(m, proven ? "deadlock" : "stall",
			       proven ? KT_SEVERITY_ERROR : KT_SEVERITY_INFO, cycle[0], w0->fd, w0->ofd,
			       w0->target);
	kt_finding_called(f, w0->b->call, NULL);
	struct kt_str msg = {0}, why = {0};
	for (size_t i = 0; i < n; i++) {
		kt_str_printf(&msg, "%s", i == 0 ? "" : i + 1 == n ? " and " : ", ");
		who(&msg, m, cycle[i]);
		kt_finding_relate(f, cycle[i]);
	}
	if (proven)
		kt_str_printf(&msg, n == 1 ? " waits for itself, for good" : " wait for each other, for good");
	else
		kt_str_printf(&msg, n == 1 ? " waits for itself, unless a process we could not inspect "
					     "wakes it"
					   : " wait for each other, unless a process we could not "
					     "inspect wakes them");
	f->cycle = kt_xcalloc(n, sizeof *f->cycle);
	for (size_t i = 0; i < n; i++) {
		kt_str_printf(&why, "%s", i == 0 ? "" : "; ");
		say_step(&why, m, g, cycle[i]);
		add_step(m, g, free_, cycle[i], &f->cycle[f->ncycle++]);
	}
	if (proven)
		kt_str_printf(&why, ". None of them can proceed, and nothing outside them can wake "
				    "them: no timer, terminal or socket, no end or child outside them.");
	else
		kt_str_printf(&why, ". It would be a deadlock, but it is not proven: %s, and could "
				    "hold what wakes them. Run as root (or with CAP_SYS_PTRACE) to see "
				    "every process.",
			      unproven(g, free_));
	say_fix(&why, m, g, cycle, n, f);
	kt_finding_say(f, &msg, &why);
}

/* One finding per cycle among the stuck processes not told yet. */
static void report_cycles(struct kt_model *m, const struct kt_waitfor *g, const bool *free_, bool *told,
			  bool proven)
{
	int *path = kt_xcalloc(g->n + 1, sizeof *path);
	for (size_t i = 0; i < g->n; i++) {
		if (free_[i] || told[i])
			continue;
		/* Follow who waits for whom until a process comes again. */
		size_t n = 0;
		int cur = (int)i;
		while (cur >= 0 && !told[cur]) {
			size_t j = 0;
			while (j < n && path[j] != cur)
				j++;
			if (j < n) {
				report_cycle(m, g, free_, path + j, n - j, proven);
				break;
			}
			path[n++] = cur;
			cur = next_stuck(g, free_, cur);
		}
		for (size_t j = 0; j < n; j++)
			told[path[j]] = true;
	}
	free(path);
}

void kt_find_deadlocks(struct kt_model *m)
{
	struct kt_waitfor g;
	kt_waitfor_build(m, &g);
	if (!g.any_blocked) {
		kt_waitfor_free(&g);
		return;
	}
	bool *told = kt_xcalloc(g.n + 1, sizeof *told);
	/* Proven deadlocks first; then, as info, the stalls that only a
	 * process we could not inspect might end. */
	for (int lenient = 0; lenient <= 1; lenient++) {
		bool *free_ = stuck_set(m, &g, lenient);
		report_cycles(m, &g, free_, told, !lenient);
		free(free_);
	}
	free(told);
	kt_waitfor_free(&g);
}

size_t kt_model_deadlocks(const struct kt_model *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nfindings; i++)
		n += strcmp(m->findings[i].kind, "deadlock") == 0;
	return n;
}
