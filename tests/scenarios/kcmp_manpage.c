/* The example of the kcmp(2) man page, as a process tree to trace.
 *
 *   kcmp_manpage [FILE]          (FILE defaults to this program itself)
 *
 * The parent opens FILE (shared_fd) and forks: the child's copy of shared_fd
 * is the same open file description as the parent's. The parent then opens
 * FILE a second time (second_fd: a new description, not shared) and dup()s
 * shared_fd (dup_fd: the same description again). The child stays alive until
 * the parent has done all that, so kcmp can compare them.
 *
 * stdout: shared_fd=N second_fd=N dup_fd=N
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int shared = xopen(path, O_RDONLY);
	int go;
	pid_t child = fork_holder(&go);

	int second = xopen(path, O_RDONLY);
	int dup_fd = dup(shared);
	if (dup_fd < 0)
		die("dup");

	printf("shared_fd=%d second_fd=%d dup_fd=%d\n", shared, second, dup_fd);
	fflush(stdout);

	signal_go(go);
	reap(child, "child");
	return 0;
}
