/* Benchmark loop: fork, the child execl()s /bin/true, the parent waitpid()s.
 *
 *   bench_fork_exec [ITERATIONS]     (default 500)
 *
 * Under a preloaded tracer the environment is inherited, so every /bin/true
 * loads the tracer too: this measures fork + exec + start-up + exit of a
 * traced program. Prints one line (see bench.h).
 */
#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 500);

	fflush(NULL);
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		reap(pid, "/bin/true");
	}
	uint64_t t1 = bench_now_ns();

	bench_report("fork_exec", n, t0, t1);
	return 0;
}
