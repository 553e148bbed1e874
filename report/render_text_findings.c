/* The text report's findings and notes (render_text.h). Findings are told
 * by context (findings_group.h), as valgrind tells its errors: one entry
 * for the 142 processes a build's leak reaches, with a count, the first
 * processes, the origin and the first finding's explanation. Notes are
 * told in words (notes.h), one entry per kind. */
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "findings.h"
#include "findings_group.h"
#include "notes.h"
#include "render_text.h"
#include "shell.h"
#include "unrecorded.h"

/* Processes named on a context's or a note's line; the rest are counted. */
#define PROCS_NAMED 5

/* "(2 errors, 140 warnings, 1 info)": the findings by severity. */
static void add_severities(struct kt_text_out *o, const struct kt_finding_contexts *cx)
{
	static const enum kt_severity order[] = {KT_SEVERITY_ERROR, KT_SEVERITY_WARNING,
						 KT_SEVERITY_INFO};
	const char *sep = " (";
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		size_t n = cx->by_severity[order[i]];
		if (n == 0)
			continue;
		const char *name = kt_severity_name(order[i]);
		kt_str_printf(&o->line, "%s", sep);
		kt_text_count(&o->line, n);
		kt_str_add(&o->line, " ", 1);
		kt_text_style(o, kt_text_severity_style(order[i]));
		kt_str_printf(&o->line, "%s%s", name, n > 1 && order[i] != KT_SEVERITY_INFO ? "s" : "");
		kt_text_style_end(o);
		sep = ", ";
	}
}

/* "Findings: 150 in 6 contexts (2 errors, 148 warnings; 3 suppressed)",
 * or "Findings: none". */
static void render_summary_line(struct kt_text_out *o, const struct kt_model *m,
				const struct kt_finding_contexts *cx)
{
	struct kt_str *l = &o->line;
	kt_text_styled(o, KT_STYLE_HEADING, "Findings:");
	if (m->nfindings == 0) {
		kt_str_printf(l, " none");
		if (m->nsuppressed > 0)
			kt_str_printf(l, " (%zu suppressed)", m->nsuppressed);
	} else {
		kt_str_printf(l, " ");
		kt_text_count(l, m->nfindings);
		kt_str_printf(l, " in ");
		kt_text_count(l, cx->n);
		kt_str_printf(l, " context%s", cx->n == 1 ? "" : "s");
		add_severities(o, cx);
		if (m->nsuppressed > 0)
			kt_str_printf(l, "; %zu suppressed", m->nsuppressed);
		kt_str_add(l, ")", 1);
	}
	kt_text_flush(o);
}

/* "    LEAD142 processes: 1234 cc1, 1240 cc1, ... and 139 more" */
static void render_procs_line(struct kt_text_out *o, const struct kt_model *m, const char *lead,
			      const int *procs, size_t nprocs)
{
	struct kt_str *l = &o->line;
	kt_str_printf(l, "    %s", lead);
	kt_text_count(l, nprocs);
	kt_str_printf(l, " process%s: ", nprocs == 1 ? "" : "es");
	size_t shown = 0;
	for (; shown < nprocs && shown < PROCS_NAMED; shown++) {
		const struct kt_mproc *mp = &m->procs[procs[shown]];
		char pid[16];
		int n = snprintf(pid, sizeof pid, "%d ", mp->proc->pid);
		/* Keep room for ", ... and NNNN more". */
		if (kt_text_room(l) < (size_t)n + 2 + 24)
			break;
		kt_str_printf(l, "%s%s", shown ? ", " : "", pid);
		kt_text_fitted(l, mp->name, KT_TEXT_NAME_COLUMNS, false);
	}
	if (shown < nprocs)
		kt_str_printf(l, "%s... and %zu more", shown ? ", " : "", nprocs - shown);
	kt_text_flush(o);
}

/* "    origin: open in cmake at main+0x3a (server.c:17)", then with
 * --stack=N up to N - 1 of the call's callers, one a line. */
