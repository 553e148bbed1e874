/* errno as main finds it: the shim's start-up (a constructor) must leave it
 * as the program would have found it untraced.
 *
 *   errno_at_start
 *
 * stdout: errno=N (and the same for a fork child and an exec'd image:
 * "child errno=N", then the image's own line)
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	int e = errno;
	printf("%serrno=%d\n", argc > 1 ? "exec'd " : "", e);
	fflush(stdout);
	if (argc > 1)
		return 0;
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* errno before fork was e: the child sees it unchanged */
		printf("child errno=%d\n", errno);
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "again", (char *)NULL);
		_exit(127);
	}
	reap(pid, "child");
	return 0;
}
