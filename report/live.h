/* Snapshots the report takes itself. Processes of a trace that are still
 * running when the report is made:
 * their descriptors as they are now, read from outside (the shim's shared
 * table for generations and origins, /proc for the rest), and kcmp between
 * them, added to each as a snapshot of kind "live". */
#ifndef KT_LIVE_H
#define KT_LIVE_H

#include "trace.h"

/* Returns the number of processes captured. */
size_t kt_trace_capture_live(struct kt_trace *trace);

/* The same, taken for a reason the report shows as snapshot.why: "stall",
 * "signal", "request" or "snapshot" (a static string; NULL: "live"). Each
 * live process's snapshot also says what it is blocked on (blocked.h);
 * kt_findings_find then runs the deadlock analysis (deadlock.h) on the
 * model built from the trace. Returns the number of processes captured. */
size_t kt_trace_capture_live_why(struct kt_trace *trace, const char *why);

/* The launcher's look at every traced process alive now (a signal is
 * about to end the run): the same as kt_trace_capture_live, written into
 * each one's record (DIR/PID-START.rec) as a snapshot of kind "signal", so
 * that the report made once they have ended still has it, with what each
 * was blocked on ("blocked" lines). Returns the number of processes
 * written. */
size_t kt_live_snapshot_trace(const char *dir);

/* Processes that ended without a snapshot of their own (exit_group outside
 * libc, killed by a signal) but left their shared table: its descriptors
 * and their origins, as a snapshot of kind "table" with a note; no kcmp.
 * Returns the number of processes captured. Run after capture_live. */
size_t kt_trace_capture_left(struct kt_trace *trace);

/* The launcher's look at an untraced image stopped at its exit (watch.c):
 * its descriptors from /proc, compared with kcmp among themselves and with
 * every live traced process, appended to DIR/PID-START.rec as a snapshot of
 * kind "exit-observed". Returns false (with a message) if it could not be
 * written. */
bool kt_live_observe_exit(const char *dir, int pid, unsigned long long start);

#endif
