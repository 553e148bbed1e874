/* Chains of descriptors (chain.h): walking a node back to the call that
 * made it, and telling that walk in words. */
#include "chain.h"

#include <stdio.h>
#include <string.h>

#include "symbolize.h"

const char *kt_where_of(const char *site, char *buf, size_t len)
{
	if (site == NULL)
		return NULL;
	struct kt_symbol sym;
	kt_symbolize_full(site, &sym);
	snprintf(buf, len, "%s", sym.where);
	return buf;
}

void kt_str_add_at(struct kt_str *t, const char *site)
{
	char buf[1100];
	if (kt_where_of(site, buf, sizeof buf) != NULL)
		kt_str_printf(t, " at %s", buf);
}

/* " at SITE" for the call that made a step's descriptor, then up to
 * --stack=N - 1 of its callers (" < caller+0x10 (main.c:3)"). */
static void add_at_step(struct kt_str *t, const struct kt_model *m, const struct kt_step *st,
			const char *site)
{
	kt_str_add_at(t, site);
	struct kt_node_ref ref;
	if (site == NULL || m->stack_frames < 2 ||
	    !kt_model_node(m, st->pid, st->start, st->fd, st->gen, &ref))
		return;
	char buf[1100];
	for (size_t i = 0; i < ref.rec->nstack && (int)i + 1 < m->stack_frames; i++)
		kt_str_printf(t, " < %s", kt_where_of(ref.rec->stack[i], buf, sizeof buf));
}

static const char *proc_name(const struct kt_model *m, int proc)
{
	return proc >= 0 ? m->procs[proc].name : "?";
}

void kt_chain_walk(const struct kt_model *m, int pid, unsigned long long start, int fd,
		   unsigned long long gen, struct kt_chain *c)
{
	c->n = 0;
	c->own = 0;
	c->created = false;
	while (c->n < KT_CHAIN_MAX) {
		struct kt_step *st = &c->steps[c->n++];
		struct kt_node_ref ref;
		*st = (struct kt_step){.pid = pid, .start = start, .fd = fd, .gen = gen, .snap = -1,
				       .proc = kt_model_find_proc(m, pid, start)};
		if (!kt_model_node(m, pid, start, fd, gen, &ref)) {
			/* A traced process passed it on and closed it before any
			 * snapshot: it made it, unless it had it from outside the
			 * trace. Only a process whose parent is not traced can
			 * have; there, 0-2 are taken to be from outside. */
			c->created = c->n > 1 && st->proc >= 0 &&
				     (m->procs[st->proc].parent >= 0 || fd > 2);
			break;
		}
		const struct kt_origin *o = &ref.rec->origin;
		st->rec = &ref.rec->rec;
		st->origin = o;
		st->snap = ref.snap;
		if (o->how == KT_HOW_RECEIVED && c->own == 0)
			c->own = c->n;
		if (o->linked) {
			pid = o->src_pid;
			start = o->src_start;
			fd = o->src_fd;
			gen = o->src_gen;
			continue;
		}
		c->created = o->created;
		break;
	}
	if (c->own == 0)
		c->own = c->n;
}

bool kt_chain_made_in_trace(const struct kt_model *m, const struct kt_chain *c, int ofd)
{
	bool created = c->own < c->n ? c->steps[c->own - 1].origin->created : c->created;
	return created || (ofd > 0 && m->ofds[ofd - 1].created_in_trace);
}

int kt_chain_copied_at(const struct kt_chain *c)
{
	for (size_t i = c->own; i-- > 0;) {
		const struct kt_origin *o = c->steps[i].origin;
		if (c->steps[i].proc >= 0 && o != NULL &&
		    (o->how == KT_HOW_DUP || (o->how == KT_HOW_EXEC && o->before == KT_HOW_DUP)))
			return (int)i;
	}
	return -1;
}

bool kt_chain_from_other_process(const struct kt_chain *c)
{
	for (size_t i = 1; i < c->own; i++)
		if (c->steps[i].pid != c->steps[0].pid || c->steps[i].start != c->steps[0].start)
			return true;
	return false;
}

const char *kt_cloexec_flag(int call)
{
	if (call == KT_CALL_SOCKET || call == KT_CALL_SOCKETPAIR || call == KT_CALL_ACCEPT ||
	    call == KT_CALL_ACCEPT4)
		return "SOCK_CLOEXEC";
	return "O_CLOEXEC";
}

/* Path of the image that exec snapshot number snap of proc started (an
 * image the shim could not follow has no image line, only its path). */
static const char *exec_target(const struct kt_model *m, int proc, int snap)
{
	const struct kt_process *p = m->procs[proc].proc;
	const struct kt_rec_image *im = kt_process_image_at(p, (size_t)snap + 1);
	if (im == NULL)
		return p->untraced_snap == (size_t)snap + 1 ? p->untraced_path : NULL;
	if (im->exe != NULL)
		return im->exe;
	return im->argc > 0 ? im->argv[0] : NULL;
}

/* The first exec snapshot of proc at or after snapshot from that carries
 * (fd, gen) into the new image, or -1. */
