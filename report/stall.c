/* Stall detection for the launcher (stall.h). */
#include "stall.h"
#include "descendants.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* State letter and utime + stime of PID from /proc/PID/stat; false when
 * it is gone. */
static bool cpu_and_state(pid_t pid, unsigned long long *cpu, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The name may hold spaces and ')': fields restart after the last ')'. */
	char *p = strrchr(buf, ')');
	unsigned long long utime, stime;
	if (p == NULL ||
	    sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", state, &utime,
		   &stime) != 3)
		return false;
	*cpu = utime + stime;
	return true;
}

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
		unsigned long long cpu = 0;
		char state = '?';
		/* R runs, D waits for the kernel (disk, often brief): progress */
		if (!cpu_and_state(ds[i].pid, &cpu, &state) || state == 'R' || state == 'D')
			asleep = false;
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
