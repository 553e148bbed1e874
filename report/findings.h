/* Findings: descriptor-inheritance bugs found in a model. Each has a stable
 * kind, a severity, the process and descriptor it is about, a one-line
 * message and a paragraph saying what will go wrong and how the descriptor
 * got there (the chain of holders from the call that made it).
 *
 *   leaked-across-exec  warning  fd > 2 carried into a new program image
 *                                without being placed there on purpose
 *   pipe-end-held       error    a pipe's write end kept where it stops
 *                                the reader from ever seeing end of file
 *   shared-status-flags warning  F_SETFL on a description others hold
 *   shared-lock         warning  flock / OFD lock on a description others hold
 *   bad-close           error    close of a descriptor already closed (a
 *                                double close)
 *   bad-use             error    read, write, fstat... failed with EBADF on a
 *                                descriptor that was not open (closed before)
 *   close-unopened      info     closes of numbers never open (a sweep),
 *                                once per image
 *   stdio-buffer-duplicated warning  a fork child flushed at exit the
 *                                unflushed stdio output it got from its
 *                                parent: written twice
 *   open-at-exit        info     fd > 2 still open at exit (only with leaks)
 *   deadlock            error    live processes that wait for each other and
 *                                that nothing outside them can wake
 *   stall               info     the same, unless a process that could not be
 *                                inspected wakes them
 *
 * Descriptors inherited from outside the trace (present at start, origin
 * unknown) are never findings by themselves. */
#ifndef KT_FINDINGS_H
#define KT_FINDINGS_H

#include <stdbool.h>

#include "model.h"

struct kt_findings_options {
	bool leaks;           /* open-at-exit findings */
	bool close_minus_one; /* close(-1) is a bad-close finding */
};

/* Every kind above, NULL-terminated (suppression files name them). */
extern const char *const kt_finding_kinds[];

/* Adds the findings to model->findings, sorted by process, fd and kind. */
void kt_findings_find(struct kt_model *model, const struct kt_findings_options *options);

const char *kt_severity_name(enum kt_severity severity);

/* Release a finding's deadlock cycle. */
void kt_finding_free_cycle(struct kt_finding *f);

/* Findings that fail a --error-exitcode gate: errors and warnings, and
 * info findings when counted (--leaks). */
size_t kt_findings_gating(const struct kt_model *model, bool count_info);

#endif
