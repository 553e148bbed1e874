/* Readers of /proc: process identity and the descriptors a process holds.
 * No malloc: callers pass the buffers. */
#ifndef KT_PROCFS_H
#define KT_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include "record.h"

/* Set by the shim while a short-lived descriptor of its own cannot take a
 * number the application would have got: one thread, signals blocked
 * (shim/own_fds.c). Otherwise every descriptor opened here is moved up
 * out of the application's way at once (kt_sys_move_high). */
extern __thread int kt_fds_may_stay_low __attribute__((tls_model("initial-exec")));

/* Start time of PID (field 22 of /proc/PID/stat, clock ticks since boot),
 * its parent pid and state letter. Returns 0, or -errno (-ESRCH when the
 * process does not exist). */
int kt_proc_stat(pid_t pid, unsigned long long *start, pid_t *ppid, char *state);

/* CLOCK_BOOTTIME now in ns: the clock whose ticks /proc/PID/stat's start
 * time counts (no system call: the vDSO has it). */
unsigned long long kt_boot_ns(void);

/* The start time /proc/PID/stat gives a process made between two readings
 * of kt_boot_ns, when both fall in one clock tick (the usual case: a fork
 * takes far less than a tick), without reading it: true and *start, else
 * false. */
bool kt_start_between(unsigned long long before, unsigned long long after, unsigned long long *start);

/* The same and its CPU time (utime + stime, clock ticks), all at once. */
struct kt_proc_stat {
	char state;
	pid_t ppid;
	unsigned long long cpu, start;
};
int kt_proc_stat_all(pid_t pid, struct kt_proc_stat *out);

/* "PID-START" followed by suffix, the name of a process's files in a trace
 * (record.h); out holds at least 48 bytes more than suffix. No malloc, no
 * stdio: safe in a fork child of a threaded program. */
void kt_proc_name(char *out, pid_t pid, unsigned long long start, const char *suffix);

/* 1 if PID exists, is not a zombie and started at START. */
int kt_proc_alive(pid_t pid, unsigned long long start);

/* Descriptor numbers open in PID ("self" when pid is 0), ascending, at most
 * max of them, skipping the descriptor used for the listing. Returns the
 * number found (which may exceed max: then only max were stored), or -errno. */
long kt_proc_list_fds(pid_t pid, int *fds, size_t max);

/* A list of descriptor numbers that grows as needed: grow(ctx, old, size)
 * gives room for size bytes (an arena in the shim, realloc in the report;
 * old may be dropped or kept). */
struct kt_fd_list {
	int *fds;
	size_t cap;
	void *(*grow)(void *ctx, void *old, size_t size);
	void *ctx;
};

/* All descriptor numbers open in PID (0: this process) into l, listed again
 * in more room while the process opens more. Returns their number, or
 * -errno (-ENOMEM when grow fails). */
long kt_proc_list_all(pid_t pid, struct kt_fd_list *l);

struct kt_fd_info {
	enum kt_fd_type type;
	uint64_t dev, ino;
	int access;   /* O_RDONLY, O_WRONLY or O_RDWR; -1 when unknown */
	int cloexec;  /* 0, 1; -1 when unknown */
	char target[4096];
};

/* Describe a descriptor of PID (0: this process). Returns 0 or -errno. */
int kt_fd_describe(pid_t pid, int fd, struct kt_fd_info *info);

/* Another process's /proc/PID/fd and /proc/PID/fdinfo, opened once to
 * describe many of its descriptors (the report's live snapshots): each is
 * then looked up by its number alone. Not for the shim: these descriptors
 * are neither high nor hidden. kt_proc_fd_dirs returns 0 or -errno. */
struct kt_proc_fd_dirs {
	int fd, fdinfo;
};
int kt_proc_fd_dirs(pid_t pid, struct kt_proc_fd_dirs *dirs);
void kt_proc_fd_dirs_close(struct kt_proc_fd_dirs *dirs);
/* kt_fd_describe of descriptor fd of the process of dirs. */
int kt_fd_describe_in(const struct kt_proc_fd_dirs *dirs, int fd, struct kt_fd_info *info);

/* What a caller knows of its own descriptor: its access mode (O_ACCMODE),
 * valid when the descriptor is still that file (dev, ino). */
struct kt_fd_known {
	uint64_t dev, ino;
	int access;
	const char *target; /* what /proc/self/fd/N read once, or NULL */
};
/* kt_fd_describe, taking the access mode from known (NULL: nothing known)
 * instead of F_GETFL when it is this process's descriptor of that file,
 * and its target instead of readlink for a device, FIFO or socket of that
 * inode (a socket's target is its inode's name in any case). */
int kt_fd_describe_known(pid_t pid, int fd, struct kt_fd_info *info, const struct kt_fd_known *known);

/* Only (dev, ino) of PID's descriptor FD, by stat of /proc/PID/fd/FD. */
int kt_fd_inode(pid_t pid, int fd, uint64_t *dev, uint64_t *ino);

#endif
