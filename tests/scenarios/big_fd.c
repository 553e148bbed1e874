/* A descriptor near the top of a raised limit: the shim's memory must stay
 * proportional to the descriptors in use, not to the limit.
 *
 *   big_fd [LIMIT]     (default 1048576, or the most this process may get)
 *
 * Raises RLIMIT_NOFILE, dup2s a file onto LIMIT-1, forks a child that
 * holds it too, and reports its own resident memory once the child is
 * done with it.
 *
 * stdout: big_fd=N rss_kb=N
 */
#include "scenario.h"

#include <sys/resource.h>

int main(int argc, char **argv)
{
	rlim_t want = argc > 1 ? (rlim_t)atol(argv[1]) : 1048576;
	struct rlimit rl = {want, want};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		/* not allowed to raise the hard limit: take what there is */
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("getrlimit");
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("setrlimit");
	}
	int fd = xopen("/proc/self/exe", O_RDONLY);
	int big = (int)rl.rlim_cur - 1;
	if (dup2(fd, big) != big)
		die("dup2 %d", big);
	close(fd);
	int go;
	pid_t child = fork_holder(&go);
	printf("big_fd=%d rss_kb=%ld\n", big, proc_status_field("VmRSS"));
	fflush(stdout);
	signal_go(go);
	reap(child, "child");
	return 0;
}
