/* Renderers of a model: the text report (for people, 100 columns) and the
 * JSON report (a contract, see the README of the CLI). */
#ifndef KT_RENDER_H
#define KT_RENDER_H

#include <stdio.h>

#include "model.h"

enum kt_format { KT_FORMAT_TEXT, KT_FORMAT_JSON, KT_FORMAT_DOT };

#define KT_TEXT_COLUMNS 100

void kt_render_text(FILE *out, const struct kt_model *model);
void kt_render_json(FILE *out, const struct kt_model *model);
/* A Graphviz graph: the process tree, shared descriptions, findings in red. */
void kt_render_dot(FILE *out, const struct kt_model *model);

/* Renders in the given format; returns 0, or -1 if writing failed. */
int kt_render(FILE *out, const struct kt_model *model, enum kt_format format);

#endif
