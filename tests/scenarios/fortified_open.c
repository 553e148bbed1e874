/* Opens through the names glibc uses in fortified, 64-bit-offset builds.
 *
 *   fortified_open [FILE]        (FILE defaults to this program itself)
 *
 * Built with _FORTIFY_SOURCE=2 and _FILE_OFFSET_BITS=64, so that open() with
 * flags the compiler cannot see becomes __open64_2, openat() likewise
 * __openat64_2, and open() with constant flags open64. The parent opens FILE
 * each way, then forks a child that holds all three until released.
 *
 * stdout: open_2_fd=N openat_2_fd=N open64_fd=N
 */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#undef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#include "scenario.h"

static volatile int hidden_flags = O_RDONLY; /* not a compile-time constant */

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int a = open(path, hidden_flags);
	int b = openat(AT_FDCWD, path, hidden_flags);
	int c = open(path, O_RDONLY);
	if (a < 0 || b < 0 || c < 0)
		die("open %s", path);
	int go;
	pid_t child = fork_holder(&go);
	printf("open_2_fd=%d openat_2_fd=%d open64_fd=%d\n", a, b, c);
	fflush(stdout);
	signal_go(go);
	reap(child, "child");
	return 0;
}
