/* The text report's parts and the line writer they share: render_text.c
 * writes the summary and the tables, render_text_findings.c the findings
 * and the notes. Every line is fitted to KT_TEXT_COLUMNS. */
#ifndef KT_RENDER_TEXT_H
#define KT_RENDER_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "findings.h"
#include "model.h"

/* The line being written, and where it goes. */
struct kt_text_out {
	FILE *file;
	struct kt_str line;
	int pid_width, name_width; /* shared by all sections so the eye can scan down */
	bool color;                /* --color: SGR sequences (render_text_color.c) */
};

/* What is coloured. */
enum kt_text_style {
	KT_STYLE_HEADING,
	KT_STYLE_ERROR,
	KT_STYLE_WARNING,
	KT_STYLE_INFO,
	KT_STYLE_KIND,
	KT_STYLE_PROGRAM,
};

/* Start and end a style on the line (nothing without colour). */
void kt_text_style(struct kt_text_out *o, enum kt_text_style style);
void kt_text_style_end(struct kt_text_out *o);
/* Append text in a style. */
void kt_text_styled(struct kt_text_out *o, enum kt_text_style style, const char *text);
enum kt_text_style kt_text_severity_style(enum kt_severity severity);

#define KT_TEXT_NAME_COLUMNS 20

/* Append s made printable and cut to at most max columns: control bytes and
 * invalid UTF-8 become '?', a cut is shown with "..." at the end, or at the
 * start when keep_tail (the end of a path says most). Returns columns used. */
size_t kt_text_fitted(struct kt_str *line, const char *s, size_t max, bool keep_tail);
/* Columns left on the line. */
size_t kt_text_room(const struct kt_str *line);
/* Write the line and start a new one. */
void kt_text_flush(struct kt_text_out *o);
/* "PID NAME" padded to the widths of the report. */
void kt_text_proc_label(struct kt_text_out *o, const struct kt_mproc *mp);
/* Append text to the line, going on over lines indented by indent at word
 * boundaries when it is full; nothing is cut (a word longer than a line is
 * split over lines). */
void kt_text_flow(struct kt_text_out *o, const char *text, size_t indent);
/* A paragraph wrapped at word boundaries, every line indented. */
void kt_text_paragraph(struct kt_text_out *o, const char *text, size_t indent);
/* A count for people: 1,095. */
void kt_text_count(struct kt_str *t, size_t n);

/* The findings, told by context, after their summary line ("Findings: ..."). */
void kt_text_findings(struct kt_text_out *o, const struct kt_model *m);
/* The notes in words, one entry per kind of note. */
void kt_text_notes(struct kt_text_out *o, const struct kt_model *m);

#endif
