/* A descriptor opened without O_CLOEXEC and kept across an exec of cat: by
 * name on cat's command line (/dev/fd/N or /proc/self/fd/N: passed on
 * purpose, as bash's <(cmd) does), or not named at all (a leak).
 *
 *   exec_named FILE dev|proc|unnamed
 *
 * stdout: fd=N, then what cat prints
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: exec_named FILE dev|proc|unnamed\n");
		return 2;
	}
	int fd = xopen(argv[1], O_RDONLY);
	char name[64];
	if (strcmp(argv[2], "dev") == 0)
		snprintf(name, sizeof name, "/dev/fd/%d", fd);
	else if (strcmp(argv[2], "proc") == 0)
		snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
	else
		snprintf(name, sizeof name, "%s", argv[1]);
	printf("fd=%d\n", fd);
	fflush(stdout);
	execlp("cat", "cat", name, (char *)NULL);
	die("exec cat");
}
