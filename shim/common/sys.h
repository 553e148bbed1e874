/* Raw system calls for code that runs inside the shim: calling open() or
 * close() by name from the shim would re-enter its own hooks, and these
 * never touch malloc. They return -errno on failure, like the kernel. */
#ifndef KT_SYS_H
#define KT_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline long kt_sys_ret(long r)
{
	return r < 0 ? -errno : r;
}

static inline int kt_sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)kt_sys_ret(syscall(SYS_openat, dirfd, path, flags, mode));
}

static inline int kt_sys_close(int fd)
{
	return (int)kt_sys_ret(syscall(SYS_close, fd));
}

static inline ssize_t kt_sys_read(int fd, void *buf, size_t n)
{
	return kt_sys_ret(syscall(SYS_read, fd, buf, n));
}

static inline ssize_t kt_sys_write(int fd, const void *buf, size_t n)
{
	return kt_sys_ret(syscall(SYS_write, fd, buf, n));
}

static inline int kt_sys_fcntl(int fd, int cmd, long arg)
{
	return (int)kt_sys_ret(syscall(SYS_fcntl, fd, cmd, arg));
}

static inline long kt_sys_getdents64(int fd, void *buf, size_t n)
{
	return kt_sys_ret(syscall(SYS_getdents64, fd, buf, n));
}

static inline ssize_t kt_sys_readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	return kt_sys_ret(syscall(SYS_readlinkat, dirfd, path, buf, n));
}

static inline int kt_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)kt_sys_ret(syscall(SYS_newfstatat, dirfd, path, st, flags));
}

static inline int kt_sys_fstat(int fd, struct stat *st)
{
	return (int)kt_sys_ret(syscall(SYS_fstat, fd, st));
}

static inline pid_t kt_sys_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

static inline pid_t kt_sys_getppid(void)
{
	return (pid_t)syscall(SYS_getppid);
}

/* Descriptors the shim holds for a moment live far above the application's
 * range, so that they never take a number the application would get. */
int kt_sys_open_high(int dirfd, const char *path, int flags, mode_t mode);
/* Move an open descriptor high (closing the low one). Returns the new fd. */
int kt_sys_move_high(int fd);

#endif
