/* A descriptor handed to an exec'd helper on purpose (F_SETFD clears
 * FD_CLOEXEC in the child) versus one that leaks (opened without
 * O_CLOEXEC): only the second is a finding.
 *
 *   setfd_exec [FILE]
 *
 * stdout: passed_fd=N leaked_fd=N child=PID
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int passed = xopen(path, O_RDONLY | O_CLOEXEC);
	int leaked = xopen(path, O_RDONLY);
	printf("passed_fd=%d leaked_fd=%d", passed, leaked);
	pid_t child = xfork();
	if (child == 0) {
		if (fcntl(passed, F_SETFD, 0) != 0)
			die("F_SETFD");
		execl("/bin/true", "true", (char *)NULL);
		die("exec /bin/true");
	}
	printf(" child=%d\n", (int)child);
	fflush(stdout);
	reap(child, "helper");
	return 0;
}
