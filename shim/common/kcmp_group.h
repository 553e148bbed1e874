/* Grouping descriptors by open file description with kcmp(KCMP_FILE).
 *
 * kcmp orders descriptions (0 equal, 1 less, 2 greater) by an obfuscated
 * kernel pointer that is stable within a boot, so grouping is a sort: first
 * by (st_dev, st_ino), which two descriptors of one description always
 * share, then by kcmp inside a bucket. Never an all-pairs loop.
 * Both processes of a comparison must be alive. No malloc here. */
#ifndef KT_KCMP_GROUP_H
#define KT_KCMP_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kt_desc {
	pid_t pid;
	int fd;
	uint64_t dev, ino;
	uint32_t gen;   /* caller's tag (generation), carried along */
	uint32_t index; /* caller's tag (e.g. position in its own array) */
};

/* kcmp(2) for KCMP_FILE: 0 equal, 1 less, 2 greater, 3 unordered, or -errno
 * (-ENOSYS, -EPERM: kcmp unavailable; -EBADF, -ESRCH: a side vanished). */
int kt_kcmp_file(pid_t pid1, int fd1, pid_t pid2, int fd2);

/* Whether kcmp works for this process: 0, or the -errno that it failed with.
 * any_fd: a descriptor of this process to probe with, or -1. */
int kt_kcmp_probe(int any_fd);
/* The same, for a caller that knows its pid (one call fewer). */
int kt_kcmp_probe_as(pid_t self, int any_fd);

struct kt_group_stats {
	unsigned long kcmp_calls;
	unsigned long kcmp_errors; /* failed comparisons: order then falls back to (pid, fd) */
	int first_error;           /* -errno of the first failure */
	int last_error;            /* -errno of the latest failure */
};

/* Three-way comparison: by (dev, ino), then kcmp. Returns <0, 0, >0. */
int kt_desc_compare(const struct kt_desc *a, const struct kt_desc *b, struct kt_group_stats *stats);

/* Stable merge sort of n descriptors into kcmp order; scratch holds n. */
void kt_desc_sort(struct kt_desc *d, size_t n, struct kt_desc *scratch, struct kt_group_stats *stats);

/* kt_desc_sort, and where each open file description's run begins:
 * starts[i] is 1 when d[i] is the first of one, else 0 (starts holds n).
 * The sort is by inode first; a bucket of one description (the common
 * case) then costs one kcmp call per descriptor after its first. */
void kt_desc_group(struct kt_desc *d, size_t n, struct kt_desc *scratch, unsigned char *starts,
		   struct kt_group_stats *stats);

/* In an array sorted by kt_desc_sort, the index of a descriptor of the same
 * open file description as *key, or -1. O(log n) kcmp calls. */
long kt_desc_find(const struct kt_desc *sorted, size_t n, const struct kt_desc *key,
		  struct kt_group_stats *stats);

#endif
