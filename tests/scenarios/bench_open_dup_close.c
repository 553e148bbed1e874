/* Benchmark loop: open("/dev/null"), dup, close, close.
 *
 *   bench_open_dup_close [ITERATIONS]     (default 200000)
 *
 * Measures the per-call cost a preloaded tracer adds to the commonest
 * descriptor calls. Prints one line (see bench.h).
 */
#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 200000);

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0)
			die("open /dev/null");
		int fd2 = dup(fd);
		if (fd2 < 0)
			die("dup");
		if (close(fd) != 0)
			die("close %d", fd);
		if (close(fd2) != 0)
			die("close %d", fd2);
	}
	uint64_t t1 = bench_now_ns();

	bench_report("open_dup_close", n, t0, t1);
	return 0;
}
