/* Findings (see findings.h): adding them, the open-at-exit kind, and
 * running every kind's finder (findings_exec.c, findings_events.c,
 * findings_stdio.c). */
#include "findings_impl.h"
#include "address.h"
#include "shell.h"

#include <stdlib.h>
#include <string.h>

const char *const kt_finding_kinds[] = {
	"leaked-across-exec", "pipe-end-held", "shared-status-flags", "shared-lock", "bad-close",
	"bad-use", "close-unopened", "stdio-buffer-duplicated", "open-at-exit", "deadlock", "stall", NULL};

const char *kt_severity_name(enum kt_severity s)
{
	switch (s) {
	case KT_SEVERITY_ERROR:
		return "error";
	case KT_SEVERITY_WARNING:
		return "warning";
	default:
		return "info";
	}
}

size_t kt_findings_gating(const struct kt_model *m, bool count_info)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nfindings; i++)
		n += m->findings[i].severity != KT_SEVERITY_INFO || count_info;
	return n;
}

const char *kt_target_of(const struct kt_rec_fd *fd)
{
	return fd->target != NULL ? fd->target : "?";
}

struct kt_finding *kt_finding_add(struct kt_model *m, const char *kind, enum kt_severity sev,
				  int proc, int fd, int ofd, const char *target)
{
	struct kt_finding *f = KT_PUSH(m->findings, m->nfindings, m->findings_cap);
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->severity = sev;
	f->proc = proc;
	f->fd = fd;
	f->ofd = ofd;
	f->target = target;
	f->program = m->procs[proc].name;
	return f;
}

void kt_finding_drop_last(struct kt_model *m)
{
	struct kt_finding *f = &m->findings[--m->nfindings];
	free(f->related);
	free(f->message);
	free(f->explanation);
	kt_finding_free_cycle(f);
}

void kt_finding_free_cycle(struct kt_finding *f)
{
	for (size_t i = 0; i < f->ncycle; i++)
		free(f->cycle[i].waits_for);
	free(f->cycle);
	f->cycle = NULL;
	f->ncycle = 0;
}

bool kt_finding_exists(const struct kt_model *m, const char *kind, int proc, int fd)
{
	for (size_t i = 0; i < m->nfindings; i++)
		if (m->findings[i].proc == proc && m->findings[i].fd == fd &&
		    strcmp(m->findings[i].kind, kind) == 0)
			return true;
	return false;
}

void kt_finding_relate(struct kt_finding *f, int proc)
{
	if (proc < 0 || proc == f->proc)
		return;
	for (size_t i = 0; i < f->nrelated; i++)
		if (f->related[i] == proc)
			return;
	f->related = kt_xrealloc(f->related, (f->nrelated + 1) * sizeof *f->related);
	f->related[f->nrelated++] = proc;
}

const char *kt_program_at(const struct kt_model *m, int proc, int snap)
{
	const struct kt_rec_image *im =
		snap < 0 ? NULL : kt_process_image_at(m->procs[proc].proc, (size_t)snap);
	if (im == NULL)
		return m->procs[proc].name;
	if (im->argc > 0 && im->argv[0][0] != '\0')
		return kt_basename(im->argv[0]);
	return im->exe != NULL ? kt_basename(im->exe) : m->procs[proc].name;
}

void kt_finding_made_by(struct kt_finding *f, const struct kt_model *m, const struct kt_chain *c)
{
	const struct kt_step *st = &c->steps[c->own - 1];
	struct kt_finding_origin *o = &f->origin;
	*o = (struct kt_finding_origin){0};
	if (st->proc >= 0)
		o->program = kt_program_at(m, st->proc, st->snap);
	o->made = kt_shell_made(m, c);
	/* No record (closed before its snapshot), or not made in the trace:
	 * the call was not seen. */
	if (st->origin == NULL || st->origin->how == KT_HOW_NONE || st->origin->how == KT_HOW_UNKNOWN)
		return;
	o->call = kt_call_name((enum kt_call)st->origin->call);
	o->site = st->origin->site;
	struct kt_node_ref ref;
	if (kt_model_node(m, st->pid, st->start, st->fd, st->gen, &ref)) {
		o->stack = ref.rec->stack;
		o->nstack = ref.rec->nstack;
	}
}

void kt_finding_copied_by(struct kt_finding *f, const struct kt_model *m, const struct kt_chain *c,
			  int step)
{
	const struct kt_step *st = &c->steps[step];
	f->origin = (struct kt_finding_origin){
		.call = kt_call_name((enum kt_call)st->origin->call),
		.program = kt_program_at(m, st->proc, st->snap),
		.site = st->origin->site,
	};
	struct kt_node_ref ref;
	if (kt_model_node(m, st->pid, st->start, st->fd, st->gen, &ref)) {
		f->origin.stack = ref.rec->stack;
		f->origin.nstack = ref.rec->nstack;
	}
}

void kt_finding_called(struct kt_finding *f, const char *call, const char *site)
{
	f->origin = (struct kt_finding_origin){.call = call, .program = f->program, .site = site};
}

void kt_finding_say(struct kt_finding *f, struct kt_str *message, struct kt_str *explanation)
{
	f->message = kt_str_take(message);
	f->explanation = kt_str_take(explanation);
}

