/* Output left in a stdio buffer across fork(), and the ways the child can
 * end (record.h "stdio-copied").
 *
 *   stdio_fork MODE [FILE]
 *
 * The parent prints "before fork\n" to stdout (or, with FILE, to a stream
 * fopen'd on FILE) and forks; the child prints "child\n" there and ends as
 * MODE says; the parent waits for it and returns from main.
 *   exit     the child calls exit(0): the parent's line is written twice
 *   return   the child returns from main: the same
 *   syscall  the child is made by syscall(SYS_fork) and calls exit(0): the same
 *   flush    the parent calls fflush(NULL) before the fork: once
 *   _exit    the child calls _exit(0) (its own line is lost): once
 *   exec     the child execs "true": once (its own line is lost)
 *   linebuf  stdout is line buffered (as on a terminal): once
 *   vfork    the child is made by vfork and calls _exit: once
 */
#include "scenario.h"

#include <sys/syscall.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: stdio_fork MODE [FILE]");
	const char *mode = argv[1];
	FILE *out = stdout;
	if (argc > 2 && !(out = fopen(argv[2], "w")))
		die("fopen %s", argv[2]);
	if (strcmp(mode, "linebuf") == 0)
		setvbuf(out, NULL, _IOLBF, 0);
	fputs("before fork\n", out);
	if (strcmp(mode, "flush") == 0)
		fflush(NULL);
	pid_t child = strcmp(mode, "vfork") == 0     ? vfork()
		      : strcmp(mode, "syscall") == 0 ? (pid_t)syscall(SYS_fork)
						     : fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		if (strcmp(mode, "vfork") == 0)
			_exit(0);
		fputs("child\n", out);
		if (strcmp(mode, "_exit") == 0)
			_exit(0);
		if (strcmp(mode, "exec") == 0) {
			execlp("true", "true", (char *)NULL);
			_exit(98);
		}
		if (strcmp(mode, "return") == 0)
			return 0;
		exit(0);
	}
	reap(child, "child");
	return 0;
}
