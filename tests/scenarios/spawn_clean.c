/* posix_spawn done right: nothing crosses the spawn that was not meant to.
 *
 *   spawn_clean
 *
 * The parent opens a file with O_CLOEXEC (cloexec_fd), one with O_CLOEXEC
 * then made inheritable with fcntl(F_SETFD, 0) (inheritable_fd), and one
 * without O_CLOEXEC that the child's command line names as /dev/fd/N
 * (named_fd). It spawns itself as "--child /dev/fd/N" twice: with the file
 * action dup2(pipe write end -> 1) (posix_spawn), and with no file actions
 * (posix_spawnp, stdout shared). It closes its write end, reads the first
 * child's line to end of file and reaps both.
 *
 * stdout: cloexec_fd=N inheritable_fd=N named_fd=N child=PID child2=PID line=TEXT
 */
#include "scenario.h"

#include <spawn.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child") == 0) {
		if (argc > 2 && access(argv[2], R_OK) != 0)
			die("%s", argv[2]);
		printf("from-child\n");
		return 0;
	}
	int cloexec = xopen("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int inheritable = xopen("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fcntl(inheritable, F_SETFD, 0) != 0)
		die("fcntl");
	int named = xopen("/proc/self/exe", O_RDONLY);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe2");
	char self[4096];
	scenario_path(self, sizeof self, NULL);
	char name[32];
	snprintf(name, sizeof name, "/dev/fd/%d", named);
	char *child_argv[] = {self, "--child", name, NULL};

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	pid_t child, child2;
	int r = posix_spawn(&child, self, &fa, NULL, child_argv, environ);
	if (r != 0) {
		errno = r;
		die("posix_spawn");
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	fflush(stdout);
	r = posix_spawnp(&child2, self, NULL, NULL, child_argv, environ);
	if (r != 0) {
		errno = r;
		die("posix_spawnp");
	}
	char line[64] = "";
	ssize_t n, got = 0;
	while ((n = read(p[0], line + got, sizeof line - 1 - (size_t)got)) > 0)
		got += n;
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	reap(child, "child");
	reap(child2, "child2");
	printf("cloexec_fd=%d inheritable_fd=%d named_fd=%d child=%d child2=%d line=%s\n", cloexec,
	       inheritable, named, (int)child, (int)child2, line);
	return 0;
}
