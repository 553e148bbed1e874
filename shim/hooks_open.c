/* Hooks: the open family, which makes a new open file description. */
#include "shim.h"
#include "sys.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* What the call tells without a stat: the path, the access mode, a
 * directory when it asked for one (O_TMPFILE's path is its directory: a
 * file without a name). */
static inline int opened(int fd, enum kt_call call, int flags, void *site, const char *path)
{
	if (fd >= 0 && kt_on()) {
		bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
		struct kt_made m = {
			.type = tmpfile ? KT_FD_FILE : (flags & O_DIRECTORY) ? KT_FD_DIR : KT_FD_UNKNOWN,
			.access = (flags & O_PATH) ? -1 : flags & O_ACCMODE,
			.path = tmpfile ? NULL : path,
		};
		kt_note_made(fd, call, flags & O_CLOEXEC, site, &m);
	}
	return fd;
}

/* dlsym can re-enter an open before the real one is known: ask the kernel. */
static inline int raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)kt_syscall_libc(SYS_openat, dirfd, path, flags, mode);
}

#define OPEN_MODE(flags, mode)                                                                     \
	mode_t mode = 0;                                                                           \
	if (needs_mode(flags)) {                                                                   \
		va_list ap;                                                                        \
		va_start(ap, flags);                                                               \
		mode = (mode_t)va_arg(ap, int);                                                    \
		va_end(ap);                                                                        \
	}

KT_EXPORT int open(const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	int (*real)(const char *, int, ...) = KT_REAL(open);
	int fd = real ? real(path, flags, mode) : raw_openat(AT_FDCWD, path, flags, mode);
	return opened(fd, KT_CALL_OPEN, flags, __builtin_return_address(0), path);
}

KT_EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	int (*real)(const char *, int, ...) = KT_REAL(open64);
	int fd = real ? real(path, flags, mode) : raw_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
	return opened(fd, KT_CALL_OPEN64, flags, __builtin_return_address(0), path);
}

KT_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	int (*real)(int, const char *, int, ...) = KT_REAL(openat);
	int fd = real ? real(dirfd, path, flags, mode) : raw_openat(dirfd, path, flags, mode);
	return opened(fd, KT_CALL_OPENAT, flags, __builtin_return_address(0), path);
}

KT_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	int (*real)(int, const char *, int, ...) = KT_REAL(openat64);
	int fd = real ? real(dirfd, path, flags, mode) : raw_openat(dirfd, path, flags | O_LARGEFILE, mode);
	return opened(fd, KT_CALL_OPENAT64, flags, __builtin_return_address(0), path);
}

KT_EXPORT int creat(const char *path, mode_t mode)
{
	int (*real)(const char *, mode_t) = KT_REAL(creat);
	int flags = O_CREAT | O_WRONLY | O_TRUNC;
	int fd = real ? real(path, mode) : raw_openat(AT_FDCWD, path, flags, mode);
	return opened(fd, KT_CALL_CREAT, flags, __builtin_return_address(0), path);
}

KT_EXPORT int creat64(const char *path, mode_t mode)
{
	int (*real)(const char *, mode_t) = KT_REAL(creat64);
	int flags = O_CREAT | O_WRONLY | O_TRUNC;
	int fd = real ? real(path, mode) : raw_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
	return opened(fd, KT_CALL_CREAT64, flags, __builtin_return_address(0), path);
}

/* _FORTIFY_SOURCE turns constant-flag opens into these. */
KT_EXPORT int __open_2(const char *path, int flags)
{
	int (*real)(const char *, int) = KT_REAL(open_2);
	int fd = real ? real(path, flags) : raw_openat(AT_FDCWD, path, flags, 0);
	return opened(fd, KT_CALL_OPEN_2, flags, __builtin_return_address(0), path);
}

KT_EXPORT int __open64_2(const char *path, int flags)
{
	int (*real)(const char *, int) = KT_REAL(open64_2);
	int fd = real ? real(path, flags) : raw_openat(AT_FDCWD, path, flags | O_LARGEFILE, 0);
	return opened(fd, KT_CALL_OPEN64_2, flags, __builtin_return_address(0), path);
}

KT_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	int (*real)(int, const char *, int) = KT_REAL(openat_2);
	int fd = real ? real(dirfd, path, flags) : raw_openat(dirfd, path, flags, 0);
	return opened(fd, KT_CALL_OPENAT_2, flags, __builtin_return_address(0), path);
}

KT_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	int (*real)(int, const char *, int) = KT_REAL(openat64_2);
	int fd = real ? real(dirfd, path, flags) : raw_openat(dirfd, path, flags | O_LARGEFILE, 0);
	return opened(fd, KT_CALL_OPENAT64_2, flags, __builtin_return_address(0), path);
}
