/*
 * A descriptor closed and made again with raw system calls, behind the
 * shim's back: the number the application opened (and a child inherited)
 * now names another file, which must not be reported as the old open nor
 * as shared with the child.
 *
 *   raw_reuse FILE1 FILE2
 *
 * Opens FILE1 (fd), forks a child that keeps it until the parent has
 * replaced it and then exits, closes fd and opens FILE2 with the raw
 * instructions (it gets the same number).
 *
 * stdout: fd=N child=PID
 */
#include "scenario.h"

#include <sys/syscall.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: raw_reuse FILE1 FILE2");
	int fd = xopen(argv[1], O_RDONLY);
	int go;
	pid_t child = fork_holder(&go);
	if (raw_syscall3(SYS_close, fd, 0, 0) != 0)
		die("raw close");
	long again = raw_syscall3(SYS_openat, AT_FDCWD, (long)argv[2], O_RDONLY);
	if (again != fd)
		die("raw openat gave %ld, not %d", again, fd);
	printf("fd=%d child=%d\n", fd, (int)child);
	fflush(stdout);
	signal_go(go);
	reap(child, "holder");
	return 0;
}
