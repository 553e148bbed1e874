/* Processes whose trace could not be written in full (record.h
 * "unrecorded"): sandboxed helpers (man-db's seccomp filter), a full disk.
 * The shim keeps the loss in the record when it can, else in its table;
 * the report moves what the tables kept into the records, marks the
 * processes, and the launcher says it once for the run. */
#ifndef KT_UNRECORDED_H
#define KT_UNRECORDED_H

#include <stdio.h>

#include "model.h"
#include "trace.h"

/* Before the trace is loaded: what the tables of ended processes in
 * DIR/live kept goes into their records, and a fork child that named
 * itself in its parent's table gets a record of its own (the parent's
 * image, and its loss). Safe to run again: nothing is added twice. */
void kt_trace_collect_unrecorded(const char *dir);

/* After the snapshots the report takes itself (live.h): an ended process
 * with no snapshot of its end and no table lost its end, reason unknown;
 * marked, in memory and in its record. */
void kt_trace_infer_unrecorded(struct kt_trace *trace);

/* Why, in words: "a seccomp filter refused writing the trace (ENOSYS)". The cause's name for JSON: "seccomp", "permission", "error",
 * or NULL when unknown. */
const char *kt_unrecorded_reason(const struct kt_rec_unrecorded *u, char *buf, size_t len);
const char *kt_unrecorded_cause(const struct kt_rec_unrecorded *u);
/* A loss told as the notes are (notes.h): what is missing and why, what
 * it means for the report, what to do; its kind groups the same losses.
 * Free with kt_note_words_free. The same as one paragraph (caller frees). */
struct kt_note_words;
void kt_unrecorded_words(const struct kt_rec_unrecorded *u, struct kt_note_words *w);
char *kt_unrecorded_paragraph(const struct kt_rec_unrecorded *u);
/* The program a loss concerns: an exec's, else the process's. */
const char *kt_unrecorded_program(const struct kt_mproc *mp);

/* The launcher's word on the run: one line per reason on stderr naming the
 * processes (pid and program), nothing when every process was recorded. */
void kt_unrecorded_say(const struct kt_model *m);

#endif
