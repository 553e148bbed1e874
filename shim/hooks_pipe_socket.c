/* Hooks: pipes and sockets, each a new open file description (two for a
 * pipe or a socket pair, one per accepted connection). */
#include "shim.h"
#include "sys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A socket, read-write, with its inode, so that a report made after the
 * process was killed names it socket:[INODE], as /proc would have. It
 * costs one system call more (fstat) per socket() and accept(): a
 * connection made and accepted (scripts/bench socket_accept) makes 7 calls
 * instead of 5. */
static inline void made(int fd, enum kt_call call, int cloexec, void *site)
{
	if (fd < 0 || !kt_on())
		return;
	struct stat st;
	struct kt_made m = {.type = KT_FD_SOCKET, .access = O_RDWR};
	if (kt_sys_fstat(fd, &st) == 0) {
		m.dev = st.st_dev;
		m.ino = st.st_ino;
	}
	kt_note_made(fd, call, cloexec, site, &m);
}

KT_EXPORT int pipe(int fds[2])
{
	int (*real)(int[2]) = KT_REAL(pipe);
	int r = real ? real(fds) : (int)kt_syscall_libc(SYS_pipe2, fds, 0);
	if (r == 0 && kt_on())
		kt_note_made_pair(fds, KT_CALL_PIPE, 0, __builtin_return_address(0), KT_FD_PIPE);
	return r;
}

KT_EXPORT int pipe2(int fds[2], int flags)
{
	int (*real)(int[2], int) = KT_REAL(pipe2);
	int r = real ? real(fds, flags) : (int)kt_syscall_libc(SYS_pipe2, fds, flags);
	if (r == 0 && kt_on())
		kt_note_made_pair(fds, KT_CALL_PIPE2, flags & O_CLOEXEC, __builtin_return_address(0), KT_FD_PIPE);
	return r;
}

KT_EXPORT int socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) = KT_REAL(socket);
	int fd = real ? real(domain, type, protocol) : (int)kt_syscall_libc(SYS_socket, domain, type, protocol);
	made(fd, KT_CALL_SOCKET, type & O_CLOEXEC, __builtin_return_address(0));
	return fd;
}

KT_EXPORT int socketpair(int domain, int type, int protocol, int fds[2])
{
	int (*real)(int, int, int, int[2]) = KT_REAL(socketpair);
	int r = real ? real(domain, type, protocol, fds) : (int)kt_syscall_libc(SYS_socketpair, domain, type, protocol, fds);
	if (r == 0 && kt_on())
		kt_note_made_pair(fds, KT_CALL_SOCKETPAIR, type & O_CLOEXEC, __builtin_return_address(0),
				  KT_FD_SOCKET);
	return r;
}

/* <sys/socket.h> is left out on purpose: glibc declares accept with a
 * transparent union; the ABI is two pointers. SOCK_CLOEXEC is O_CLOEXEC. */
KT_EXPORT int accept(int fd, void *addr, void *len)
{
	int (*real)(int, void *, void *) = KT_REAL(accept);
	int r = real ? real(fd, addr, len) : (int)kt_syscall_libc(SYS_accept4, fd, addr, len, 0);
	made(r, KT_CALL_ACCEPT, 0, __builtin_return_address(0));
	return r;
}

KT_EXPORT int accept4(int fd, void *addr, void *len, int flags)
{
	int (*real)(int, void *, void *, int) = KT_REAL(accept4);
	int r = real ? real(fd, addr, len, flags) : (int)kt_syscall_libc(SYS_accept4, fd, addr, len, flags);
	made(r, KT_CALL_ACCEPT4, flags & O_CLOEXEC, __builtin_return_address(0));
	return r;
}
