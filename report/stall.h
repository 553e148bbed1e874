/* Whether the traced tree is stuck: every live descendant of the launcher
 * asleep and using no CPU time for a while (--stall=SECONDS). Only then
 * is a live snapshot worth taking to look for a deadlock (deadlock.h). */
#ifndef KT_STALL_H
#define KT_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct kt_stall {
	struct kt_stall_sample {
		pid_t pid;
		unsigned long long start, cpu;
	} *samples;
	size_t n, cap;
	struct timespec since; /* when the samples last changed */
	bool told;             /* this stall was looked at already */
};

/* Sample the tree of root again. True once, when it has been still for
 * at least ms milliseconds: no descendant runnable, none used CPU time,
 * none came or went. A change starts the count again (and lets the next
 * stall be told). */
bool kt_stall_check(struct kt_stall *s, pid_t root, long ms);

void kt_stall_free(struct kt_stall *s);

#endif
