/* closefrom and close_range: a program that closes every descriptor above
 * stderr, twice, and opens again after each; then close_range with
 * CLOSE_RANGE_CLOEXEC on one descriptor, and a refused close_range.
 *
 *   close_all FILE
 *
 * Opens FILE three times and dup2's one onto 40 (before_fds), closefrom(3);
 * opens FILE twice (after_closefrom); close_range(3, ~0U, 0); opens FILE
 * (kept_fd) and /dev/null (cloexec_fd), close_range(cloexec_fd, cloexec_fd,
 * CLOSE_RANGE_CLOEXEC); close_range(5, 4, 0) must fail with EINVAL and close
 * nothing. At exit only kept_fd and cloexec_fd are open above stderr.
 *
 * stdout: before_fds=A,B,C,40 after_closefrom=A,B kept_fd=N cloexec_fd=N
 *         cloexec_flag=0|1
 */
#include "scenario.h"

#include <linux/close_range.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: close_all FILE");
	const char *file = argv[1];
	int a = xopen(file, O_RDONLY), b = xopen(file, O_RDONLY), c = xopen(file, O_RDONLY);
	if (dup2(a, 40) != 40)
		die("dup2");
	closefrom(3);
	int d = xopen(file, O_RDONLY), e = xopen(file, O_RDONLY);
	if (close_range(3, ~0U, 0) != 0)
		die("close_range");
	int kept = xopen(file, O_RDONLY);
	int cx = xopen("/dev/null", O_RDONLY);
	if (close_range((unsigned)cx, (unsigned)cx, CLOSE_RANGE_CLOEXEC) != 0)
		die("close_range CLOEXEC");
	errno = 0;
	if (close_range(5, 4, 0) != -1 || errno != EINVAL)
		die("close_range(5, 4) should fail with EINVAL");
	int flags = fcntl(cx, F_GETFD);
	printf("before_fds=%d,%d,%d,40 after_closefrom=%d,%d kept_fd=%d cloexec_fd=%d cloexec_flag=%d\n",
	       a, b, c, d, e, kept, cx, (flags & FD_CLOEXEC) != 0);
	return 0;
}
