/* The processes of the whole system, as far as we may look: what can
 * wake a set of processes from outside it (a child it waits for, a pipe
 * end or a file it shares) must be looked for everywhere. */
#ifndef KT_SYSSCAN_H
#define KT_SYSSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct kt_sys_proc {
	int pid, ppid, pgrp;
	bool kthread; /* a kernel thread: holds no descriptor */
	char name[32];
};

struct kt_sys {
	struct kt_sys_proc *procs;
	size_t n, cap;
};

/* Every process in /proc now. */
void kt_sys_scan(struct kt_sys *s);
void kt_sys_free(struct kt_sys *s);

/* Whether a process outside set (pids, n of them) holds a descriptor on
 * target ("pipe:[123]", a path) opened for access (O_RDONLY: reading,
 * O_WRONLY: writing, -1: any); a read-write one counts for both.
 * Returns 1 (who, in words, into why), 0 when none does, -1 when some
 * process could not be inspected (why says which and why). */
int kt_sys_holds(const struct kt_sys *s, const int *set, size_t n, const char *target, int access,
		 char *why, size_t len);

#endif
