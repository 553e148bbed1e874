/* The JSON report. Field names and meanings are a contract with users'
 * scripts: add fields, never rename or remove them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "blocked.h"
#include "findings.h"
#include "findings_group.h"
#include "json.h"
#include "notes.h"
#include "render.h"
#include "symbolize.h"
#include "unrecorded.h"

static const char *evidence_name(enum kt_evidence e)
{
	switch (e) {
	case KT_EVIDENCE_KCMP:
		return "kcmp";
	case KT_EVIDENCE_TRACKED:
		return "tracked";
	default:
		return "none";
	}
}

static void render_origin(FILE *out, const struct kt_mproc *mp, const struct kt_fd *mfd)
{
	const struct kt_origin *o = &mfd->origin;
	char site[1024];
	fputs("{\"how\": ", out);
	kt_json_string(out, kt_how_name(o->how));
	fputs(", \"call\": ", out);
	kt_json_string(out, kt_call_name((enum kt_call)o->call));
	if (o->how == KT_HOW_DUP || o->how == KT_HOW_INHERITED ||
	    (o->how == KT_HOW_RECEIVED && o->src_pid != 0)) {
		fprintf(out, ", \"pid\": %d", o->src_pid);
		if (o->src_fd >= 0) /* a sender, popen's parent: no descriptor of theirs is it */
			fprintf(out, ", \"fd\": %d", o->src_fd);
		if (o->src_pid != mp->proc->pid && o->src_start != 0) /* 0: a sender gone at the receipt */
			fprintf(out, ", \"start\": %llu", o->src_start);
	} else if (o->before != KT_HOW_NONE) {
		/* Kept across exec, and before it a dup or an inheritance. */
		fprintf(out, ", \"before_exec\": {\"how\": \"%s\", \"pid\": %d, \"fd\": %d}",
			kt_how_name(o->before), o->src_pid, o->src_fd);
	}
	fputs(", \"site\": ", out);
	kt_json_string(out, o->site != NULL ? kt_symbolize(o->site, site, sizeof site) : NULL);
	if (o->site != NULL) {
		struct kt_symbol sym;
		kt_symbolize_full(o->site, &sym);
		if (sym.line > 0) {
			fputs(", \"file\": ", out);
			kt_json_string(out, sym.file);
			fprintf(out, ", \"line\": %d", sym.line);
		}
		fputs(", \"site_raw\": ", out);
		kt_json_string(out, o->site);
	}
	if (o->made != NULL) {
		fputs(", \"made\": ", out);
		kt_json_string(out, o->made);
	}
	if (mfd->nstack > 0) {
		/* The callers of the call that made it, innermost first. */
		fputs(", \"stack\": [", out);
		for (size_t i = 0; i < mfd->nstack; i++) {
			struct kt_symbol sym;
			kt_symbolize_full(mfd->stack[i], &sym);
			if (i > 0)
				fputs(", ", out);
			kt_json_string(out, sym.where);
		}
		fputc(']', out);
	}
	fputc('}', out);
}

/* Present only when part of its trace is missing: what, and why. */
static void render_unrecorded(FILE *out, const struct kt_process *p)
{
	if (p->nunrecorded == 0)
		return;
	fputs(", \"unrecorded\": [", out);
	for (size_t k = 0; k < p->nunrecorded; k++) {
		const struct kt_rec_unrecorded *u = &p->unrecorded[k];
		char reason[160];
		fprintf(out, "%s{\"what\": \"%s\", \"errno\": ", k > 0 ? ", " : "",
			kt_lost_what_name(u->what));
		kt_json_string(out, kt_errno_name_known(u->err));
		fputs(", \"cause\": ", out);
		kt_json_string(out, kt_unrecorded_cause(u));
		fputs(", \"exe\": ", out);
		kt_json_string(out, u->path);
		fputs(", \"reason\": ", out);
		kt_json_string(out, kt_unrecorded_reason(u, reason, sizeof reason));
		fputc('}', out);
	}
	fputc(']', out);
}

static void render_end(FILE *out, const struct kt_mproc *mp)
{
	switch (mp->end) {
	case KT_END_EXIT:
		fprintf(out, "{\"how\": \"exit\", \"status\": %d}", mp->end_value);
		break;
	case KT_END_SIGNAL:
		fprintf(out, "{\"how\": \"signal\", \"signal\": %d, \"status\": %d}", mp->end_value,
			mp->end_value);
		break;
	case KT_END_RUNNING:
		fputs("{\"how\": \"running\"}", out);
		break;
	default:
		fputs("{\"how\": \"unknown\"}", out);
		break;
	}
}

