/* The deadlock finding (deadlock.c), for callers outside the findings: the
 * launcher's stall and signal handling (issue 11) takes a live snapshot
 * (kt_trace_capture_live_why, live.h), builds the model, runs
 * kt_findings_find (which adds the deadlock findings) and asks here. */
#ifndef KT_DEADLOCK_H
#define KT_DEADLOCK_H

#include <stddef.h>

#include "model.h"

/* The number of deadlock findings in the model (each one cycle). */
size_t kt_model_deadlocks(const struct kt_model *m);

#endif
