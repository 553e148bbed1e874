/* What a live process is blocked on, read from outside: /proc/PID/syscall
 * (the call and its arguments), wchan and stat, and for poll and select
 * the descriptor set from the process's memory (process_vm_readv), for
 * epoll its interest list from /proc/PID/fdinfo. Needs ptrace-attach
 * permission on the process for the call; without it only the state. */
#ifndef KT_BLOCKED_H
#define KT_BLOCKED_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h" /* enum kt_block_kind */

/* One descriptor of a poll/select/epoll set and what it waits for. */
struct kt_blocked_fd {
	int fd;
	bool in, out;
};

struct kt_blocked {
	enum kt_block_kind kind;
	const char *call;  /* "read", "wait4", "poll"...; NULL when running or unknown */
	long nr;           /* the system call number, -1 when none */
	int fd;            /* FD and LOCK: the descriptor; else -1 */
	bool in, out;      /* FD: waits to read (or accept), to write (or connect) */
	int pid;           /* WAIT: pid waited for; -1 any child; < -1 the group -pid */
	bool timeout;      /* a timer wakes it (poll with a timeout...) */
	struct kt_blocked_fd *fds; /* FDS: the set, when it could be read */
	size_t nfds;
	bool fds_known;
	char *path;        /* FIFO_OPEN: the path opened (malloc'd), NULL when unreadable */
	int threads;       /* threads in the process */
	/* The thread whose call this is: 0 for the main thread. A process
	 * whose main thread waits in a call not followed here (futex,
	 * pthread_join) is described by a thread that waits on descriptors,
	 * a child or a lock, when one does. */
	int tid;
	/* futex: a wait on private memory, which only the process's own
	 * threads can end (pthread_join, a mutex, a condition variable). */
	bool futex_own;
	/* The other threads' calls (each with no others of its own), and
	 * whether every thread could be read. */
	struct kt_blocked *others;
	size_t nothers;
	bool all_threads;
	char state;        /* field 3 of stat: S, D, R, T... ('?' when unreadable) */
	unsigned long long cpu; /* utime + stime (clock ticks): a stall uses none */
	char wchan[64];    /* kernel function it sleeps in, "" when unknown */
	int error;         /* errno when the call could not be read (EACCES...), else 0 */
};

/* Fill out for process pid. Returns 0, or an errno when the process is
 * gone (ESRCH); a call we may not read leaves kind OTHER with out->error
 * set. Release with kt_blocked_free. */
int kt_blocked_read(int pid, struct kt_blocked *out);
void kt_blocked_free(struct kt_blocked *b);

/* "read on fd 3", "wait4 for 1234", "poll on fds 3, 5", "running"... */
void kt_blocked_describe(const struct kt_blocked *b, char *buf, size_t len);

#endif
