/* leak_in_helper: a leak made two calls deep, for suppressions that name a
 * frame (frame=GLOB): the creating call's site is in open_no_cloexec, its
 * caller is log_open_for_children, then main.
 *
 *   leak_in_helper FILE
 *
 * Opens FILE without O_CLOEXEC through those two functions, then execs
 * /bin/true: a leaked-across-exec finding whose origin is open_no_cloexec.
 */
#include "scenario.h"

__attribute__((noinline)) int open_no_cloexec(const char *path)
{
	int fd = open(path, O_RDONLY);
	__asm__ volatile("" ::: "memory"); /* keep the call a call, not a tail jump */
	return fd;
}

__attribute__((noinline)) int log_open_for_children(const char *path)
{
	int fd = open_no_cloexec(path);
	__asm__ volatile("" ::: "memory");
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: leak_in_helper FILE\n");
		return 2;
	}
	if (log_open_for_children(argv[1]) < 0)
		die("open");
	execl("/bin/true", "true", (char *)NULL);
	die("exec");
}
