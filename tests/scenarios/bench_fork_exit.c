/* Benchmark loop: fork, the child _exit(0)s at once, the parent waitpid()s.
 *
 *   bench_fork_exit [ITERATIONS]     (default 2000)
 *
 * Under a tracer each child is a traced process with its own start-up and
 * exit snapshot, so this measures the whole per-process cost of tracing.
 * Prints one line (see bench.h).
 */
#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 2000);

	fflush(NULL);
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		reap(pid, "child");
	}
	uint64_t t1 = bench_now_ns();

	bench_report("fork_exit", n, t0, t1);
	return 0;
}
