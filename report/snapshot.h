/* `kcmptrace snapshot PID...`: the live analysis for processes not started
 * under kcmptrace. Each is loaded as a process of a trace without a
 * directory (its image from /proc: argv, exe, parent), then snapshotted
 * from outside like a live traced process (live.h): descriptors, kcmp
 * between all of them, what each is blocked on. */
#ifndef KT_SNAPSHOT_H
#define KT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "trace.h"

/* The trace of pids (with every descendant of each when tree), snapshot
 * taken. NULL with err filled when a pid does not exist. */
struct kt_trace *kt_snapshot_take(const int *pids, size_t n, bool tree, struct kt_error *err);

#endif
