/* The snapshot of a process (snapshot.c) as its parts share it: the
 * descriptors collected, the record being written, and the grouping of
 * the descriptors by kcmp, with each other and across the live traced
 * processes (snapshot_group.c). Private to the shim. */
#ifndef KT_SNAPSHOT_IMPL_H
#define KT_SNAPSHOT_IMPL_H

#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "record.h"

struct snap_fd {
	int fd;
	uint32_t gen;
	enum kt_fd_type type;
	int access, cloexec;
	char *target;
	char *site;
	/* A socket's addresses (kt_sock_address), when has_addr: NULL when
	 * none, "" when unnamed. */
	bool has_addr, listening;
	char *local, *peer;
	struct kt_fd_entry entry;
};

struct snapshot {
	struct kt_arena arena;
	struct snap_fd *fds;
	size_t n;
	struct kt_desc *sorted; /* this process's descriptors in kcmp order */
	size_t *sorted_pos;     /* fds[i] is sorted[sorted_pos[i]] */
	/* One description of ours needs one `same` line to one other live
	 * holder: that holder ends later, and its own snapshot links it on
	 * (each holder links to one that outlives it, so all are joined). */
	size_t *group_of;       /* sorted[j]'s description: its first index */
	unsigned char *linked;  /* by first index: linked to another process */
	size_t unlinked;        /* descriptions not linked yet */
	struct kt_group_stats stats;
	struct kt_buf out;
	struct kt_fd_list others; /* room to list other processes' descriptors */
	/* The callers of a creating call, as "stack" writes them. */
	char (*stack_text)[KT_SITE_TEXT];
	char *stack_sites[KT_STACK_MAX];
	unsigned long live;
	pid_t parent_now; /* getppid() when the comparisons began */
	int kcmp_error; /* 0 when kcmp works */
	bool closed_stopped; /* no room was left for closed records */
	/* The numbers listed, for the real end (real_end.c). */
	struct kt_fd_numbers listed;
};

/* The record's buffer, with room for the longest line (it grows). */
struct kt_buf *kt_snap_out(struct snapshot *s);
/* A note record: a, then num (when >= 0), then c. */
void kt_snap_note(struct snapshot *s, const char *a, long num, const char *c);

/* Sort this process's descriptors in kcmp order; adjacent equal ones share
 * (same records). */
void kt_snap_group_own(struct snapshot *s);
/* Link each description of ours to one other live traced process that
 * holds it (same records), and observe the untraced images. */
void kt_snap_group_across(struct snapshot *s);

#endif
