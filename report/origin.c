/* Origins: how each descriptor of a trace came to be where it is, read from
 * its fd record by one rule that the model, the findings and the renderers
 * all use (struct kt_origin, trace.h). */
#include "model.h"

#include <string.h>

#include "table.h"

/* The rule: what an fd record says of its descriptor's origin. */
static void origin_of(struct kt_origin *o, const struct kt_rec_fd *r, int pid,
		      unsigned long long start)
{
	*o = (struct kt_origin){.how = r->how, .call = r->call, .site = r->site,
				.src_pid = r->src_pid, .src_start = r->src_start,
				.src_fd = r->src_fd, .src_gen = r->src_gen,
				.linked = kt_rec_fd_source(r)};
	/* Opened or received here, or kept across exec after being made by
	 * a call (the exec snapshot's record still names it). */
	o->created = r->how == KT_HOW_OPEN || r->how == KT_HOW_RECEIVED ||
		     (r->how == KT_HOW_EXEC && r->src_pid == 0 && r->call != KT_CALL_NONE);
	if (r->how == KT_HOW_EXEC && r->src_pid != 0 && r->src_fd >= 0)
		o->before = r->src_pid == pid && r->src_start == start ? KT_HOW_DUP : KT_HOW_INHERITED;
}

/* The fd record of P's exec snapshot into its untraced image that a
 * descriptor seen later was kept from (same number, generation and
 * target), or NULL: then the image made it, out of our sight. */
static const struct kt_rec_fd *kept_from(const struct kt_process *p, const struct kt_rec_fd *seen)
{
	if (p->untraced_snap == 0 || (seen->gen & KT_GEN_OBSERVED) || seen->target == NULL)
		return NULL;
	const struct kt_snapshot *exec = &p->snaps[p->untraced_snap - 1];
	for (size_t i = 0; i < exec->nfds; i++) {
		const struct kt_rec_fd *r = &exec->fds[i].rec;
		if (r->fd == seen->fd && r->gen == seen->gen && r->how != KT_HOW_UNKNOWN &&
		    r->target != NULL && strcmp(r->target, seen->target) == 0)
			return r;
	}
	return NULL;
}

/* A descriptor of an untraced image seen from outside: kept across the
 * exec into it, with the origin it had then, or of unknown origin. */
static void observed_origin(struct kt_origin *o, const struct kt_process *p,
			    const struct kt_rec_fd *seen)
{
	const struct kt_rec_fd *before = kept_from(p, seen);
	struct kt_rec_fd r = *seen;
	r.how = before != NULL ? KT_HOW_EXEC : KT_HOW_UNKNOWN;
	r.call = before != NULL ? before->call : KT_CALL_NONE;
	r.site = before != NULL ? before->site : NULL;
	if (before != NULL && (before->how == KT_HOW_DUP || before->how == KT_HOW_INHERITED)) {
		r.src_pid = before->src_pid;
		r.src_start = before->src_start;
		r.src_fd = before->src_fd;
		r.src_gen = before->src_gen;
	}
	origin_of(o, &r, p->pid, p->start);
}

void kt_model_origins(struct kt_trace *trace)
{
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		for (size_t s = 0; s < p->nsnaps; s++) {
			struct kt_snapshot *snap = &p->snaps[s];
			/* What others saw of its untraced image (observed, or the
			 * launcher's look at its exit): no origin was recorded. */
			bool seen = snap->observed && p->untraced_path != NULL && s >= p->untraced_snap;
			for (size_t k = 0; k < snap->nfds; k++) {
				struct kt_fd *fd = &snap->fds[k];
				if (seen)
					observed_origin(&fd->origin, p, &fd->rec);
				else
					origin_of(&fd->origin, &fd->rec, p->pid, p->start);
			}
			for (size_t k = 0; k < snap->nclosed; k++)
				origin_of(&snap->closed[k].origin, &snap->closed[k].rec, p->pid, p->start);
		}
	}
}
