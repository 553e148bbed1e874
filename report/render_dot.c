/* The Graphviz report (--format=dot): processes as boxes joined parent ->
 * child, each open file description held by two or more descriptors (or
 * named by a finding) as an ellipse, and an edge from every holder labelled
 * with its fd number. What a finding is about is drawn in red. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* A double-quoted DOT string: quotes and backslashes escaped, control bytes
 * dropped (labels are for people; \n is written by the caller). */
static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fputc('\\', out);
		if (c >= 0x20 && c != 0x7f)
			fputc(c, out);
	}
	fputc('"', out);
}


static bool holder_flagged(const struct kt_model *m, int proc, int fd)
{
	for (size_t i = 0; i < m->nfindings; i++)
		if (m->findings[i].proc == proc && m->findings[i].fd == fd)
			return true;
	return false;
}

static const char *const red = ", color=red, fontcolor=red, penwidth=2";

/* A box per process ("PID NAME\nEND"), an edge from its parent. */
static void render_processes(FILE *out, const struct kt_model *m, const bool *proc_red)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		char end[64], label[512];
		snprintf(label, sizeof label, "%d %s\n%s", mp->proc->pid, mp->name,
			 kt_model_end_text(mp, end, sizeof end));
		fprintf(out, "  p%zu [shape=box, style=rounded%s, label=", i, proc_red[i] ? red : "");
		/* \n in a label: a line break for dot. */
		fputc('"', out);
		for (const char *c = label; *c != '\0'; c++) {
			if (*c == '\n')
				fputs("\\n", out);
			else if (*c == '"' || *c == '\\')
				fprintf(out, "\\%c", *c);
			else if ((unsigned char)*c >= 0x20 && *c != 0x7f)
				fputc(*c, out);
		}
		fputs("\"];\n", out);
	}
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].parent >= 0)
			fprintf(out, "  p%d -> p%zu [style=bold, color=gray40, arrowhead=vee];\n",
				m->procs[i].parent, i);
}

/* An ellipse per description held twice or named by a finding, an edge
 * from each holder labelled with its fd. */
static void render_ofds(FILE *out, const struct kt_model *m, const bool *ofd_red)
{
	for (size_t i = 0; i < m->nofds; i++) {
		const struct kt_ofd *o = &m->ofds[i];
		if (o->nholders < 2 && !ofd_red[i])
			continue;
		char label[1200];
		snprintf(label, sizeof label, "%s %s", kt_fd_type_name(o->first->rec.type),
			 o->first->rec.target ? o->first->rec.target : "?");
		fprintf(out, "  o%d [shape=ellipse%s, label=", o->id, ofd_red[i] ? red : "");
		dot_string(out, label);
		fputs("];\n", out);
		for (size_t h = 0; h < o->nholders; h++)
			fprintf(out, "  p%d -> o%d [arrowhead=none, style=dashed, label=\"fd %d\"%s];\n",
				o->holders[h].proc, o->id, o->holders[h].fd,
				holder_flagged(m, o->holders[h].proc, o->holders[h].fd) ? red : "");
	}
}

/* The findings, as a legend. */
static void render_legend(FILE *out, const struct kt_model *m)
{
	if (m->nfindings == 0)
		return;
	fputs("  findings [shape=note, color=red, fontcolor=red, label=", out);
	fputc('"', out);
	for (size_t i = 0; i < m->nfindings; i++) {
		const struct kt_finding *f = &m->findings[i];
		fprintf(out, "%s: ", f->kind);
		for (const char *c = f->message; c != NULL && *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', out);
			if ((unsigned char)*c >= 0x20 && *c != 0x7f)
				fputc(*c, out);
		}
		fputs("\\l", out);
	}
	fputs("\"];\n", out);
}

void kt_render_dot(FILE *out, const struct kt_model *m)
{
	bool *proc_red = kt_xcalloc(m->nprocs + 1, sizeof *proc_red);
	bool *ofd_red = kt_xcalloc(m->nofds + 1, sizeof *ofd_red);
	for (size_t i = 0; i < m->nfindings; i++) {
		proc_red[m->findings[i].proc] = true;
		if (m->findings[i].ofd > 0)
			ofd_red[m->findings[i].ofd - 1] = true;
	}
	fputs("digraph kcmptrace {\n"
	      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11];\n"
	      "  node [fontname=\"Helvetica\", fontsize=10];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9];\n",
	      out);
	render_processes(out, m, proc_red);
	render_ofds(out, m, ofd_red);
	render_legend(out, m);
	fputs("}\n", out);
	free(proc_red);
	free(ofd_red);
}
