/* Descriptors made by stdio and directory streams, which open and close
 * through libc-internal calls.
 *
 *   stdio_dir FILE DIR
 *
 * Keeps open: fopen(FILE, "r"), fopen(FILE, "re"), fopen64(FILE, "r"), a
 * stream freopen'd onto FILE (first fopen'd on /dev/null), one freopen64'd
 * the same way, fdopen of an open() of FILE, tmpfile(), tmpfile64(),
 * popen("true", "re") (read to its end, never pclose'd), opendir(DIR) and
 * fdopendir of an open() of DIR. Then, last, so that nothing reuses their
 * numbers: an fopen'd stream closed by fclose, a popen'd one by pclose, an
 * opendir'd one by closedir.
 *
 * stdout: fopen_fd=N fopen_e_fd=N fopen64_fd=N freopen_fd=N freopen64_fd=N
 *         fdopen_fd=N tmpfile_fd=N tmpfile64_fd=N popen_fd=N opendir_fd=N
 *         fdopendir_fd=N fclosed_fd=N pclosed_fd=N closedir_fd=N
 */
#include "scenario.h"

#include <dirent.h>

static FILE *xfopen(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);
	if (!f)
		die("fopen %s", path);
	return f;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: stdio_dir FILE DIR");
	const char *file = argv[1], *dir = argv[2];

	FILE *f1 = xfopen(file, "r");
	FILE *f2 = xfopen(file, "re");
	FILE *f3 = fopen64(file, "r");
	if (!f3)
		die("fopen64");
	FILE *r1 = xfopen("/dev/null", "r");
	if (freopen(file, "r", r1) != r1)
		die("freopen");
	FILE *r2 = xfopen("/dev/null", "r");
	if (freopen64(file, "r", r2) != r2)
		die("freopen64");
	int raw = xopen(file, O_RDONLY);
	FILE *fd1 = fdopen(raw, "r");
	if (!fd1)
		die("fdopen");
	FILE *t1 = tmpfile(), *t2 = tmpfile64();
	if (!t1 || !t2)
		die("tmpfile");
	FILE *pk = popen("true", "re");
	if (!pk)
		die("popen");
	char buf[64];
	while (fread(buf, 1, sizeof buf, pk) > 0)
		;
	DIR *d1 = opendir(dir);
	if (!d1)
		die("opendir");
	int rawdir = xopen(dir, O_RDONLY | O_DIRECTORY);
	DIR *d2 = fdopendir(rawdir);
	if (!d2)
		die("fdopendir");

	FILE *fc = xfopen(file, "r");
	int fclosed = fileno(fc);
	FILE *pc = popen("true", "r");
	if (!pc)
		die("popen true");
	int pclosed = fileno(pc);
	DIR *dc = opendir(dir);
	if (!dc)
		die("opendir %s", dir);
	int closedir_fd = dirfd(dc);
	if (fclose(fc) != 0)
		die("fclose");
	if (pclose(pc) != 0)
		die("pclose");
	if (closedir(dc) != 0)
		die("closedir");

	printf("fopen_fd=%d fopen_e_fd=%d fopen64_fd=%d freopen_fd=%d freopen64_fd=%d fdopen_fd=%d "
	       "tmpfile_fd=%d tmpfile64_fd=%d popen_fd=%d opendir_fd=%d fdopendir_fd=%d "
	       "fclosed_fd=%d pclosed_fd=%d closedir_fd=%d\n",
	       fileno(f1), fileno(f2), fileno(f3), fileno(r1), fileno(r2), fileno(fd1), fileno(t1),
	       fileno(t2), fileno(pk), dirfd(d1), dirfd(d2), fclosed, pclosed, closedir_fd);
	return 0;
}