/* ---- open-at-exit (--leaks) ---- */

static void open_at_exit_texts(struct kt_str *msg, struct kt_str *why, const struct kt_mproc *mp,
			       const struct kt_fd *mfd)
{
	const struct kt_rec_fd *fd = &mfd->rec;
	const char *type = kt_fd_type_name(fd->type);
	char *shown = kt_target_shown(mfd); /* a socket's addresses too */
	kt_str_printf(msg, "%d %s: fd %d (%s %s) is still open at exit", mp->proc->pid, mp->name,
		      fd->fd, type, shown);
	kt_str_printf(why,
		      "%d (%s) exited with fd %d (%s %s) open: the kernel closes it, but a "
		      "long-running program that forgets it leaks a descriptor each time. The "
		      "descriptor was ",
		      mp->proc->pid, mp->name, fd->fd, type, shown);
	free(shown);
}

/* fd of process i, a node of the model (in ofd), open at its end. */
static void open_at_exit(struct kt_model *m, size_t i, const struct kt_fd *mfd, int ofd)
{
	const struct kt_rec_fd *fd = &mfd->rec;
	const struct kt_mproc *mp = &m->procs[i];
	struct kt_chain c;
	kt_chain_walk(m, mp->proc->pid, mp->proc->start, fd->fd, fd->gen, &c);
	/* A copy made here of a descriptor from outside (exec 7>&1,
	 * dup(2)) is this program's to close, as valgrind says. */
	bool made = kt_chain_made_in_trace(m, &c, ofd);
	int copied = made ? -1 : kt_chain_copied_at(&c);
	if (!made && copied < 0)
		return;
	struct kt_finding *f =
		kt_finding_add(m, "open-at-exit", KT_SEVERITY_INFO, (int)i, fd->fd, ofd, fd->target);
	if (made)
		kt_finding_made_by(f, m, &c);
	else
		kt_finding_copied_by(f, m, &c, copied);
	struct kt_str msg = {0}, why = {0};
	open_at_exit_texts(&msg, &why, mp, mfd);
	kt_chain_describe(&why, m, &c, false);
	kt_str_printf(&why, ".");
	kt_finding_say(f, &msg, &why);
}

/* fd of process i made after its exit snapshot, by an exit handler or a
 * destructor: no node of the model, its own record tells. */
static void made_at_end(struct kt_model *m, size_t i, const struct kt_fd *mfd)
{
	const struct kt_rec_fd *fd = &mfd->rec;
	const struct kt_mproc *mp = &m->procs[i];
	const char *call = kt_call_name((enum kt_call)fd->call);
	if (fd->gen == 0 || call == NULL)
		return; /* not seen made: nothing to say where */
	struct kt_finding *f =
		kt_finding_add(m, "open-at-exit", KT_SEVERITY_INFO, (int)i, fd->fd, 0, fd->target);
	kt_finding_called(f, call, fd->site);
	struct kt_str msg = {0}, why = {0};
	open_at_exit_texts(&msg, &why, mp, mfd);
	kt_str_printf(&why, "made by %s", call);
	kt_str_add_at(&why, fd->site);
	kt_str_printf(&why, " as fd %d after main returned, by an exit handler or a destructor.",
		      fd->fd);
	kt_finding_say(f, &msg, &why);
}

/* What was open at the real end, after the exit handlers and destructors
 * (the exit snapshot is taken before them): the descriptors it shares
 * with the snapshot are the model's nodes. */
static void open_at_real_end(struct kt_model *m, size_t i)
{
	const struct kt_process *p = m->procs[i].proc;
	for (size_t k = 0; k < p->nend_fds; k++) {
		const struct kt_rec_fd *fd = &p->end_fds[k].rec;
		struct kt_node_ref ref;
		if (fd->fd <= 2)
			continue;
		if (fd->gen != 0 && kt_model_node(m, p->pid, p->start, fd->fd, fd->gen, &ref) &&
		    ref.proc == (int)i)
			open_at_exit(m, i, ref.rec, ref.ofd);
		else
			made_at_end(m, i, &p->end_fds[k]);
	}
}

static void find_open_at_exit(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		if (mp->snap == NULL || mp->snap->head.why != KT_WHY_EXIT)
			continue;
		if (mp->proc->end_known) {
			open_at_real_end(m, i);
			continue;
		}
		for (size_t k = 0; k < mp->nfds; k++)
			if (mp->fds[k].fd->rec.fd > 2)
				open_at_exit(m, i, mp->fds[k].fd, mp->fds[k].ofd);
	}
}

static int compare_findings(const void *a, const void *b)
{
	const struct kt_finding *x = a, *y = b;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

void kt_findings_find(struct kt_model *m, const struct kt_findings_options *opt)
{
	kt_find_exec_leaks(m);
	kt_find_readers_holding_writers(m);
	kt_find_socket_peers_held(m);
	kt_find_events(m, opt != NULL && opt->close_minus_one);
	kt_find_stdio_duplicated(m);
	kt_find_deadlocks(m);
	if (opt != NULL && opt->leaks)
		find_open_at_exit(m);
	if (m->nfindings > 1)
		qsort(m->findings, m->nfindings, sizeof *m->findings, compare_findings);
}
