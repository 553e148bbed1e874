/* stdio-buffer-duplicated: a fork child that got unflushed stdio output
 * with its copy of its parent's memory and flushed it at exit (record.h
 * "stdio-copied"): the parent writes the same bytes, they appear twice. */
#include "findings_impl.h"

#include <stdlib.h>
#include <string.h>

static const char *stream_name(long long arg2)
{
	switch (arg2 & KT_STDIO_STREAM_MASK) {
	case KT_STDIO_STDOUT:
		return "stdout";
	case KT_STDIO_STDERR:
		return "stderr";
	default:
		return "a stream";
	}
}

/* The descriptor the stream wrote to: its node, else its number in the
 * child's last snapshot. */
static const struct kt_rec_fd *stream_fd(const struct kt_model *m, int proc,
					 const struct kt_rec_event *ev, int *ofd)
{
	const struct kt_mproc *mp = &m->procs[proc];
	struct kt_node_ref ref;
	if (ev->gen != 0 && kt_model_node(m, mp->proc->pid, mp->proc->start, ev->fd, ev->gen, &ref)) {
		*ofd = ref.ofd;
		return &ref.rec->rec;
	}
	for (size_t k = 0; k < mp->nfds; k++)
		if (mp->fds[k].fd->rec.fd == ev->fd) {
			*ofd = mp->fds[k].ofd;
			return &mp->fds[k].fd->rec;
		}
	*ofd = 0;
	return NULL;
}

static void stdio_copied(struct kt_model *m, int proc, const struct kt_event *event)
{
	const struct kt_rec_event *ev = &event->rec;
	const struct kt_mproc *mp = &m->procs[proc];
	int ofd;
	const struct kt_rec_fd *fd = stream_fd(m, proc, ev, &ofd);
	const char *target = fd ? fd->target : NULL;
	const char *call = (ev->arg2 & KT_STDIO_BY_CLONE) ? "clone" : "fork";
	struct kt_finding *f = kt_finding_add(m, "stdio-buffer-duplicated", KT_SEVERITY_WARNING, proc,
					      ev->fd, ofd, target);
	const char *prog = f->program = kt_program_at(m, proc, event->snap);
	kt_finding_called(f, call, ev->site);
	f->bytes = ev->arg1;
	kt_finding_relate(f, mp->parent);
	char where[1100];
	const char *at = kt_where_of(ev->site, where, sizeof where);
	const char *stream = stream_name(ev->arg2);
	struct kt_str parent = {0}, on = {0}, msg = {0}, why = {0};
	if (mp->ppid > 0)
		kt_str_printf(&parent, "%d (%s)", mp->ppid,
			      mp->parent >= 0 ? m->procs[mp->parent].name : prog);
	else
		kt_str_printf(&parent, "its parent");
	kt_str_printf(&on, "fd %d, %s", ev->fd, target ? target : "?");
	kt_str_printf(&msg, "%d %s: %lld byte%s of %s (%s) buffered before %s()%s%s by %s are written "
			    "again by the child at exit",
		      mp->proc->pid, prog, ev->arg1, ev->arg1 == 1 ? "" : "s", stream, on.s, call,
		      at ? " at " : "", at ? at : "", parent.s);
	kt_str_printf(&why,
		      "%s held %lld byte%s of output not yet written in the buffer of %s (%s) when "
		      "it called %s()%s%s: the child %d (%s) got a copy of that buffer with its copy "
		      "of the memory, and ended by exit() or a return from main, which flushes it. "
		      "The parent writes its own copy too, so the output appears twice (a stream to "
		      "a pipe or a file is fully buffered; on a terminal, stdout is flushed at each "
		      "newline and the bug hides). Fix: fflush(NULL) before fork, or _exit() in the "
		      "child.",
		      parent.s, ev->arg1, ev->arg1 == 1 ? "" : "s", stream, on.s, call,
		      at ? " at " : "", at ? at : "", mp->proc->pid, prog);
	free(parent.s);
	free(on.s);
	kt_finding_say(f, &msg, &why);
}

void kt_find_stdio_duplicated(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		for (size_t e = 0; e < p->nevents; e++) {
			const struct kt_event *ev = &p->events[e];
			if (ev->rec.kind != KT_EVENT_STDIO_COPIED)
				continue;
			/* Written with the exit snapshot only: once per stream. */
			bool again = false;
			for (size_t x = 0; x < e; x++)
				again |= p->events[x].rec.kind == ev->rec.kind &&
					 p->events[x].rec.fd == ev->rec.fd &&
					 p->events[x].rec.arg2 == ev->rec.arg2;
			if (!again)
				stdio_copied(m, (int)i, ev);
		}
	}
}
