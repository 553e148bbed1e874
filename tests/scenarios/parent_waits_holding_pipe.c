/* A parent that writes to its child through a pipe, then waits for it
 * without closing the write end: the child reads to end of file, which
 * never comes. The tree hangs until a signal ends it.
 *
 *   parent_waits_holding_pipe
 *
 * Besides the pipe, the child holds a file opened by path (/dev/null as
 * fd 5... whatever open returns) and one end of a socketpair, so that a
 * report can show each kind of target.
 *
 * stdout, once the child is about to read: ready parent=PID child=PID
 * read_fd=N write_fd=N file_fd=N sock_fd=N
 */
#include "scenario.h"

int main(void)
{
	int p[2], s[2];
	xpipe(p);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
		die("socketpair");
	int file = xopen("/dev/null", O_RDONLY);
	int ready[2];
	xpipe(ready);
	pid_t child = xfork();
	if (child == 0) {
		close(p[1]);
		close(ready[0]);
		write_all(ready[1], "r", 1);
		close(ready[1]);
		char buf[64];
		while (read(p[0], buf, sizeof buf) > 0) /* to end of file: never */
			;
		exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	if (!read_all(ready[0], &c, 1))
		die("child did not start");
	close(ready[0]);
	write_all(p[1], "data\n", 5);
	/* The bug: p[1] stays open here while we wait for the child. */
	printf("ready parent=%d child=%d read_fd=%d write_fd=%d file_fd=%d sock_fd=%d\n",
	       (int)getpid(), (int)child, p[0], p[1], file, s[0]);
	fflush(stdout);
	int st;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}
