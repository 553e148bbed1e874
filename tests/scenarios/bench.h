/* Helpers shared by the bench_* loop programs (header only, like
 * scenario.h; this file is not itself a program because it is not a .c).
 *
 * Every bench program takes an iteration count as its first argument, times
 * only its loop with CLOCK_MONOTONIC (so that process start-up and exit,
 * where a preloaded tracer does its set-up and its exit snapshot, are left
 * out) and prints one line on stdout:
 *     NAME iters=N elapsed_ns=T ns_per_iter=X
 * scripts/bench parses that line.
 */
#ifndef KT_BENCH_H
#define KT_BENCH_H

#include "scenario.h"

#include <stdint.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline long bench_iters(int argc, char **argv, long dflt)
{
	if (argc < 2)
		return dflt;
	char *end;
	errno = 0;
	long n = strtol(argv[1], &end, 10);
	if (errno || *end || n < 1) {
		fprintf(stderr, "usage: %s [ITERATIONS>=1]\n", program_invocation_short_name);
		exit(2);
	}
	return n;
}

static inline void bench_report(const char *name, long iters, uint64_t t0, uint64_t t1)
{
	uint64_t ns = t1 - t0;
	printf("%s iters=%ld elapsed_ns=%llu ns_per_iter=%.1f\n", name, iters,
	       (unsigned long long)ns, (double)ns / (double)iters);
	fflush(stdout);
}

#endif
