/* A parent that execs through syscall(SYS_execve), where no exec hook
 * runs, while its fork child lives: the new image (traced: the environment
 * keeps the library) moves the inherited file to another number, and the
 * child, ending after that, must compare with the new image's table, not
 * with the one its parent had at the fork.
 *
 *   raw_exec_parent FILE
 *
 * The first image opens FILE (shared_fd), forks the child (which waits on
 * a "go" pipe) and execs itself raw. The second image moves shared_fd to
 * moved_fd (F_DUPFD, then close), lets the child exit and waits for it.
 *
 * stdout (second image): shared_fd=N moved_fd=N child=PID
 */
#include "scenario.h"

#include <sys/syscall.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[2], "--second") == 0) {
		int shared = atoi(argv[3]), go = atoi(argv[4]);
		pid_t child = (pid_t)atoi(argv[5]);
		int moved = fcntl(shared, F_DUPFD, 20);
		if (moved < 0 || close(shared) != 0)
			die("move %d", shared);
		write_all(go, "x", 1);
		int st;
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("child");
		printf("shared_fd=%d moved_fd=%d child=%d\n", shared, moved, (int)child);
		return 0;
	}
	if (argc < 2)
		die("usage: raw_exec_parent FILE");
	int shared = xopen(argv[1], O_RDONLY);
	int go[2];
	xpipe(go);
	pid_t child = xfork();
	if (child == 0) {
		close(go[1]);
		char c;
		if (read(go[0], &c, 1) != 1)
			die("read go");
		exit(0);
	}
	close(go[0]);
	char self[4300], a[3][16];
	scenario_path(self, sizeof self, NULL);
	snprintf(a[0], sizeof a[0], "%d", shared);
	snprintf(a[1], sizeof a[1], "%d", go[1]);
	snprintf(a[2], sizeof a[2], "%d", (int)child);
	char *args[] = {argv[0], argv[1], "--second", a[0], a[1], a[2], NULL};
	syscall(SYS_execve, self, args, environ);
	die("execve %s", self);
}
