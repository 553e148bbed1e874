/* A descriptor opened two calls below main, for call-site stacks:
 * open_config() calls open_file() calls open(). With --stack=N (or
 * KCMPTRACE_STACK=N) the report shows the callers, with file and line.
 *
 * stdout: fd=N
 */
#include "scenario.h"

__attribute__((noinline)) static int open_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	__asm__ volatile("" ::: "memory"); /* keep the call a call, not a jump */
	return fd;
}

__attribute__((noinline)) static int open_config(const char *path)
{
	int fd = open_file(path);
	__asm__ volatile("" ::: "memory");
	return fd;
}

int main(int argc, char **argv)
{
	int fd = open_config(argc > 1 ? argv[1] : "/proc/self/exe");
	if (fd < 0)
		die("open");
	printf("fd=%d\n", fd);
	return 0;
}
