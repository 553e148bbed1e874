/* A program that execs with an environment it made itself: the tree must
 * stay traced all the same.
 *
 *   exec_env clear|drop-preload|other-preload|keep-dir PROGRAM [ARG...]
 *
 * clear:          execve PROGRAM with an empty environment
 * drop-preload:   environ without LD_PRELOAD (unsetenv), through execvp
 * other-preload:  LD_PRELOAD replaced by another library's name (libm),
 *                 through execle
 * keep-dir:       KCMPTRACE_DIR set to another directory, which must win
 *                 (a traced program may start a trace of its own)
 * It opens a file without O_CLOEXEC first (kept_fd), so the report can show
 * the new image holding it.
 *
 * stdout: kept_fd=N
 */
#include "scenario.h"

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: exec_env MODE PROGRAM [ARG...]");
	int kept = xopen("/proc/self/exe", O_RDONLY);
	printf("kept_fd=%d\n", kept);
	fflush(stdout);
	const char *mode = argv[1];
	if (strcmp(mode, "clear") == 0) {
		char *empty[] = {NULL};
		execve(argv[2], argv + 2, empty);
	} else if (strcmp(mode, "drop-preload") == 0) {
		unsetenv("LD_PRELOAD");
		execvp(argv[2], argv + 2);
	} else if (strcmp(mode, "other-preload") == 0) {
		char *env[] = {"LD_PRELOAD=libm.so.6", "PATH=/usr/bin:/bin", NULL};
		execle(argv[2], argv[2], (char *)NULL, env);
	} else if (strcmp(mode, "keep-dir") == 0) {
		setenv("KCMPTRACE_DIR", getenv("OTHER_TRACE_DIR"), 1);
		execv(argv[2], argv + 2);
	} else {
		die("unknown mode %s", mode);
	}
	die("exec %s", argv[2]);
}
