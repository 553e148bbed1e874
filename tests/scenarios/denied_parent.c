/* A fork child that cannot compare with its parent: the parent made itself
 * non-dumpable (prctl PR_SET_DUMPABLE 0), so that a process of the same
 * user without CAP_SYS_PTRACE may neither kcmp it nor read its /proc/PID/fd.
 * Run it as a user without that capability.
 *
 *   denied_parent
 *
 * The child makes a pipe after the fork (at 100 and 101) and waits; the
 * parent takes a copy of its write end by syscall(SYS_pidfd_getfd) (an
 * entry whose file the shim did not look at), makes itself non-dumpable
 * and lets the child go.
 * The child closes everything but its pipe and exits: its pipe's write end
 * is shared with the parent, which nobody may tell by kcmp. The parent
 * waits for it.
 *
 * stdout: child=PID write_fd=N copy_fd=N
 */
#include "scenario.h"

#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int main(void)
{
	int ready[2], go[2];
	xpipe(ready);
	xpipe(go);
	pid_t child = xfork();
	if (child == 0) {
		close(ready[0]);
		close(go[1]);
		int p[2];
		xpipe(p);
		/* Out of the way of whatever else the child inherited. */
		if (dup2(p[0], 100) != 100 || dup2(p[1], 101) != 101)
			die("dup2");
		int end = 101;
		write_all(ready[1], &end, sizeof end);
		char byte;
		if (read(go[0], &byte, 1) != 1)
			die("read go");
		/* Only the pipe is left: nothing the parent's table knows the file of. */
		if (close_range(0, 99, 0) != 0 || close_range(102, ~0u, 0) != 0)
			die("close_range");
		exit(0);
	}
	close(ready[1]);
	close(go[0]);
	int theirs;
	if (!read_all(ready[0], &theirs, sizeof theirs))
		die("read ready");
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		die("pidfd_open");
	int copy = (int)syscall(SYS_pidfd_getfd, pidfd, theirs, 0);
	if (copy < 0)
		die("pidfd_getfd");
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		die("prctl");
	write_all(go[1], "x", 1);
	int st;
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child");
	printf("child=%d write_fd=%d copy_fd=%d\n", (int)child, theirs, copy);
	return 0;
}