/* A live snapshot's "blocked": what the process waits in, null when it
 * was running. */
static void render_blocked(FILE *out, const struct kt_blocked *b)
{
	fputs(", \"blocked\": ", out);
	if (b->kind == KT_BLOCK_RUNNING) {
		fputs("null", out);
		return;
	}
	fputs("{\"call\": ", out);
	kt_json_string(out, b->kind == KT_BLOCK_STOPPED ? "stopped" : b->call ? b->call : "other");
	if (b->tid > 0)
		fprintf(out, ", \"tid\": %d", b->tid);
	if (b->kind == KT_BLOCK_FD || b->kind == KT_BLOCK_LOCK)
		fprintf(out, ", \"fd\": %d", b->fd);
	if (b->kind == KT_BLOCK_WAIT)
		fprintf(out, ", \"pid\": %d", b->pid);
	if (b->kind == KT_BLOCK_FDS && b->fds_known) {
		fputs(", \"fds\": [", out);
		for (size_t i = 0; i < b->nfds; i++)
			fprintf(out, "%s%d", i ? ", " : "", b->fds[i].fd);
		fputc(']', out);
	}
	if (b->kind == KT_BLOCK_FDS && !b->fds_known)
		fputs(", \"fds\": null", out);
	if (b->kind == KT_BLOCK_FIFO_OPEN) {
		fputs(", \"fifo\": true, \"path\": ", out);
		kt_json_string(out, b->path);
	}
	if (b->timeout)
		fputs(", \"timeout\": true", out);
	fputs(", \"wchan\": ", out);
	kt_json_string(out, b->wchan[0] ? b->wchan : NULL);
	if (b->error) {
		fputs(", \"error\": ", out);
		kt_json_string(out, kt_errno_name(b->error));
	}
	fputc('}', out);
}

/* A descriptor's "address": a socket's ends, null when unknown (not a
 * socket, or not asked). */
static void render_address(FILE *out, const struct kt_fd *fd)
{
	fputs(", \"address\": ", out);
	if (!fd->has_addr || fd->rec.type != KT_FD_SOCKET) {
		fputs("null", out);
		return;
	}
	fputs("{\"local\": ", out);
	kt_json_string(out, fd->addr.local);
	fputs(", \"peer\": ", out);
	kt_json_string(out, fd->addr.peer);
	fprintf(out, ", \"listening\": %s}", fd->addr.listening ? "true" : "false");
}

/* The holder of o whose process asked its socket's addresses (a holder
 * without a snapshot has none), else the first. */
static const struct kt_fd *ofd_address_holder(const struct kt_ofd *o)
{
	for (size_t h = 0; h < o->nholders; h++)
		if (o->holders[h].rec->has_addr && o->holders[h].rec->rec.type == KT_FD_SOCKET)
			return o->holders[h].rec;
	return o->first;
}

static int ofd_of(const struct kt_mproc *mp, int fd, unsigned long long gen)
{
	for (size_t k = 0; k < mp->nfds; k++)
		if (mp->fds[k].fd->rec.fd == fd && mp->fds[k].fd->rec.gen == gen)
			return mp->fds[k].ofd;
	return 0;
}

/* The socket description whose target is socket:[ino], or 0. */
static int socket_ofd(const struct kt_model *m, uint64_t ino)
{
	char target[40];
	snprintf(target, sizeof target, "socket:[%llu]", (unsigned long long)ino);
	for (size_t i = 0; i < m->nofds; i++)
		if (m->ofds[i].first->rec.type == KT_FD_SOCKET && m->ofds[i].first->rec.target != NULL &&
		    strcmp(m->ofds[i].first->rec.target, target) == 0)
			return m->ofds[i].id;
	return 0;
}

/* For each socket description, its socketpair's other end (0: unknown),
 * indexed by id: the shim writes a "peer" record when a process holds
 * both ends made by one socketpair() at its snapshot; a live snapshot has
 * each UNIX socket's peer inode from sock_diag. A trace read after its
 * processes ended cannot ask the kernel. */
