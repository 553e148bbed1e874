/* A child sets O_NONBLOCK on a pipe end it inherited: the flag belongs to
 * the open file description, so the parent's reads stop blocking too.
 *
 *   child_nonblock
 *
 * stdout: pipe_read_fd=N parent_sees_nonblock=1
 */
#include "scenario.h"

int main(void)
{
	int p[2];
	xpipe(p);
	pid_t child = xfork();
	if (child == 0) {
		int flags = fcntl(p[0], F_GETFL);
		if (flags < 0 || fcntl(p[0], F_SETFL, flags | O_NONBLOCK) != 0)
			die("fcntl F_SETFL");
		exit(0);
	}
	reap(child, "child");
	int flags = fcntl(p[0], F_GETFL);
	printf("pipe_read_fd=%d parent_sees_nonblock=%d\n", p[0], (flags & O_NONBLOCK) != 0);
	return 0;
}
