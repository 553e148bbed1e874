/* kcmp-ordered grouping (see kcmp_group.h). */
#include "kcmp_group.h"
#include "sys.h"

#include <linux/kcmp.h>
#include <stdbool.h>
#include <string.h>

int kt_kcmp_file(pid_t pid1, int fd1, pid_t pid2, int fd2)
{
	return kt_sys_kcmp(pid1, pid2, KCMP_FILE, fd1, fd2);
}

int kt_kcmp_probe(int any_fd)
{
	return kt_kcmp_probe_as(kt_sys_getpid(), any_fd);
}

int kt_kcmp_probe_as(pid_t self, int any_fd)
{
	/* Any descriptor works; a process with none gets one of ours. */
	int fd = any_fd >= 0 ? any_fd : kt_sys_open_high(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	int r = kt_kcmp_file(self, fd, self, fd);
	if (fd != any_fd)
		kt_sys_close(fd);
	if (r == 0)
		return 0;
	return r < 0 ? r : -EINVAL;
}

int kt_desc_compare(const struct kt_desc *a, const struct kt_desc *b, struct kt_group_stats *stats)
{
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->pid == b->pid && a->fd == b->fd)
		return 0;
	stats->kcmp_calls++;
	int r = kt_kcmp_file(a->pid, a->fd, b->pid, b->fd);
	if (r == 0)
		return 0;
	if (r == 1)
		return -1;
	if (r == 2)
		return 1;
	/* Unknown is never "different" in a report, but a sort needs an order. */
	stats->kcmp_errors++;
	stats->last_error = r < 0 ? r : -EINVAL;
	if (!stats->first_error)
		stats->first_error = stats->last_error;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->fd < b->fd ? -1 : (a->fd > b->fd);
}

typedef int desc_cmp(const struct kt_desc *a, const struct kt_desc *b, struct kt_group_stats *stats);

/* Bottom-up merge sort: O(n log n) comparisons, stable, no recursion, no malloc. */
static void merge_sort(struct kt_desc *d, size_t n, struct kt_desc *scratch, desc_cmp *cmp,
		       struct kt_group_stats *stats)
{
	struct kt_desc *src = d, *dst = scratch;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;
			/* Already ordered runs (common: buckets differ) cost one compare. */
			if (mid < hi && cmp(&src[mid - 1], &src[mid], stats) <= 0) {
				memcpy(&dst[lo], &src[lo], (hi - lo) * sizeof *d);
				continue;
			}
			while (i < mid && j < hi)
				dst[k++] = cmp(&src[j], &src[i], stats) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		struct kt_desc *t = src;
		src = dst;
		dst = t;
	}
	if (src != d)
		memcpy(d, src, n * sizeof *d);
}

void kt_desc_sort(struct kt_desc *d, size_t n, struct kt_desc *scratch, struct kt_group_stats *stats)
{
	merge_sort(d, n, scratch, kt_desc_compare, stats);
}

static int by_inode(const struct kt_desc *a, const struct kt_desc *b, struct kt_group_stats *stats)
{
	(void)stats;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->ino < b->ino ? -1 : (a->ino > b->ino);
}

/* A bucket this small is grouped by inserting each descriptor among the
 * descriptions found so far (a binary search of their first holders):
 * n log g kcmp calls, with no pass over neighbours after, and the common
 * bucket of one description costs one call per holder after the first. */
#define SMALL_BUCKET 64

/* Group d[0, n) (one inode's, n <= SMALL_BUCKET) into out, each
 * description's holders together in kcmp order; starts as for
 * kt_desc_group. */
static void group_small(const struct kt_desc *d, size_t n, struct kt_desc *out, unsigned char *starts,
			struct kt_group_stats *stats)
{
	size_t first[SMALL_BUCKET + 1]; /* where each description begins in out */
	size_t g = 0, len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = g;
		bool same = false;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = kt_desc_compare(&d[i], &out[first[mid]], stats);
			if (c == 0) {
				lo = mid;
				same = true;
				break;
			}
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		/* Its place: after the holders of its description, or where a
		 * new one begins. */
		size_t at = same ? (lo + 1 < g ? first[lo + 1] : len) : (lo < g ? first[lo] : len);
		memmove(&out[at + 1], &out[at], (len - at) * sizeof *out);
		out[at] = d[i];
		len++;
		if (!same) {
			memmove(&first[lo + 1], &first[lo], (g - lo) * sizeof *first);
			first[lo] = at;
			g++;
		}
		for (size_t k = lo + 1; k < g; k++)
			first[k]++;
	}
	memset(starts, 0, n);
	for (size_t k = 0; k < g; k++)
		starts[first[k]] = 1;
}

void kt_desc_group(struct kt_desc *d, size_t n, struct kt_desc *scratch, unsigned char *starts,
		   struct kt_group_stats *stats)
{
	merge_sort(d, n, scratch, by_inode, stats);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo + 1; hi < n && by_inode(&d[lo], &d[hi], stats) == 0; hi++)
			;
		starts[lo] = 1;
		if (hi - lo == 1)
			continue;
		if (hi - lo <= SMALL_BUCKET) {
			group_small(d + lo, hi - lo, scratch, starts + lo, stats);
			memcpy(d + lo, scratch, (hi - lo) * sizeof *d);
			continue;
		}
		/* The common bucket is one description (a file inherited by
		 * every process): one call per other holder, and no sort. */
		size_t k = lo + 1;
		for (; k < hi; k++) {
			stats->kcmp_calls++;
			if (kt_kcmp_file(d[lo].pid, d[lo].fd, d[k].pid, d[k].fd) != 0)
				break;
			starts[k] = 0;
		}
		if (k == hi)
			continue;
		kt_desc_sort(d + lo, hi - lo, scratch, stats);
		for (k = lo + 1; k < hi; k++)
			starts[k] = kt_desc_compare(&d[k - 1], &d[k], stats) != 0;
	}
}

long kt_desc_find(const struct kt_desc *sorted, size_t n, const struct kt_desc *key,
		  struct kt_group_stats *stats)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = kt_desc_compare(key, &sorted[mid], stats);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}
