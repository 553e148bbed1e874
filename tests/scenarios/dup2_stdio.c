/* dup2 onto the standard descriptors, then fork.
 *
 *   dup2_stdio [FILE]     (FILE: opened for writing, created or truncated;
 *                          defaults to $TMPDIR/kcmptrace-dup2_stdio.out)
 *
 * The parent opens FILE (file_fd) and a pipe (pipe_read_fd, pipe_write_fd),
 * prints its line, then dup2(file_fd, 1) and dup2(pipe_read_fd, 0): stdout is
 * now FILE and stdin the pipe, each the same description as the descriptor
 * copied. It writes "hello\n" into the pipe and forks a child that holds both
 * too: the child reads the line from stdin and writes "child read hello\n" to
 * stdout, i.e. into FILE, then waits until released.
 *
 * stdout (before the dup2): file_fd=N pipe_read_fd=N pipe_write_fd=N
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	char deflt[4096];
	const char *path = argv[1];
	if (argc < 2) {
		const char *tmp = getenv("TMPDIR");
		snprintf(deflt, sizeof deflt, "%s/kcmptrace-dup2_stdio.out",
			 tmp && *tmp ? tmp : "/tmp");
		path = deflt;
	}
	int file = xopen(path, O_WRONLY | O_CREAT | O_TRUNC);
	int p[2], go[2];
	xpipe(p);
	xpipe(go);

	printf("file_fd=%d pipe_read_fd=%d pipe_write_fd=%d\n", file, p[0], p[1]);
	fflush(stdout);

	if (dup2(file, 1) != 1)
		die("dup2 onto stdout");
	if (dup2(p[0], 0) != 0)
		die("dup2 onto stdin");
	write_all(p[1], "hello\n", 6);

	pid_t child = xfork();
	if (child == 0) {
		char line[6];
		close(go[1]);
		if (!read_all(0, line, sizeof line))
			die("nothing on stdin");
		printf("child read %.5s\n", line);
		fflush(stdout);
		wait_go(go[0]);
		exit(0);
	}
	close(go[0]);
	signal_go(go[1]);
	reap(child, "child");
	return 0;
}