static void render_origin(struct kt_text_out *o, const struct kt_model *m, const struct kt_finding *f)
{
	const struct kt_finding_origin *or = &f->origin;
	if (or->program == NULL && or->call == NULL && or->site == NULL)
		return;
	struct kt_str t = {0};
	char where[1100];
	kt_str_printf(&t, "origin: %s", or->call ? or->call : "made");
	if (or->program != NULL)
		kt_str_printf(&t, " in %s", or->program);
	if (kt_where_of(or->site, where, sizeof where) != NULL)
		kt_str_printf(&t, " at %s", where);
	if (or->call == NULL)
		kt_str_printf(&t, " (the call was not seen)");
	if (or->made != NULL && strcmp(or->made, KT_MADE_SHELL_REDIRECTION) == 0)
		kt_str_printf(&t, " (a shell redirection)");
	kt_str_add(&o->line, "    ", 4);
	kt_text_flow(o, t.s, 6);
	kt_text_flush(o);
	free(t.s);
	for (size_t i = 0; i < or->nstack && (int)i + 1 < m->stack_frames; i++) {
		kt_str_add(&o->line, "      < ", 8);
		kt_text_flow(o, kt_where_of(or->stack[i], where, sizeof where), 8);
		kt_text_flush(o);
	}
}

/* "  warning leaked-across-exec": the severity and the kind, coloured. */
static void add_severity_kind(struct kt_text_out *o, const struct kt_finding *f)
{
	kt_str_add(&o->line, "  ", 2);
	kt_text_styled(o, kt_text_severity_style(f->severity), kt_severity_name(f->severity));
	kt_str_add(&o->line, " ", 1);
	kt_text_styled(o, KT_STYLE_KIND, f->kind);
}

/* "  warning leaked-across-exec  fd 3  /b/tests/CMakeFiles/STAR/link.txt":
 * a context of several findings, with its processes on the next line. */
static void render_context_head(struct kt_text_out *o, const struct kt_model *m,
				const struct kt_finding_context *c)
{
	const struct kt_finding *f = &m->findings[c->first];
	add_severity_kind(o, f);
	if (c->fd_min >= 0 && c->fd_min == c->fd_max)
		kt_str_printf(&o->line, "  fd %d", c->fd_min);
	else if (c->fd_min >= 0)
		kt_str_printf(&o->line, "  fds %d-%d", c->fd_min, c->fd_max);
	if (c->target != NULL) {
		kt_str_add(&o->line, "  ", 2);
		kt_text_fitted(&o->line, c->target, kt_text_room(&o->line), true);
	}
	kt_text_flush(o);
	struct kt_str lead = {0};
	kt_str_add(&lead, "x", 1);
	kt_text_count(&lead, c->count);
	kt_str_add(&lead, " in ", 4);
	render_procs_line(o, m, lead.s, c->procs, c->nprocs);
	free(lead.s);
}

/* "  warning leaked-across-exec  1234 server  fd 3  socket:[1]": one finding. */
static void render_finding_head(struct kt_text_out *o, const struct kt_model *m,
				const struct kt_finding *f)
{
	const struct kt_mproc *mp = &m->procs[f->proc];
	add_severity_kind(o, f);
	kt_str_printf(&o->line, "  %d ", mp->proc->pid);
	kt_text_style(o, KT_STYLE_PROGRAM);
	kt_text_fitted(&o->line, mp->name, KT_TEXT_NAME_COLUMNS, false);
	kt_text_style_end(o);
	if (f->fd >= 0)
		kt_str_printf(&o->line, "  fd %d", f->fd);
	if (f->target != NULL) {
		kt_str_add(&o->line, "  ", 2);
		kt_text_fitted(&o->line, f->target, kt_text_room(&o->line), true);
	}
	kt_text_flush(o);
}

static void render_context(struct kt_text_out *o, const struct kt_model *m,
			   const struct kt_finding_context *c)
{
	const struct kt_finding *f = &m->findings[c->first];
	if (c->count == 1)
		render_finding_head(o, m, f);
	else
		render_context_head(o, m, c);
	render_origin(o, m, f);
	if (f->explanation == NULL)
		return;
	if (c->count == 1) {
		kt_text_paragraph(o, f->explanation, 4);
		return;
	}
	/* The first finding's explanation, saying whose it is unless it does. */
	const struct kt_mproc *mp = &m->procs[f->proc];
	char *named = kt_xasprintf("%d (%s)", mp->proc->pid, mp->name);
	char *text = strncmp(f->explanation, named, strlen(named)) == 0
			     ? kt_xasprintf("The first: %s", f->explanation)
			     : kt_xasprintf("The first, %s: %s", named, f->explanation);
	free(named);
	kt_text_paragraph(o, text, 4);
	free(text);
}

