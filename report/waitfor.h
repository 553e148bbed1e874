/* The wait-for graph of a model's live processes (from their live
 * snapshots' "blocked"): who each blocked process waits for. A reader of a
 * pipe or FIFO waits for every holder of a write end (itself included),
 * a writer to a full pipe for the holders of its read end, wait4 for the
 * children it waits on, a lock waiter for the holders of the lock; poll,
 * select and epoll for any of those of their set. Whatever outside the
 * processes looked at could wake one (a timer, a terminal, a socket, a
 * pipe end or a child outside them, a process we may not inspect) makes
 * it free, with the reason. */
#ifndef KT_WAITFOR_H
#define KT_WAITFOR_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "sysscan.h"
#include "unix_peers.h"

/* What one blocked process waits on, for the words of a finding. */
enum kt_wait_on { KT_WAIT_READ, KT_WAIT_WRITE, KT_WAIT_CHILD, KT_WAIT_LOCK, KT_WAIT_SET };

/* A descriptor that could wake a waiter, in the process holding it. */
struct kt_waker {
	int proc; /* model index */
	int fd;
};

struct kt_wait {
	const struct kt_blocked *b; /* NULL: not live, or not read */
	enum kt_wait_on on;
	int fd, ofd;          /* the descriptor it waits on (READ, WRITE, LOCK), else -1, 0 */
	const char *target;   /* what that descriptor refers to, or NULL */
	const char *peer;     /* a UNIX socket's: the other end (socket:[N]), or NULL */
	const char *free_why; /* not NULL: it is not stuck, or something outside can wake it */
	bool unknown;         /* free only because a process could not be inspected */
	char why_buf[320];
	struct kt_waker *wakers; /* processes (and their descriptors) it waits for */
	size_t nwakers, wakers_cap;
	/* Descriptions to look for outside (kt_waitfor_outside): a target and
	 * the access (O_RDONLY, O_WRONLY, -1 any) that would wake it. */
	struct kt_outside_check {
		const char *target;
		int access;
	} *checks;
	size_t nchecks, checks_cap;
};

struct kt_waitfor {
	struct kt_wait *w; /* one per model process, same index */
	size_t n;
	bool any_blocked;  /* some live process is blocked on something at all */
	struct kt_sys sys; /* the system's processes, read when first needed */
	bool scanned;
	struct kt_unix_peers peers; /* UNIX sockets' peers, read when first needed */
	bool peers_read;
	int *live;         /* pids of the model's live processes */
	size_t nlive;
};

void kt_waitfor_build(const struct kt_model *m, struct kt_waitfor *g);
void kt_waitfor_free(struct kt_waitfor *g);

/* Look system-wide for what could wake process proc from outside (a
 * holder of the other end of its pipe, of its locked file, or a process
 * that could not be inspected: then unknown is set too): it is then
 * free, with the reason.
 * Costly (every process's descriptors), so only for the processes that
 * look stuck. Returns whether it became free. */
bool kt_waitfor_outside(struct kt_waitfor *g, int proc);

/* Whether wait w names process proc among its wakers. */
bool kt_wait_names(const struct kt_wait *w, int proc);

#endif
