/* Hooks: recvmsg and recvmmsg, which receive descriptors passed over a UNIX
 * socket (SCM_RIGHTS): each one is a new reference, in this process, to the
 * sender's open file description; sendmsg and sendmmsg, which pass them:
 * the sender marks what it sent, with its file, so that the report can join
 * a receiver to it even when the sender closed its copy or ended before the
 * receipt (when kcmp has nothing left to compare with). */
#include "shim.h"
#include "sys.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The peer of a connected UNIX socket (socketpair: the process that made
 * the pair): the sender, when it is not this process itself. */
static pid_t peer_of(int sock)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid == kt_self.pid)
		return 0;
	return cred.pid;
}

/* The descriptors of msg's SCM_RIGHTS messages, at most max, into fds;
 * how many there were. */
static size_t passed_fds(const struct msghdr *msg, int *fds, size_t max)
{
	size_t count = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++, count++)
			if (count < max) /* no alignment promised */
				memcpy(&fds[count], data + i * sizeof(int), sizeof(int));
	}
	return count;
}

/* At most SCM_MAX_FD (253) descriptors go in one message. */
#define KT_PASSED_MAX 256

static void received(int sock, const struct msghdr *msg, enum kt_call call, int flags, void *site)
{
	if (!msg || !msg->msg_control || !kt_on())
		return;
	int fds[KT_PASSED_MAX];
	size_t n = passed_fds(msg, fds, KT_PASSED_MAX);
	pid_t sender = -1; /* asked once, when a descriptor arrived */
	int cloexec = (flags & MSG_CMSG_CLOEXEC) != 0;
	for (size_t i = 0; i < n && i < KT_PASSED_MAX; i++) {
		if (fds[i] < 0)
			continue;
		kt_note_new(fds[i], KT_HOW_RECEIVED, call, cloexec, -1, site);
		if (sender < 0)
			sender = peer_of(sock);
		kt_note_sender(fds[i], sender);
	}
}

/* Each descriptor of msg's SCM_RIGHTS messages: marked sent (record.h "ino"). */
static void sent(const struct msghdr *msg)
{
	int fds[KT_PASSED_MAX];
	size_t n = passed_fds(msg, fds, KT_PASSED_MAX);
	for (size_t i = 0; i < n && i < KT_PASSED_MAX; i++)
		kt_note_sent(fds[i]);
}

KT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t (*real)(int, const struct msghdr *, int) = KT_REAL(sendmsg);
	ssize_t r = real ? real(fd, msg, flags) : kt_syscall_libc(SYS_sendmsg, fd, msg, flags);
	KT_CHECK_USE(r, fd, KT_USE_SENDMSG);
	/* Only a message that carried control data can have passed descriptors. */
	if (r >= 0 && msg && msg->msg_control && msg->msg_controllen && kt_on()) {
		int saved = errno;
		sent(msg);
		errno = saved;
	}
	return r;
}

KT_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	int (*real)(int, void *, unsigned int, int) = KT_REAL(sendmmsg);
	int r = real ? real(fd, vec, vlen, flags) : (int)kt_syscall_libc(SYS_sendmmsg, fd, vec, vlen, flags);
	KT_CHECK_USE(r, fd, KT_USE_SENDMMSG);
	if (r > 0 && vec && kt_on()) {
		int saved = errno;
		for (int i = 0; i < r; i++)
			if (vec[i].msg_hdr.msg_control && vec[i].msg_hdr.msg_controllen)
				sent(&vec[i].msg_hdr);
		errno = saved;
	}
	return r;
}

KT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t (*real)(int, struct msghdr *, int) = KT_REAL(recvmsg);
	ssize_t r = real ? real(fd, msg, flags) : kt_syscall_libc(SYS_recvmsg, fd, msg, flags);
	KT_CHECK_USE(r, fd, KT_USE_RECVMSG);
	if (r >= 0) {
		int saved = errno;
		received(fd, msg, KT_CALL_RECVMSG, flags, __builtin_return_address(0));
		errno = saved;
	}
	return r;
}

KT_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout)
{
	int (*real)(int, void *, unsigned int, int, struct timespec *) = KT_REAL(recvmmsg);
	int r = real ? real(fd, vec, vlen, flags, timeout)
		     : (int)kt_syscall_libc(SYS_recvmmsg, fd, vec, vlen, flags, timeout);
	KT_CHECK_USE(r, fd, KT_USE_RECVMMSG);
	if (r > 0 && vec) {
		int saved = errno;
		for (int i = 0; i < r; i++)
			received(fd, &vec[i].msg_hdr, KT_CALL_RECVMMSG, flags, __builtin_return_address(0));
		errno = saved;
	}
	return r;
}
