/*
 * Children that end without running any of the shim's exit hooks: one makes
 * the exit_group system call itself (no libc), one is killed by SIGKILL.
 * Each first opens a file of its own and dups it, so the report can only
 * know those from the table the child leaves behind.
 *
 *   no_snapshot_exit FILE
 *
 * Prints "raw=PID killed=PID fd=N": the children and the parent's
 * descriptor they inherit.
 */
#include "scenario.h"

#include <signal.h>
#include <sys/syscall.h>

static _Noreturn void raw_exit_group(int code)
{
	raw_syscall3(SYS_exit_group, code, 0, 0);
	__builtin_unreachable();
}

static pid_t child(const char *file, int how)
{
	int ready[2];
	xpipe(ready);
	pid_t pid = xfork();
	if (pid == 0) {
		close(ready[0]);
		int own = xopen(file, O_RDONLY);
		if (dup(own) < 0)
			die("dup");
		if (how == 0)
			raw_exit_group(3);
		signal_go(ready[1]);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (how == 1) {
		wait_go(ready[0]);
		kill(pid, SIGKILL);
	}
	close(ready[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (how == 0 ? !WIFEXITED(status) || WEXITSTATUS(status) != 3
		     : !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		die("child %d ended with status %#x", (int)pid, status);
	return pid;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: no_snapshot_exit FILE");
	int fd = xopen(argv[1], O_RDONLY);
	pid_t raw = child(argv[1], 0);
	pid_t killed = child(argv[1], 1);
	printf("raw=%d killed=%d fd=%d\n", (int)raw, (int)killed, fd);
	return 0;
}
