/* posix_spawn of a static binary (untraced): glibc starts the child with
 * clone(CLONE_VM|CLONE_VFORK) and execs inside libc, so no shim ever runs
 * in it. The parent must still put it in the trace, with what it inherited.
 *
 *   spawn_static FILE [-p] [-c N]
 *
 * The parent opens FILE without O_CLOEXEC (shared_fd, inherited) and with
 * it (cloexec_fd, closed by the exec), and spawns build/scenarios/
 * static_hold (with -p: posix_spawnp by its bare name, PATH set to its
 * folder) with the file actions dup2(pipe -> 0) and dup2(pipe -> 1) (with
 * -c N, then N closes of numbers nothing holds, as a spawn that closes
 * every descriptor it does not pass would add). It
 * reads the child's "ready" line and exits without waiting: its exit
 * closes the child's stdin, and the child then exits too.
 *
 * stdout: shared_fd=N cloexec_fd=N stdin_fd=N child=PID own_fd=N (stdin_fd: the
 * parent's read end that the child has as 0)
 */
#include "scenario.h"

#include <spawn.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: spawn_static FILE [-p]");
	int by_name = 0, closes = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0)
			by_name = 1;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			closes = atoi(argv[++i]);
	}
	int shared = xopen(argv[1], O_RDONLY);
	int cloexec = xopen(argv[1], O_RDONLY | O_CLOEXEC);
	int in[2], out[2];
	char path[4300];
	posix_spawn_file_actions_t fa;
	static_hold_spawn_setup(&fa, in, out, path, sizeof path);
	for (int i = 0; i < closes; i++)
		posix_spawn_file_actions_addclose(&fa, 300 + i);
	char *child_argv[] = {"static_hold", NULL};
	pid_t child;
	int r;
	if (by_name) {
		char dir[4300];
		memcpy(dir, path, sizeof dir);
		*strrchr(dir, '/') = '\0';
		setenv("PATH", dir, 1);
		r = posix_spawnp(&child, "static_hold", &fa, NULL, child_argv, environ);
	} else {
		r = posix_spawn(&child, path, &fa, NULL, child_argv, environ);
	}
	char line[128];
	const char *own = static_hold_spawned(r, path, &fa, out, line, sizeof line);
	printf("shared_fd=%d cloexec_fd=%d stdin_fd=%d child=%d %s", shared, cloexec, in[0], (int)child, own);
	fflush(stdout);
	return 0;
}
