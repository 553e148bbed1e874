/* Suppression rules for intended sharing (--suppressions=FILE): one rule a
 * line, fields key=GLOB separated by blanks, '#' starts a comment:
 *
 *   kind=pipe-end-held program=make target=pipe:*
 *
 * kind matches the finding's kind, program the basename of the process's
 * program (argv[0] or exe), target what the descriptor refers to, made what
 * the descriptor was made as (origin.made: shell-redirection), frame a
 * function of the creating call: its site's or a recorded caller's (callers
 * are recorded when a rule has a frame, kt_suppressions_need_callers). A missing
 * field matches anything. A suppressed finding is dropped from the report
 * and counted in model->nsuppressed. */
#ifndef KT_SUPPRESS_H
#define KT_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "util.h"

struct kt_suppression {
	char *kind, *program, *target; /* NULL: any */
	char *made; /* NULL: any; else only findings made so (origin.made) */
	char *frame; /* NULL: any; else a function of the creating call's stack */
	char *file;
	int line;
};

struct kt_suppressions {
	struct kt_suppression *rules;
	size_t n, cap;
};

/* Adds the rules of path; false with err ("FILE:LINE: what") on a bad file. */
bool kt_suppressions_load(struct kt_suppressions *s, const char *path, struct kt_error *err);

/* Adds the built-in rules for well-known programs' harmless habits (bash's
 * second close of pipeline pipe ends) and intended sharing (a shell's
 * redirections, made=shell-redirection). */
bool kt_suppressions_load_defaults(struct kt_suppressions *s);

/* Some rule names a frame: the shim must record the creating calls' callers. */
bool kt_suppressions_need_callers(const struct kt_suppressions *s);

/* Drops the findings a rule matches. */
void kt_suppressions_apply(const struct kt_suppressions *s, struct kt_model *model);

void kt_suppressions_free(struct kt_suppressions *s);

#endif