static int exec_carrying(const struct kt_model *m, int proc, int from, int fd,
			 unsigned long long gen)
{
	const struct kt_process *p = m->procs[proc].proc;
	for (size_t s = from < 0 ? 0 : (size_t)from; s < p->nsnaps; s++) {
		const struct kt_snapshot *snap = &p->snaps[s];
		if (snap->head.why != KT_WHY_EXEC)
			continue;
		for (size_t k = 0; k < snap->nfds; k++) {
			const struct kt_rec_fd *r = &snap->fds[k].rec;
			if (r->fd == fd && r->gen == gen && !r->cloexec)
				return (int)s;
		}
	}
	return -1;
}

void kt_chain_add_exec(struct kt_str *t, const struct kt_model *m, int proc, int snap)
{
	const char *exe = exec_target(m, proc, snap);
	if (exe != NULL)
		kt_str_printf(t, ", kept across exec of %s", exe);
	else
		kt_str_printf(t, ", kept across an exec");
}

/* Where the chain starts: the call that made it, or what is known. */
static void describe_start(struct kt_str *t, const struct kt_model *m, const struct kt_chain *c,
			   bool say_cloexec)
{
	const struct kt_step *last = &c->steps[c->n - 1];
	if (last->rec == NULL) {
		kt_str_printf(t, "held by %d", last->pid);
		if (last->proc >= 0)
			kt_str_printf(t, " (%s)", proc_name(m, last->proc));
		kt_str_printf(t, " as fd %d (closed there before its snapshot%s)", last->fd,
			      c->created ? ", probably made there" : "");
	} else if (c->created) {
		const char *call = kt_call_name((enum kt_call)last->origin->call);
		kt_str_printf(t, "opened by %d (%s) as fd %d", last->pid, proc_name(m, last->proc),
			      last->fd);
		if (call != NULL)
			kt_str_printf(t, " with %s", call);
		add_at_step(t, m, last, last->origin->site);
		/* A received copy's close-on-exec flag is the receive's. */
		if (say_cloexec && c->own == c->n)
			kt_str_printf(t, " without %s", kt_cloexec_flag(last->origin->call));
	} else if (last->proc >= 0 && kt_model_made_untraced(m, (size_t)last->proc, last->rec)) {
		kt_str_printf(t, "held by %d (%s) as fd %d, an untraced image (origin unknown)",
			      last->pid, proc_name(m, last->proc), last->fd);
	} else if (last->proc >= 0 && m->procs[last->proc].parent < 0 && last->rec->gen <= 2) {
		kt_str_printf(t, "present at start in %d (%s) as fd %d, from outside the trace",
			      last->pid, proc_name(m, last->proc), last->fd);
	} else {
		kt_str_printf(t, "held by %d (%s) as fd %d, origin unknown", last->pid,
			      proc_name(m, last->proc), last->fd);
	}
}

/* One step i of the chain, coming from step i + 1. */
static void describe_step(struct kt_str *t, const struct kt_model *m, const struct kt_chain *c,
			  size_t i, bool say_cloexec)
{
	const struct kt_step *st = &c->steps[i];
	if (i + 1 < c->n && st->rec != NULL) {
		const struct kt_origin *o = st->origin;
		const struct kt_step *prev = &c->steps[i + 1];
		const char *call = kt_call_name((enum kt_call)o->call);
		if (o->how == KT_HOW_INHERITED || o->before == KT_HOW_INHERITED) {
			/* A spawned process inherited across its parent's spawn. */
			const char *spawn = st->proc >= 0 ? m->procs[st->proc].proc->spawned_by : NULL;
			kt_str_printf(t, ", inherited by %d (%s) across %s%s", st->pid,
				      proc_name(m, st->proc), spawn ? spawn : "fork", spawn ? "()" : "");
			if (st->fd != prev->fd)
				kt_str_printf(t, " as fd %d", st->fd);
		} else if (o->how == KT_HOW_RECEIVED) {
			kt_str_printf(t, ", received by %d (%s) as fd %d", st->pid,
				      proc_name(m, st->proc), st->fd);
			if (call != NULL)
				kt_str_printf(t, " with %s", call);
			add_at_step(t, m, st, o->site);
			if (say_cloexec && i + 1 == c->own)
				kt_str_printf(t, " without %s", kt_cloexec_flag(o->call));
		} else {
			kt_str_printf(t, ", %s onto fd %d", call ? call : "dup", st->fd);
			add_at_step(t, m, st, o->site);
		}
	}
	if (st->proc >= 0 && i > 0 && c->steps[i - 1].proc != st->proc && c->steps[i - 1].proc >= 0) {
		/* Carried across an exec of this process before it passed it
		 * on: the next holder started as that image. */
		int e = exec_carrying(m, st->proc, st->snap, st->fd, st->gen);
		const char *exe = e >= 0 ? exec_target(m, st->proc, e) : NULL;
		const struct kt_rec_image *next = m->procs[c->steps[i - 1].proc].first_image;
		if (exe != NULL && next != NULL && next->exe != NULL && strcmp(next->exe, exe) == 0)
			kt_chain_add_exec(t, m, st->proc, e);
	}
}

void kt_chain_describe(struct kt_str *t, const struct kt_model *m, const struct kt_chain *c,
		       bool say_cloexec)
{
	describe_start(t, m, c, say_cloexec);
	/* Each step back towards steps[0]; an exec is told where it happened. */
	for (size_t i = c->n; i-- > 0;)
		describe_step(t, m, c, i, say_cloexec);
}
