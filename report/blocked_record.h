/* What a live process was blocked on (blocked.h), kept in its record:
 * the "blocked" lines (record.h) of a snapshot read from outside, written
 * by the launcher's look before a signal and read back by any report of
 * the kept trace, so that both tell the same. */
#ifndef KT_BLOCKED_RECORD_H
#define KT_BLOCKED_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

struct kt_blocked;

/* An upper bound on the bytes kt_blocked_put writes for b. */
size_t kt_blocked_record_size(const struct kt_blocked *b);

/* b's lines: the process's, then one per other thread. */
void kt_blocked_put(struct kt_buf *buf, const struct kt_blocked *b);

/* A "blocked" line read into *slot (a snapshot's blocked): a process line
 * makes it, a thread line adds to its others. False with why set when the
 * lines are out of order (a thread before its process, two processes). */
bool kt_blocked_take(struct kt_blocked **slot, const struct kt_rec_blocked *r, const char **why);

#endif
