/* Hooks: send, recv, sendto, recvfrom (and _FORTIFY_SOURCE's recv checks),
 * watched for EBADF only, as hooks_io.c's. <sys/socket.h> is left out on
 * purpose: glibc declares the address arguments as a transparent union. */
#include "shim.h"
#include "sys.h"

#include <sys/syscall.h>

KT_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	ssize_t (*real)(int, const void *, size_t, int) = KT_REAL(send);
	ssize_t r = real ? real(fd, buf, n, flags) : kt_syscall_libc(SYS_sendto, fd, buf, n, flags, 0, 0);
	KT_CHECK_USE(r, fd, KT_USE_SEND);
	return r;
}

KT_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	ssize_t (*real)(int, void *, size_t, int) = KT_REAL(recv);
	ssize_t r = real ? real(fd, buf, n, flags) : kt_syscall_libc(SYS_recvfrom, fd, buf, n, flags, 0, 0);
	KT_CHECK_USE(r, fd, KT_USE_RECV);
	return r;
}

KT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	ssize_t (*real)(int, void *, size_t, size_t, int) = KT_REAL(recv_chk);
	ssize_t r = real ? real(fd, buf, n, buflen, flags)
			 : kt_syscall_libc(SYS_recvfrom, fd, buf, n, flags, 0, 0);
	KT_CHECK_USE(r, fd, KT_USE_RECV);
	return r;
}

KT_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const void *addr, unsigned int len)
{
	ssize_t (*real)(int, const void *, size_t, int, const void *, unsigned int) = KT_REAL(sendto);
	ssize_t r = real ? real(fd, buf, n, flags, addr, len)
			 : kt_syscall_libc(SYS_sendto, fd, buf, n, flags, addr, len);
	KT_CHECK_USE(r, fd, KT_USE_SENDTO);
	return r;
}

KT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, void *addr, void *len)
{
	ssize_t (*real)(int, void *, size_t, int, void *, void *) = KT_REAL(recvfrom);
	ssize_t r = real ? real(fd, buf, n, flags, addr, len)
			 : kt_syscall_libc(SYS_recvfrom, fd, buf, n, flags, addr, len);
	KT_CHECK_USE(r, fd, KT_USE_RECVFROM);
	return r;
}

KT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, void *addr,
				 void *len)
{
	ssize_t (*real)(int, void *, size_t, size_t, int, void *, void *) = KT_REAL(recvfrom_chk);
	ssize_t r = real ? real(fd, buf, n, buflen, flags, addr, len)
			 : kt_syscall_libc(SYS_recvfrom, fd, buf, n, flags, addr, len);
	KT_CHECK_USE(r, fd, KT_USE_RECVFROM);
	return r;
}
