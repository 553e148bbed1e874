/* The descriptor checks valgrind --track-fds makes, one mode each (the
 * facts its tests check, on programs of our own).
 *
 *   fd_checks copies              dup(2) and dup2(1, 20), kept open at exit
 *   fd_checks raw_close FILE      closed by a raw syscall instruction (no
 *                                 libc), then close()d: EBADF
 *   fd_checks syscall_close FILE  closed by syscall(SYS_close), then close()d
 *   fd_checks close_twice FILE    close() twice: a double close
 *   fd_checks range_twice FILE    close_range() of three numbers, twice
 *   fd_checks invalid             close(-1), close(-7), close(limit + 5)
 *   fd_checks close_stderr FILE   opens FILE, keeps it, closes fd 2
 *   fd_checks atexit FILE         an atexit handler opens a descriptor and
 *                                 closes the one main left open
 *   fd_checks atexit_libc FILE    an atexit handler closes the one main
 *                                 left open inside libc (endmntent's
 *                                 fclose: no close() the shim sees)
 *
 * stdout: KEY=VALUE words (the numbers and the results of the closes)
 */
#include "scenario.h"

#include <mntent.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static const char *file;
static int closed_at_exit = -1;

static const char *result(int r)
{
	return r == 0 ? "ok" : errno == EBADF ? "EBADF" : strerror(errno);
}

static int copies(void)
{
	int d = dup(2);
	if (d < 0 || dup2(1, 20) != 20)
		die("dup");
	printf("dup_fd=%d dup2_fd=20\n", d);
	return 0;
}

static int closed_then_closed(long (*first)(int))
{
	int fd = xopen(file, O_RDONLY);
	if (first(fd) != 0)
		die("first close of %d", fd);
	int r = close(fd);
	printf("fd=%d second_close=%s\n", fd, result(r));
	return 0;
}

static long by_raw_instruction(int fd)
{
	return raw_syscall3(SYS_close, fd, 0, 0);
}

static long by_syscall(int fd)
{
	return syscall(SYS_close, fd);
}

static long by_close(int fd)
{
	return close(fd);
}

static int range_twice(void)
{
	int fds[3];
	for (int i = 0; i < 3; i++) { /* three numbers in a row, above the harness's */
		int fd = xopen(file, O_RDONLY);
		fds[i] = fcntl(fd, F_DUPFD, 40 + i);
		if (fds[i] != 40 + i || close(fd) != 0)
			die("fd %d not moved to %d", fd, 40 + i);
	}
	int a = fds[0], c = fds[2];
	if (close_range((unsigned)a, (unsigned)c, 0) != 0)
		die("close_range");
	int r = close_range((unsigned)a, (unsigned)c, 0);
	printf("first=%d last=%d second_close_range=%s\n", a, c, result(r));
	return 0;
}

static int invalid(void)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		die("getrlimit");
	int above = (int)lim.rlim_cur + 5;
	int r1 = close(-1);
	const char *s1 = result(r1);
	int r7 = close(-7);
	const char *s7 = result(r7);
	int ra = close(above);
	printf("minus_one=%s minus_seven=%s above=%d above_close=%s\n", s1, s7, above, result(ra));
	return 0;
}

static int close_stderr(void)
{
	int fd = xopen(file, O_RDONLY);
	printf("kept_fd=%d\n", fd);
	fflush(stdout);
	if (close(2) != 0)
		die("close 2");
	return 0;
}

static void at_exit(void)
{
	int fd = open(file, O_RDONLY);
	if (fd < 0 || close(closed_at_exit) != 0)
		_exit(97);
	printf("opened_at_exit=%d\n", fd);
}

static int closes_at_exit(void)
{
	closed_at_exit = xopen(file, O_RDONLY);
	printf("closed_at_exit=%d\n", closed_at_exit);
	if (atexit(at_exit) != 0)
		die("atexit");
	return 0;
}

static FILE *closed_in_libc;

static void at_exit_in_libc(void)
{
	endmntent(closed_in_libc);
}

static int closes_at_exit_in_libc(void)
{
	closed_at_exit = xopen(file, O_RDONLY);
	closed_in_libc = fdopen(closed_at_exit, "r");
	if (!closed_in_libc)
		die("fdopen");
	printf("closed_at_exit=%d\n", closed_at_exit);
	if (atexit(at_exit_in_libc) != 0)
		die("atexit");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: fd_checks MODE [FILE]");
	file = argc > 2 ? argv[2] : "/dev/null";
	const char *m = argv[1];
	if (strcmp(m, "copies") == 0)
		return copies();
	if (strcmp(m, "raw_close") == 0)
		return closed_then_closed(by_raw_instruction);
	if (strcmp(m, "syscall_close") == 0)
		return closed_then_closed(by_syscall);
	if (strcmp(m, "close_twice") == 0)
		return closed_then_closed(by_close);
	if (strcmp(m, "range_twice") == 0)
		return range_twice();
	if (strcmp(m, "invalid") == 0)
		return invalid();
	if (strcmp(m, "close_stderr") == 0)
		return close_stderr();
	if (strcmp(m, "atexit") == 0)
		return closes_at_exit();
	if (strcmp(m, "atexit_libc") == 0)
		return closes_at_exit_in_libc();
	die("unknown mode %s", m);
}
