/* Contexts of findings, as valgrind groups its errors ("N errors in M
 * contexts"): findings of one kind and severity, from one origin (the
 * program, call and call site, model.h kt_finding_origin) and about one
 * target pattern (a path's last component, digits aside; pipe:[*],
 * socket:[*]...) are one context, which the text report tells once with a
 * count. Computed from the findings left after suppressions, in their
 * order: contexts are numbered by their first finding. */
#ifndef KT_FINDINGS_GROUP_H
#define KT_FINDINGS_GROUP_H

#include <stddef.h>

#include "model.h"

struct kt_finding_context {
	int id;            /* 1-based */
	size_t first;      /* index of its first finding in model->findings */
	size_t count;      /* its findings */
	int *procs;        /* the processes (indices) they are about, each once, in order */
	size_t nprocs;
	int fd_min, fd_max; /* the descriptor numbers (-1 -1 when none) */
	char *target;      /* the common target, a pattern with '*' where they differ, or NULL */
};

struct kt_finding_contexts {
	struct kt_finding_context *items;
	size_t n;
	int *of;           /* per finding: the id of its context */
	size_t by_severity[3]; /* findings per enum kt_severity */
};

void kt_finding_contexts_build(const struct kt_model *model, struct kt_finding_contexts *out);
void kt_finding_contexts_free(struct kt_finding_contexts *contexts);

/* The pattern of targets: their common part with '*' where they differ.
 * Paths keep their common leading and trailing directories and a last
 * component that differs only in digits ("/b/" "*" "/link.txt"); other
 * targets are cut at punctuation ("pipe:[" "*" "]"). Exposed for tests;
 * caller frees. */
char *kt_target_pattern(const char *const *targets, size_t n);

#endif
