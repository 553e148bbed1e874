/* pidfd_getfd: a child takes a copy of its parent's descriptor through a
 * pidfd (no inheritance, no socket): "received", from the parent's fd, and
 * kcmp shows one description.
 *
 *   pidfd_copy [FILE]
 *
 * stdout: parent_fd=N copy_fd=N child=PID   (or pidfd=unsupported, exit 0)
 */
#include "scenario.h"

#include <sys/pidfd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int go[2], back[2];
	xpipe(go);
	xpipe(back);
	pid_t parent = getpid();
	/* Opened after the fork: the child has no copy of it but the one it takes. */
	pid_t child = xfork();
	if (child == 0) {
		close(go[1]);
		close(back[0]);
		int target;
		if (read(go[0], &target, sizeof target) != sizeof target)
			die("read");
		int pidfd = pidfd_open(parent, 0);
		int copy = pidfd < 0 ? -1 : pidfd_getfd(pidfd, target, 0);
		write_all(back[1], &copy, sizeof copy);
		wait_go(go[0]); /* keep it until the parent has printed */
		exit(0);
	}
	close(go[0]);
	close(back[1]);
	int fd = xopen(path, O_RDONLY);
	write_all(go[1], &fd, sizeof fd);
	int copy;
	if (read(back[0], &copy, sizeof copy) != sizeof copy)
		die("read");
	if (copy < 0)
		printf("pidfd=unsupported\n");
	else
		printf("parent_fd=%d copy_fd=%d child=%d\n", fd, copy, (int)child);
	fflush(stdout);
	signal_go(go[1]);
	reap(child, "child");
	return 0;
}
