/* kcmp-ordered grouping (see kcmp_group.h). */
#include "kcmp_group.h"
#include "sys.h"

#include <linux/kcmp.h>
#include <string.h>

int kt_kcmp_file(pid_t pid1, int fd1, pid_t pid2, int fd2)
{
	return kt_sys_kcmp(pid1, pid2, KCMP_FILE, fd1, fd2);
}

int kt_kcmp_probe(int any_fd)
{
	pid_t self = kt_sys_getpid();
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
	if (!stats->first_error)
		stats->first_error = r < 0 ? r : -EINVAL;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->fd < b->fd ? -1 : (a->fd > b->fd);
}

void kt_desc_sort(struct kt_desc *d, size_t n, struct kt_desc *scratch, struct kt_group_stats *stats)
{
	/* Bottom-up merge sort: O(n log n) comparisons, no recursion, no malloc. */
	struct kt_desc *src = d, *dst = scratch;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;
			/* Already ordered runs (common: buckets differ) cost one compare. */
			if (mid < hi && kt_desc_compare(&src[mid - 1], &src[mid], stats) <= 0) {
				memcpy(&dst[lo], &src[lo], (hi - lo) * sizeof *d);
				continue;
			}
			while (i < mid && j < hi)
				dst[k++] = kt_desc_compare(&src[j], &src[i], stats) < 0 ? src[j++] : src[i++];
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