static int *socket_peers(const struct kt_model *m)
{
	int *peer = kt_xcalloc(m->nofds + 1, sizeof *peer);
	for (size_t i = 0; i < m->nofds; i++) {
		const struct kt_ofd *o = &m->ofds[i];
		for (size_t h = 0; h < o->nholders && !peer[o->id]; h++) {
			int b = o->holders[h].rec->peer_ino ? socket_ofd(m, o->holders[h].rec->peer_ino) : 0;
			if (b && b != o->id && !peer[b]) {
				peer[o->id] = b;
				peer[b] = o->id;
			}
		}
	}
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		for (size_t pp = 0; mp->snap != NULL && pp < mp->snap->npeers; pp++) {
			const struct kt_rec_peer *r = &mp->snap->peers[pp];
			int a = ofd_of(mp, r->fd, r->gen), b = ofd_of(mp, r->fd2, r->gen2);
			if (a && b && a != b && !peer[a] && !peer[b] &&
			    m->ofds[a - 1].first->rec.type == KT_FD_SOCKET &&
			    m->ofds[b - 1].first->rec.type == KT_FD_SOCKET) {
				peer[a] = b;
				peer[b] = a;
			}
		}
	}
	return peer;
}

static void render_process(FILE *out, const struct kt_model *m, size_t i)
{
	const struct kt_mproc *mp = &m->procs[i];
	const struct kt_process *p = mp->proc;
	fprintf(out, "{\"pid\": %d, \"ppid\": %d, \"start\": %llu", p->pid, mp->ppid, p->start);
	if (mp->parent >= 0)
		fprintf(out, ", \"parent_start\": %llu", m->procs[mp->parent].proc->start);
	fputs(", \"argv\": [", out);
	for (int a = 0; mp->image != NULL && a < mp->image->argc; a++) {
		if (a > 0)
			fputs(", ", out);
		kt_json_string(out, mp->image->argv[a]);
	}
	fputs("], \"exe\": ", out);
	kt_json_string(out, mp->image != NULL ? mp->image->exe : NULL);
	fputs(", \"name\": ", out);
	kt_json_string(out, mp->name);
	fprintf(out, ", \"images\": %zu, \"end\": ", p->nimages);
	render_end(out, mp);
	if (mp->untraced_path != NULL) {
		fputs(", \"untraced\": {\"exe\": ", out);
		kt_json_string(out, mp->untraced_path);
		fputs(", \"reason\": ", out);
		kt_json_string(out, mp->untraced_reason);
		fputc('}', out);
	}
	render_unrecorded(out, p);
	fputs(", \"snapshot\": ", out);
	if (mp->snap == NULL)
		fputs("null", out);
	else {
		const struct kt_rec_snap *h = &mp->snap->head;
		char kcmp[32];
		const char *why = mp->snap->observed && h->why == KT_WHY_LIVE ? "observed"
				  : mp->snap->live_why != NULL		   ? mp->snap->live_why
									   : kt_snap_why_name(h->why);
		fprintf(out, "{\"why\": \"%s\", \"kcmp\": ", why);
		kt_json_string(out, kt_kcmp_text(h->kcmp, kcmp));
		fputc('}', out);
		if (mp->snap->blocked != NULL)
			render_blocked(out, mp->snap->blocked);
	}
	fputs(",\n   \"fds\": [", out);
	for (size_t k = 0; k < mp->nfds; k++) {
		const struct kt_fd *mfd = mp->fds[k].fd;
		const struct kt_rec_fd *fd = &mfd->rec;
		/* A table snapshot cannot read type, target and access: those of
		 * the description, from a holder that could. */
		const struct kt_rec_fd *seen = fd->access != KT_ACCESS_UNKNOWN
						       ? fd
						       : &m->ofds[mp->fds[k].ofd - 1].first->rec;
		fputs(k > 0 ? ",\n     " : "\n     ", out);
		fprintf(out, "{\"fd\": %d, \"ofd\": %d, \"gen\": %llu, \"type\": ", fd->fd,
			mp->fds[k].ofd, fd->gen);
		kt_json_string(out, kt_fd_type_name(seen->type));
		fputs(", \"target\": ", out);
		kt_json_string(out, seen->target);
		render_address(out, mfd->has_addr || fd->access != KT_ACCESS_UNKNOWN
					    ? mfd
					    : m->ofds[mp->fds[k].ofd - 1].first);
		fputs(", \"access\": ", out);
		kt_json_string(out, kt_access_name(seen->access));
		fprintf(out, ", \"cloexec\": %s, \"origin\": ", fd->cloexec ? "true" : "false");
		render_origin(out, mp, mfd);
		fputc('}', out);
	}
	fputs("],\n   \"stats\": {", out);
	for (size_t k = 0; mp->snap != NULL && k < mp->snap->nstats; k++) {
		if (k > 0)
			fputs(", ", out);
		kt_json_string(out, mp->snap->stats[k].name);
		fprintf(out, ": %llu", mp->snap->stats[k].value);
	}
	fputs("}, \"notes\": [", out);
	for (size_t k = 0; k < p->nunrecorded + p->nnotes; k++) {
		if (k > 0)
			fputs(", ", out);
		char *words = k < p->nunrecorded ? kt_unrecorded_paragraph(&p->unrecorded[k])
						 : kt_note_paragraph(p->notes[k - p->nunrecorded]);
		kt_json_string(out, words);
		free(words);
	}
	fputs("]}", out);
}

