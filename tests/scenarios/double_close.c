/* A descriptor closed twice: the second close fails with EBADF (had the
 * number been reused in between, it would have closed someone else's).
 *
 *   double_close FILE
 *
 * stdout: fd=N second_close=EBADF
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: double_close FILE\n");
		return 2;
	}
	int fd = xopen(argv[1], O_RDONLY | O_CLOEXEC);
	if (close(fd) != 0)
		die("first close");
	int r = close(fd);
	printf("fd=%d second_close=%s\n", fd, r < 0 && errno == EBADF ? "EBADF" : "ok");
	return 0;
}
