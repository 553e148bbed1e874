/* Hooks: uses of a descriptor (read, write, pread, pwrite, readv, writev,
 * lseek, fstat), watched for one thing, valgrind's "invalid file
 * descriptor": a call that fails with EBADF on a number >= 0 was given a
 * descriptor that is not open, often one closed earlier (a use after
 * close). The real call runs first and its result and errno are the
 * program's; the hot path pays one predictable branch (KT_CHECK_USE). */
#include "shim.h"
#include "sys.h"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Out of line: only the error path comes here. */
__attribute__((noinline, cold)) void kt_bad_use_after(int fd, enum kt_use_call call, void *site)
{
	if (!kt_on())
		return;
	int saved = errno;
	kt_note_bad_use(fd, call, site);
	errno = saved;
}

KT_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t (*real)(int, void *, size_t) = KT_REAL(read);
	ssize_t r = real ? real(fd, buf, n) : kt_syscall_libc(SYS_read, fd, buf, n);
	KT_CHECK_USE(r, fd, KT_USE_READ);
	return r;
}

/* _FORTIFY_SOURCE's read with a known buffer size: glibc's checks it, then
 * reads with an internal call the read hook never sees. */
KT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t (*real)(int, void *, size_t, size_t) = KT_REAL(read_chk);
	ssize_t r = real ? real(fd, buf, n, buflen) : kt_syscall_libc(SYS_read, fd, buf, n);
	KT_CHECK_USE(r, fd, KT_USE_READ);
	return r;
}

KT_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	ssize_t (*real)(int, const void *, size_t) = KT_REAL(write);
	ssize_t r = real ? real(fd, buf, n) : kt_syscall_libc(SYS_write, fd, buf, n);
	KT_CHECK_USE(r, fd, KT_USE_WRITE);
	return r;
}

KT_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t (*real)(int, void *, size_t, off_t) = KT_REAL(pread);
	ssize_t r = real ? real(fd, buf, n, off) : kt_syscall_libc(SYS_pread64, fd, buf, n, off);
	KT_CHECK_USE(r, fd, KT_USE_PREAD);
	return r;
}

KT_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	ssize_t (*real)(int, void *, size_t, off64_t) = KT_REAL(pread64);
	ssize_t r = real ? real(fd, buf, n, off) : kt_syscall_libc(SYS_pread64, fd, buf, n, off);
	KT_CHECK_USE(r, fd, KT_USE_PREAD);
	return r;
}

KT_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	ssize_t (*real)(int, void *, size_t, off_t, size_t) = KT_REAL(pread_chk);
	ssize_t r = real ? real(fd, buf, n, off, buflen) : kt_syscall_libc(SYS_pread64, fd, buf, n, off);
	KT_CHECK_USE(r, fd, KT_USE_PREAD);
	return r;
}

KT_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	ssize_t (*real)(int, void *, size_t, off64_t, size_t) = KT_REAL(pread64_chk);
	ssize_t r = real ? real(fd, buf, n, off, buflen) : kt_syscall_libc(SYS_pread64, fd, buf, n, off);
	KT_CHECK_USE(r, fd, KT_USE_PREAD);
	return r;
}

KT_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t (*real)(int, const void *, size_t, off_t) = KT_REAL(pwrite);
	ssize_t r = real ? real(fd, buf, n, off) : kt_syscall_libc(SYS_pwrite64, fd, buf, n, off);
	KT_CHECK_USE(r, fd, KT_USE_PWRITE);
	return r;
}

KT_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	ssize_t (*real)(int, const void *, size_t, off64_t) = KT_REAL(pwrite64);
	ssize_t r = real ? real(fd, buf, n, off) : kt_syscall_libc(SYS_pwrite64, fd, buf, n, off);
	KT_CHECK_USE(r, fd, KT_USE_PWRITE);
	return r;
}

KT_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	ssize_t (*real)(int, const struct iovec *, int) = KT_REAL(readv);
	ssize_t r = real ? real(fd, iov, n) : kt_syscall_libc(SYS_readv, fd, iov, n);
	KT_CHECK_USE(r, fd, KT_USE_READV);
	return r;
}

KT_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	ssize_t (*real)(int, const struct iovec *, int) = KT_REAL(writev);
	ssize_t r = real ? real(fd, iov, n) : kt_syscall_libc(SYS_writev, fd, iov, n);
	KT_CHECK_USE(r, fd, KT_USE_WRITEV);
	return r;
}

KT_EXPORT off_t lseek(int fd, off_t off, int whence)
{
	off_t (*real)(int, off_t, int) = KT_REAL(lseek);
	off_t r = real ? real(fd, off, whence) : kt_syscall_libc(SYS_lseek, fd, off, whence);
	KT_CHECK_USE(r, fd, KT_USE_LSEEK);
	return r;
}

KT_EXPORT off64_t lseek64(int fd, off64_t off, int whence)
{
	off64_t (*real)(int, off64_t, int) = KT_REAL(lseek64);
	off64_t r = real ? real(fd, off, whence) : kt_syscall_libc(SYS_lseek, fd, off, whence);
	KT_CHECK_USE(r, fd, KT_USE_LSEEK);
	return r;
}

KT_EXPORT int fstat(int fd, struct stat *st)
{
	int (*real)(int, struct stat *) = KT_REAL(fstat);
	int r = real ? real(fd, st) : (int)kt_syscall_libc(SYS_fstat, fd, st);
	KT_CHECK_USE(r, fd, KT_USE_FSTAT);
	return r;
}

KT_EXPORT int fstat64(int fd, struct stat64 *st)
{
	int (*real)(int, struct stat64 *) = KT_REAL(fstat64);
	int r = real ? real(fd, st) : (int)kt_syscall_libc(SYS_fstat, fd, st);
	KT_CHECK_USE(r, fd, KT_USE_FSTAT);
	return r;
}

/* The stat version argument is glibc's (its struct layout): without the
 * real function the kernel's fstat is that layout on 64-bit Linux. */
KT_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	int (*real)(int, int, struct stat *) = KT_REAL(fxstat);
	int r = real ? real(ver, fd, st) : (int)kt_syscall_libc(SYS_fstat, fd, st);
	KT_CHECK_USE(r, fd, KT_USE_FSTAT);
	return r;
}

KT_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	int (*real)(int, int, struct stat64 *) = KT_REAL(fxstat64);
	int r = real ? real(ver, fd, st) : (int)kt_syscall_libc(SYS_fstat, fd, st);
	KT_CHECK_USE(r, fd, KT_USE_FSTAT);
	return r;
}