/* What a finding comes from (model.h kt_finding_origin). */
static void render_finding_origin(FILE *out, const struct kt_finding_origin *o)
{
	char site[1024];
	fputs("{\"call\": ", out);
	kt_json_string(out, o->call);
	fputs(", \"program\": ", out);
	kt_json_string(out, o->program);
	fputs(", \"site\": ", out);
	kt_json_string(out, o->site != NULL ? kt_symbolize(o->site, site, sizeof site) : NULL);
	if (o->made != NULL) {
		fputs(", \"made\": ", out);
		kt_json_string(out, o->made);
	}
	if (o->nstack > 0) {
		fputs(", \"stack\": [", out);
		for (size_t i = 0; i < o->nstack; i++) {
			struct kt_symbol sym;
			kt_symbolize_full(o->stack[i], &sym);
			if (i > 0)
				fputs(", ", out);
			kt_json_string(out, sym.where);
		}
		fputc(']', out);
	}
	fputc('}', out);
}

/* A deadlock's "cycle": each step's process, call, descriptor and the
 * pids it waits for. */
static void render_cycle(FILE *out, const struct kt_model *m, const struct kt_finding *f)
{
	fputs(", \"cycle\": [", out);
	for (size_t i = 0; i < f->ncycle; i++) {
		const struct kt_cycle_step *s = &f->cycle[i];
		fprintf(out, "%s{\"pid\": %d, \"call\": ", i ? ", " : "", m->procs[s->proc].proc->pid);
		kt_json_string(out, s->call);
		fputs(", \"fd\": ", out);
		if (s->fd >= 0)
			fprintf(out, "%d", s->fd);
		else
			fputs("null", out);
		fputs(", \"ofd\": ", out);
		if (s->ofd > 0)
			fprintf(out, "%d", s->ofd);
		else
			fputs("null", out);
		fputs(", \"waits_for\": [", out);
		for (size_t k = 0; k < s->nwaits; k++)
			fprintf(out, "%s%d", k ? ", " : "", s->waits_for[k]);
		fputs("]}", out);
	}
	fputc(']', out);
}

static void render_finding(FILE *out, const struct kt_model *m, const struct kt_finding *f,
			   int context)
{
	fputs("{\"kind\": ", out);
	kt_json_string(out, f->kind);
	fprintf(out, ", \"severity\": \"%s\", \"pid\": %d, \"start\": %llu, \"fd\": ",
		kt_severity_name(f->severity), m->procs[f->proc].proc->pid,
		m->procs[f->proc].proc->start);
	if (f->fd >= 0)
		fprintf(out, "%d", f->fd);
	else
		fputs("null", out);
	fputs(", \"ofd\": ", out);
	if (f->ofd > 0)
		fprintf(out, "%d", f->ofd);
	else
		fputs("null", out);
	fputs(", \"program\": ", out);
	kt_json_string(out, f->program);
	fputs(", \"target\": ", out);
	kt_json_string(out, f->target);
	fputs(", \"message\": ", out);
	kt_json_string(out, f->message);
	fputs(", \"explanation\": ", out);
	kt_json_string(out, f->explanation);
	fputs(", \"related\": [", out);
	for (size_t r = 0; r < f->nrelated; r++)
		fprintf(out, "%s%d", r ? ", " : "", m->procs[f->related[r]].proc->pid);
	fprintf(out, "], \"context\": %d, \"origin\": ", context);
	render_finding_origin(out, &f->origin);
	if (f->cycle != NULL)
		render_cycle(out, m, f);
	if (f->bytes > 0)
		fprintf(out, ", \"bytes\": %lld", f->bytes);
	fputc('}', out);
}

