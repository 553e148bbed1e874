/* An exec that fails after the shim took it for an exec into an untraced
 * image (a static binary without execute permission): the process must go
 * on traced as before, and its errno must be the exec's.
 *
 *   exec_fails PROGRAM FILE
 *
 * execv(PROGRAM) must fail; then opens FILE and forks a child that opens
 * FILE too. tracer: TracerPid from /proc/self/status after the failed exec
 * (a launcher watching the exec must have let go).
 *
 * stdout: exec: <strerror> / tracer=N fd=N child=PID
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: exec_fails PROGRAM FILE");
	char *args[] = {argv[1], NULL};
	execv(argv[1], args);
	printf("exec: %s\n", strerror(errno));
	long tracer = proc_status_field("TracerPid");
	int fd = xopen(argv[2], O_RDONLY);
	pid_t child = xfork();
	if (child == 0) {
		xopen(argv[2], O_RDONLY);
		_exit(0);
	}
	reap(child, "child");
	printf("tracer=%ld fd=%d child=%d\n", tracer, fd, (int)child);
	return 0;
}
