/* Linked statically (see tests/CMakeLists.txt): run by untraced_observed as
 * the image the shim cannot follow. Opens a file of its own, says "ready"
 * on stdout, and holds everything until its stdin reaches end of file.
 *
 * stdout: ready own_fd=N
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int own = open("/proc/self/exe", O_RDONLY);
	printf("ready own_fd=%d\n", own);
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	return own >= 0 ? 0 : 1;
}
