/* Many identical findings, as a build makes them: one descriptor opened
 * without O_CLOEXEC two calls below main (open_log() calls open_file()
 * calls open()), then N children forked at once, each exec'ing PROGRAM
 * with it still open: N leaked-across-exec findings of one origin, in N
 * processes, and a description with N + 1 holders.
 *
 *   leak_many FILE N PROGRAM [ARG...]
 *
 * stdout: fd=N children=PID,PID,... (in fork order)
 */
#include "scenario.h"

__attribute__((noinline)) static int open_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	__asm__ volatile("" ::: "memory"); /* keep the call a call, not a jump */
	return fd;
}

__attribute__((noinline)) static int open_log(const char *path)
{
	int fd = open_file(path);
	__asm__ volatile("" ::: "memory");
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		die("usage: leak_many FILE N PROGRAM [ARG...]");
	int n = atoi(argv[2]);
	if (n < 1 || n > 1000)
		die("bad N '%s'", argv[2]);
	int fd = open_log(argv[1]);
	if (fd < 0)
		die("open %s", argv[1]);
	pid_t *kids = calloc((size_t)n, sizeof *kids);
	if (kids == NULL)
		die("calloc");
	for (int i = 0; i < n; i++) {
		kids[i] = xfork();
		if (kids[i] == 0) {
			execv(argv[3], argv + 3);
			die("exec %s", argv[3]);
		}
	}
	printf("fd=%d children=", fd);
	for (int i = 0; i < n; i++) {
		int status;
		if (waitpid(kids[i], &status, 0) != kids[i])
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("child %d: status %#x", (int)kids[i], status);
		printf("%s%d", i ? "," : "", (int)kids[i]);
	}
	printf("\n");
	free(kids);
	return 0;
}