void kt_text_findings(struct kt_text_out *o, const struct kt_model *m)
{
	struct kt_finding_contexts cx;
	kt_finding_contexts_build(m, &cx);
	render_summary_line(o, m, &cx);
	for (size_t c = 0; c < cx.n; c++)
		render_context(o, m, &cx.items[c]);
	kt_finding_contexts_free(&cx);
}

/* ---- notes ---- */

/* One note of a process, in words. */
struct note_entry {
	int proc;
	struct kt_note_words words;
};

/* Notes of one kind: the same meaning and advice. */
struct note_kind {
	const char *kind;
	struct note_entry *entries;
	size_t n, cap;
};

static void collect_notes(const struct kt_model *m, struct note_kind **kinds, size_t *nkinds)
{
	size_t cap = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		/* What could not be recorded first, then what was. */
		for (size_t k = 0; k < p->nunrecorded + p->nnotes; k++) {
			struct note_entry e = {.proc = (int)i};
			if (k < p->nunrecorded)
				kt_unrecorded_words(&p->unrecorded[k], &e.words);
			else
				kt_note_words(p->notes[k - p->nunrecorded], &e.words);
			size_t j = 0;
			while (j < *nkinds && strcmp((*kinds)[j].kind, e.words.kind) != 0)
				j++;
			if (j == *nkinds)
				*KT_PUSH(*kinds, *nkinds, cap) = (struct note_kind){.kind = e.words.kind};
			struct note_kind *nk = &(*kinds)[j];
			*KT_PUSH(nk->entries, nk->n, nk->cap) = e;
		}
	}
}

static bool same_what(const struct note_kind *nk)
{
	for (size_t e = 1; e < nk->n; e++)
		if (strcmp(nk->entries[e].words.what, nk->entries[0].words.what) != 0)
			return false;
	return true;
}

/* What happened: once with the processes it happened in, or, when it says
 * something of its own in each, a line each (the first PROCS_NAMED). */
static void render_note_kind(struct kt_text_out *o, const struct kt_model *m,
			     const struct note_kind *nk)
{
	const struct kt_note_words *first = &nk->entries[0].words;
	if (same_what(nk)) {
		char *what = kt_xasprintf("%s.", first->what);
		kt_text_paragraph(o, what, 2);
		free(what);
		int *procs = kt_xmalloc(nk->n * sizeof *procs);
		size_t nprocs = 0;
		for (size_t e = 0; e < nk->n; e++)
			if (nprocs == 0 || procs[nprocs - 1] != nk->entries[e].proc)
				procs[nprocs++] = nk->entries[e].proc;
		render_procs_line(o, m, "in ", procs, nprocs);
		free(procs);
	} else {
		for (size_t e = 0; e < nk->n && e < PROCS_NAMED; e++) {
			const struct kt_mproc *mp = &m->procs[nk->entries[e].proc];
			char *what = kt_xasprintf("%d %s: %s.", mp->proc->pid, mp->name,
						  nk->entries[e].words.what);
			kt_text_paragraph(o, what, 2);
			free(what);
		}
		if (nk->n > PROCS_NAMED) {
			kt_str_printf(&o->line, "  and %zu more", nk->n - PROCS_NAMED);
			kt_text_flush(o);
		}
	}
	struct kt_str rest = {0};
	if (first->meaning != NULL)
		kt_str_printf(&rest, "%s", first->meaning);
	if (first->advice != NULL)
		kt_str_printf(&rest, "%s%s", rest.len ? " " : "", first->advice);
	if (rest.len > 0)
		kt_text_paragraph(o, rest.s, 4);
	free(rest.s);
}

void kt_text_notes(struct kt_text_out *o, const struct kt_model *m)
{
	struct note_kind *kinds = NULL;
	size_t nkinds = 0;
	collect_notes(m, &kinds, &nkinds);
	if (nkinds > 0) {
		/* --quiet still says that the trace is incomplete, in one line */
		kt_text_styled(o, KT_STYLE_HEADING, "Notes");
		if (m->quiet)
			kt_str_printf(&o->line, ": %zu kind%s (the trace is incomplete); "
						"run without --quiet to read them",
				      nkinds, nkinds == 1 ? "" : "s");
		kt_text_flush(o);
	}
	for (size_t k = 0; k < nkinds; k++) {
		if (!m->quiet)
			render_note_kind(o, m, &kinds[k]);
		for (size_t e = 0; e < kinds[k].n; e++)
			kt_note_words_free(&kinds[k].entries[e].words);
		free(kinds[k].entries);
	}
	free(kinds);
}
