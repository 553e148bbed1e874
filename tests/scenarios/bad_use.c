/* Uses of a descriptor after its close (valgrind's "invalid file
 * descriptor"): read, write, fstat, lseek and send on a number that was
 * opened and closed, and a read on a number never opened. Each call fails
 * with EBADF; the program prints what each returned and its errno, which
 * must be the same traced and untraced.
 *
 *   bad_use FILE      the uses above
 *   bad_use clean FILE  the same calls on an open descriptor, no bad use
 *
 * stdout: fd=N never=M read=R/E write=R/E fstat=R/E lseek=R/E send=R/E
 *         never_read=R/E  (R the return value, E the errno name or 0)
 */
#include "scenario.h"

#include <sys/stat.h>

static const char *errname(int r, int e)
{
	return r >= 0 ? "0" : e == EBADF ? "EBADF" : strerror(e);
}

/* Opened and closed here: the findings name this function's lines. */
static __attribute__((noinline)) int open_then_close(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	if (close(fd) != 0)
		die("close");
	return fd;
}

int main(int argc, char **argv)
{
	int clean = argc == 3 && strcmp(argv[1], "clean") == 0;
	if (argc < 2 || (argc == 3 && !clean)) {
		fprintf(stderr, "usage: bad_use [clean] FILE\n");
		return 2;
	}
	const char *path = argv[argc - 1];
	int fd = clean ? xopen(path, O_RDWR | O_CLOEXEC) : open_then_close(path);
	int never = 900; /* far above anything this program opens */
	if (clean)
		never = fd;
	else if (fcntl(never, F_GETFD) >= 0 || errno != EBADF)
		die("fd %d is open", never);
	char buf[16];
	struct stat st;
	long r[6];
	int e[6];
	errno = 0;
	r[0] = read(fd, buf, sizeof buf), e[0] = errno;
	r[1] = write(fd, "x", 0), e[1] = errno;
	r[2] = fstat(fd, &st), e[2] = errno;
	r[3] = (long)lseek(fd, 0, SEEK_SET), e[3] = errno;
	r[4] = clean ? 0 : send(fd, "x", 1, MSG_NOSIGNAL), e[4] = errno;
	r[5] = read(never, buf, sizeof buf), e[5] = errno;
	printf("fd=%d never=%d read=%ld/%s write=%ld/%s fstat=%ld/%s lseek=%ld/%s send=%ld/%s "
	       "never_read=%ld/%s\n",
	       fd, never, r[0], errname((int)r[0], e[0]), r[1], errname((int)r[1], e[1]), r[2],
	       errname((int)r[2], e[2]), r[3], errname((int)r[3], e[3]), r[4],
	       errname((int)r[4], e[4]), r[5], errname((int)r[5], e[5]));
	if (clean)
		close(fd);
	return 0;
}
