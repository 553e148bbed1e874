/* Every other call watched for a use of a descriptor that is not open
 * (bad_use.c has read, write, fstat, lseek and send), each on a number
 * that was opened and closed. Built with _FORTIFY_SOURCE=2 and
 * _FILE_OFFSET_BITS=64, so that read, pread, recv and recvfrom with a
 * length the compiler cannot see are glibc's __read_chk, __pread64_chk,
 * __recv_chk and __recvfrom_chk (they read with internal calls that the
 * read, pread, recv and recvfrom hooks never see), pwrite is pwrite64 and
 * fcntl fcntl64.
 *
 *   bad_use_calls FILE        the calls on a closed descriptor: EBADF each
 *   bad_use_calls clean FILE  the same calls on FILE open (other errors,
 *                             such as ENOTSOCK, but no EBADF)
 *
 * stdout: fd=N, then NAME=R/E for each call in the order made (R the
 * return value, E the errno name or 0), NAME the call's name in the report
 * (read for __read_chk...)
 */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#undef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#include "scenario.h"

#include <sys/ioctl.h>
#include <sys/uio.h>

static volatile size_t hidden_len = 8; /* not a compile-time constant: the _chk calls */

static void show(const char *name, long r)
{
	int e = errno;
	printf(" %s=%ld/%s", name, r, r >= 0 ? "0" : e == EBADF ? "EBADF" : strerrorname_np(e));
	errno = 0;
}

int main(int argc, char **argv)
{
	int clean = argc == 3 && strcmp(argv[1], "clean") == 0;
	if (argc < 2 || (argc == 3 && !clean)) {
		fprintf(stderr, "usage: bad_use_calls [clean] FILE\n");
		return 2;
	}
	int fd = xopen(argv[argc - 1], O_RDWR | O_CLOEXEC);
	if (!clean && close(fd) != 0)
		die("close");
	printf("fd=%d", fd);
	char buf[16];
	struct iovec iov = {buf, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct mmsghdr mm = {.msg_hdr = msg};
	int n;
	errno = 0;
	show("read", read(fd, buf, hidden_len));
	show("pread", pread(fd, buf, hidden_len, 0));
	show("recv", recv(fd, buf, hidden_len, MSG_DONTWAIT));
	show("recvfrom", recvfrom(fd, buf, hidden_len, MSG_DONTWAIT, NULL, NULL));
	show("pwrite", pwrite(fd, "x", 0, 0));
	show("readv", readv(fd, &iov, 1));
	show("writev", writev(fd, &iov, 0));
	show("sendto", sendto(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0));
	show("sendmsg", sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT));
	show("recvmsg", recvmsg(fd, &msg, MSG_DONTWAIT));
	show("sendmmsg", sendmmsg(fd, &mm, 1, MSG_NOSIGNAL | MSG_DONTWAIT));
	show("recvmmsg", recvmmsg(fd, &mm, 1, MSG_DONTWAIT, NULL));
	show("ioctl", ioctl(fd, FIONREAD, &n));
	show("fcntl", fcntl(fd, F_SETFL, O_NONBLOCK));
	printf("\n");
	if (clean)
		close(fd);
	return 0;
}
