/* popen and system, both of which start /bin/sh through libc-internal
 * spawning that no exec or fork hook sees.
 *
 *   popen_system
 *
 * popen("echo popen-child; ...", "r"): the shell writes a line and exits;
 * the parent reads to end of file (so the child has ended, its snapshot
 * taken while the parent still held its end) and keeps the stream open to
 * its own exit. Then system("exit 7") must return exit status 7.
 *
 * stdout: popen_fd=N line=popen-child system_status=7
 */
#include "scenario.h"

int main(void)
{
	FILE *p = popen("echo popen-child", "r");
	if (!p)
		die("popen");
	char line[64] = "";
	if (!fgets(line, sizeof line, p))
		die("no line from the popen child");
	line[strcspn(line, "\n")] = '\0';
	char rest[64];
	while (fread(rest, 1, sizeof rest, p) > 0)
		;
	fflush(stdout);
	int st = system("exit 7");
	if (st < 0 || !WIFEXITED(st))
		die("system: wait status 0x%x", st);
	printf("popen_fd=%d line=%s system_status=%d\n", fileno(p), line, WEXITSTATUS(st));
	return 0;
}
