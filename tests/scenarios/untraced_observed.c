/* A traced parent whose child execs a static binary (untraced): the
 * parent's snapshot observes the child's descriptors from outside, so the
 * report lists them, shared with the parent's where kcmp says so.
 *
 *   untraced_observed FILE
 *
 * The parent opens FILE (shared_fd, inherited by the child), starts the
 * child on build/scenarios/static_hold with a pipe as stdin (the parent
 * keeps the write end, so the child lives until the parent has exited) and
 * a pipe as stdout (to read its "ready" line).
 *
 * stdout: shared_fd=N child=PID own_fd=N
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: untraced_observed FILE");
	int shared = xopen(argv[1], O_RDONLY);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		die("pipe2");
	char self[4096];
	scenario_path(self, sizeof self, "static_hold");
	pid_t child = xfork();
	if (child == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(self, "static_hold", (char *)NULL);
		die("exec %s", self);
	}
	close(out[1]);
	char line[128];
	printf("shared_fd=%d child=%d %s", shared, (int)child, static_hold_own_fd(out[0], line, sizeof line));
	fflush(stdout);
	/* Exit without waiting: our exit closes in[1], and the child, seeing
	 * end of file, exits after our snapshot. The launcher reaps it. */
	return 0;
}
