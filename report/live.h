/* Processes of a trace that are still running when the report is made:
 * their descriptors as they are now, read from outside (the shim's shared
 * table for generations and origins, /proc for the rest), and kcmp between
 * them, added to each as a snapshot of kind "live". */
#ifndef KT_LIVE_H
#define KT_LIVE_H

#include "trace.h"

/* Returns the number of processes captured. */
size_t kt_trace_capture_live(struct kt_trace *trace);

#endif
