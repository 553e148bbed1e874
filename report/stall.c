/* Stall detection for the launcher (stall.h). */
#include "stall.h"
#include "descendants.h"
#include "procfs.h"
#include "util.h"

#include <stdlib.h>

static long ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Whether sample i still holds for d (same process, same CPU time). */
static bool unchanged(const struct kt_stall *s, size_t i, const struct kt_descendant *d,
		      unsigned long long cpu)
{
	return i < s->n && s->samples[i].pid == d->pid && s->samples[i].start == d->start &&
	       s->samples[i].cpu == cpu;
}

bool kt_stall_check(struct kt_stall *s, pid_t root, long ms)
{
	struct kt_descendant *ds;
	size_t n = kt_descendants(root, &ds);
	bool still = n > 0 && n == s->n, asleep = n > 0;
	for (size_t i = 0; i < n; i++) {
		struct kt_proc_stat st = {0};
		/* R runs, D waits for the kernel (disk, often brief): progress */
		if (kt_proc_stat_all(ds[i].pid, &st) != 0 || st.start != ds[i].start || st.state == 'R' ||
		    st.state == 'D')
			asleep = false;
		unsigned long long cpu = st.cpu;
		still = still && unchanged(s, i, &ds[i], cpu);
		if (i == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 16;
			s->samples = kt_xrealloc(s->samples, s->cap * sizeof *s->samples);
		}
		s->samples[i] = (struct kt_stall_sample){ds[i].pid, ds[i].start, cpu};
	}
	free(ds);
	s->n = n;
	if (!still || !asleep) {
		clock_gettime(CLOCK_MONOTONIC, &s->since);
		s->told = false;
		return false;
	}
	if (s->told || ms_since(&s->since) < ms)
		return false;
	s->told = true;
	return true;
}

void kt_stall_free(struct kt_stall *s)
{
	free(s->samples);
	*s = (struct kt_stall){0};
}
