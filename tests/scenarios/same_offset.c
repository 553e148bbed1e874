/* Two separate opens that look alike in every way but one.
 *
 *   same_offset [FILE]           (FILE defaults to this program itself)
 *
 * The parent opens FILE (shared_fd) and forks: that one is shared. Then the
 * parent and the child each open FILE again, separately, getting the same
 * descriptor number in both, the same flags and the same offset (0): two
 * distinct open file descriptions that only kcmp tells apart.
 *
 * stdout: shared_fd=N parent_own_fd=N child_own_fd=N
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int shared = xopen(path, O_RDONLY);
	int go[2], ready[2];
	xpipe(go);
	xpipe(ready);

	pid_t child = xfork();
	if (child == 0) {
		int own = xopen(path, O_RDONLY);
		close(go[1]);
		close(ready[0]);
		write_all(ready[1], &own, sizeof own);
		wait_go(go[0]);
		exit(0);
	}
	int own = xopen(path, O_RDONLY);
	close(go[0]);
	close(ready[1]);

	int child_own;
	if (!read_all(ready[0], &child_own, sizeof child_own))
		die("child did not report its descriptor");
	if (lseek(own, 0, SEEK_CUR) != 0)
		die("own descriptor not at offset 0");

	printf("shared_fd=%d parent_own_fd=%d child_own_fd=%d\n", shared, own,
	       child_own);
	fflush(stdout);

	signal_go(go[1]);
	reap(child, "child");
	return 0;
}
