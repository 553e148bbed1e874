/* Hooks: directory streams. opendir opens, and closedir closes, through
 * libc-internal calls; the descriptor is dirfd() of the stream. */
#include "shim.h"

#include <dirent.h>
#include <fcntl.h>

static inline int stream_fd(DIR *d)
{
	int saved = errno;
	int fd = d ? dirfd(d) : -1;
	errno = saved;
	return fd;
}

KT_EXPORT DIR *opendir(const char *path)
{
	DIR *(*real)(const char *) = KT_REAL(opendir);
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	DIR *d = real(path);
	if (d && kt_on()) {
		int fd = stream_fd(d);
		if (fd >= 0) /* glibc opens directories O_CLOEXEC */
			kt_note_made(fd, KT_CALL_OPENDIR, 1, __builtin_return_address(0),
				     &(struct kt_made){.type = KT_FD_DIR, .access = O_RDONLY, .path = path});
	}
	return d;
}

/* No new descriptor, but glibc sets FD_CLOEXEC on the one it is given. */
KT_EXPORT DIR *fdopendir(int fd)
{
	DIR *(*real)(int) = KT_REAL(fdopendir);
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	DIR *d = real(fd);
	if (d && kt_on())
		kt_note_cloexec(fd, 1);
	return d;
}

KT_EXPORT int closedir(DIR *d)
{
	int (*real)(DIR *) = KT_REAL(closedir);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* d is declared nonnull: no test of it here. */
	if (kt_on()) {
		int saved = errno;
		int fd = dirfd(d);
		errno = saved;
		if (fd >= 0)
			kt_note_close(fd, KT_CLOSE_CLOSEDIR, __builtin_return_address(0));
	}
	return real(d);
}
