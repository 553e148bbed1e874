/* A fork child whose parent holds everything it holds ends while a static
 * binary (untraced) that the parent posix_spawn'd after the fork still
 * runs: with --no-watch, the child's exit snapshot is the only look at that
 * image's descriptors, so the child must still list the live tables.
 *
 *   fork_then_spawn_static FILE
 *
 * The parent opens FILE (shared_fd, inherited by both children), forks the
 * child (which waits on a "go" pipe whose both ends the parent keeps), then
 * spawns build/scenarios/static_hold with a pipe as stdin and one as
 * stdout, reads its ready line, lets the child exit and waits for it, then
 * closes the static child's stdin and waits for it too.
 *
 * stdout: shared_fd=N child=PID static=PID own_fd=N
 */
#include "scenario.h"

#include <spawn.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: fork_then_spawn_static FILE");
	int shared = xopen(argv[1], O_RDONLY);
	int go[2];
	xpipe(go);
	pid_t child = xfork();
	if (child == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			die("read go");
		exit(0);
	}
	int in[2], out[2];
	char path[4300];
	posix_spawn_file_actions_t fa;
	static_hold_spawn_setup(&fa, in, out, path, sizeof path);
	char *child_argv[] = {"static_hold", NULL};
	pid_t spawned;
	int r = posix_spawn(&spawned, path, &fa, NULL, child_argv, environ);
	char line[128];
	const char *own = static_hold_spawned(r, path, &fa, out, line, sizeof line);
	/* The static child runs and holds its own file: the child ends now. */
	write_all(go[1], "x", 1);
	int st;
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child");
	close(in[1]);
	if (waitpid(spawned, &st, 0) != spawned || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("static child");
	printf("shared_fd=%d child=%d static=%d %s", shared, (int)child, (int)spawned, own);
	return 0;
}
