/* posix_spawn with file actions: what the actions place in the child is
 * there on purpose, what else crosses is inherited.
 *
 *   spawn_actions [FILE]
 *
 * The parent opens FILE without O_CLOEXEC (leaked_fd) and with it
 * (cloexec_fd), makes a pipe, and spawns itself as "--child" with the file
 * actions dup2(pipe write end -> 1) and open(/dev/null -> opened_fd). The
 * parent keeps its descriptors until the child has exited.
 *
 * stdout: leaked_fd=N cloexec_fd=N pipe_write_fd=N opened_fd=N child=PID
 */
#include "scenario.h"

#include <spawn.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return 0;
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int leaked = xopen(path, O_RDONLY);
	int cloexec = xopen(path, O_RDONLY | O_CLOEXEC);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe2");
	int opened = 9;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, opened, "/dev/null", O_RDONLY, 0);
	char self[4096];
	scenario_path(self, sizeof self, NULL);
	char *child_argv[] = {self, "--child", NULL};
	pid_t child;
	int r = posix_spawn(&child, self, &fa, NULL, child_argv, environ);
	if (r != 0) {
		errno = r;
		die("posix_spawn");
	}
	posix_spawn_file_actions_destroy(&fa);
	printf("leaked_fd=%d cloexec_fd=%d pipe_write_fd=%d opened_fd=%d child=%d\n", leaked, cloexec,
	       p[1], opened, (int)child);
	fflush(stdout);
	reap(child, "child");
	return 0;
}
