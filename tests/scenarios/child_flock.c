/* A child takes flock(LOCK_EX) on a file descriptor it inherited: the lock
 * belongs to the open file description, which the parent holds too, so it
 * outlives the child.
 *
 *   child_flock FILE
 *
 * stdout: file_fd=N lock_still_held=1
 */
#include "scenario.h"

#include <sys/file.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: child_flock FILE\n");
		return 2;
	}
	int fd = xopen(argv[1], O_RDWR);
	pid_t child = xfork();
	if (child == 0) {
		if (flock(fd, LOCK_EX) != 0)
			die("flock");
		exit(0);
	}
	reap(child, "child");
	/* A second, separate open cannot take the lock: the shared
	 * description still holds it after the child is gone. */
	int other = xopen(argv[1], O_RDWR | O_CLOEXEC);
	int held = flock(other, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(other);
	printf("file_fd=%d lock_still_held=%d\n", fd, held);
	return 0;
}
