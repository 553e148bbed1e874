/* The processes that descend from the launcher now: the command's tree,
 * orphans it adopted as child subreaper included, read from /proc. */
#ifndef KT_DESCENDANTS_H
#define KT_DESCENDANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct kt_descendant {
	pid_t pid, ppid, pgid, sid;
	unsigned long long start;
	char comm[64]; /* /proc/PID/comm, the program's short name */
};

/* The living (not zombie) descendants of root, oldest first (a parent
 * before its children), into *out
 * (malloc'd; the caller frees). Returns their number. */
size_t kt_descendants(pid_t root, struct kt_descendant **out);

/* Whether d is in session sid: a daemon that called setsid() is not. */
static inline bool kt_descendant_in_session(const struct kt_descendant *d, pid_t sid)
{
	return d->sid == sid;
}

#endif