/* A context of findings (findings_group.h): what its findings share. */
static void render_context(FILE *out, const struct kt_model *m, const struct kt_finding_context *c)
{
	const struct kt_finding *f = &m->findings[c->first];
	fprintf(out, "{\"id\": %d, \"kind\": ", c->id);
	kt_json_string(out, f->kind);
	fprintf(out, ", \"severity\": \"%s\", \"count\": %zu, \"processes\": %zu, \"pids\": [",
		kt_severity_name(f->severity), c->count, c->nprocs);
	for (size_t i = 0; i < c->nprocs; i++)
		fprintf(out, "%s%d", i ? ", " : "", m->procs[c->procs[i]].proc->pid);
	fputs("], \"fd\": ", out);
	if (c->fd_min >= 0 && c->fd_min == c->fd_max)
		fprintf(out, "%d", c->fd_min);
	else
		fputs("null", out);
	fputs(", \"target\": ", out);
	kt_json_string(out, c->target);
	fputs(", \"origin\": ", out);
	render_finding_origin(out, &f->origin);
	fputc('}', out);
}

void kt_render_json(FILE *out, const struct kt_model *m)
{
	fputs("{\"version\": 1,\n \"kcmp\": ", out);
	if (m->kcmp_available)
		fputs("{\"available\": true}", out);
	else {
		char detail[32];
		fputs("{\"available\": false, \"detail\": ", out);
		kt_json_string(out, kt_kcmp_text(m->kcmp_error, detail));
		fputc('}', out);
	}
	fputs(",\n \"trace_dir\": ", out);
	kt_json_string(out, m->trace->dir);
	fputs(",\n \"processes\": [", out);
	for (size_t i = 0; i < m->nprocs; i++) {
		fputs(i > 0 ? ",\n  " : "\n  ", out);
		render_process(out, m, i);
	}
	fputs("],\n \"ofds\": [", out);
	int *peer = socket_peers(m);
	for (size_t i = 0; i < m->nofds; i++) {
		const struct kt_ofd *o = &m->ofds[i];
		fputs(i > 0 ? ",\n  " : "\n  ", out);
		fprintf(out, "{\"id\": %d, \"type\": ", o->id);
		kt_json_string(out, kt_fd_type_name(o->first->rec.type));
		fputs(", \"target\": ", out);
		kt_json_string(out, o->first->rec.target);
		render_address(out, ofd_address_holder(o));
		if (peer[o->id])
			fprintf(out, ", \"peer_ofd\": %d", peer[o->id]);
		fputs(", \"access\": ", out);
		kt_json_string(out, kt_access_name(o->first->rec.access));
		fprintf(out, ", \"evidence\": \"%s\", \"holders\": [", evidence_name(o->evidence));
		for (size_t h = 0; h < o->nholders; h++) {
			const struct kt_process *p = m->procs[o->holders[h].proc].proc;
			fprintf(out, "%s{\"pid\": %d, \"start\": %llu, \"fd\": %d}", h > 0 ? ", " : "",
				p->pid, p->start, o->holders[h].fd);
		}
		fputs("]}", out);
	}
	free(peer);
	fputs("],\n \"findings\": [", out);
	struct kt_finding_contexts cx;
	kt_finding_contexts_build(m, &cx);
	for (size_t i = 0; i < m->nfindings; i++) {
		fputs(i > 0 ? ",\n  " : "\n  ", out);
		render_finding(out, m, &m->findings[i], cx.of[i]);
	}
	fputs("],\n \"finding_contexts\": [", out);
	for (size_t c = 0; c < cx.n; c++) {
		fputs(c > 0 ? ",\n  " : "\n  ", out);
		render_context(out, m, &cx.items[c]);
	}
	kt_finding_contexts_free(&cx);
	fprintf(out, "],\n \"suppressed\": %zu}\n", m->nsuppressed);
}
