/* A parent talks to its child over a socketpair but forgets to close the
 * child's end: when the child is done, the parent never sees end of file.
 * With --fixed the parent closes it after the fork (no finding).
 *
 *   socketpair_keep [--fixed]
 *
 * The child writes one line and exits; the parent reads that line, then
 * (in the buggy form) would block waiting for EOF: instead it checks with
 * a non-blocking read that EOF does not come, and prints what it saw.
 *
 * stdout: parent_end=N child_end=N child=PID eof=0|1
 */
#include "scenario.h"

#include <sys/socket.h>

int main(int argc, char **argv)
{
	int fixed = argc > 1 && strcmp(argv[1], "--fixed") == 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	pid_t child = xfork();
	if (child == 0) {
		close(sv[0]);
		write_all(sv[1], "hello\n", 6);
		_exit(0);
	}
	if (fixed)
		close(sv[1]);
	char buf[16];
	ssize_t n = read(sv[0], buf, sizeof buf);
	if (n != 6)
		die("read");
	reap(child, "child");
	/* The child is gone: EOF comes only if nobody else holds its end. */
	n = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
	printf("parent_end=%d child_end=%d child=%d eof=%d\n", sv[0], sv[1], (int)child, n == 0);
	return 0;
}
