/* Descriptors passed to a child over a socket pair (SCM_RIGHTS).
 *
 *   scm_rights FILE
 *
 * The parent makes a socket pair and forks. It then opens FILE (file_fd)
 * and a pipe (pipe_read_fd, pipe_write_fd) and sends the file and the pipe's
 * read end in one message, then the pipe's write end in a second one. The
 * child receives the first with recvmsg (no flags), the second with
 * recvmmsg and MSG_CMSG_CLOEXEC, sends the numbers it got back, and exits
 * while the parent still holds everything (the parent waits for it).
 *
 * stdout: file_fd=N pipe_read_fd=N pipe_write_fd=N recv_file_fd=N
 *         recv_pipe_fd=N recvmmsg_fd=N
 */
#include "scenario.h"

#include <sys/socket.h>

static void send_fds(int sock, const int *fds, int n)
{
	char byte = 'x';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE((size_t)n * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

/* The descriptors of the first SCM_RIGHTS message in msg, into out. */
static int take_fds(struct msghdr *msg, int *out, int max)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (n > max)
				n = max;
			memcpy(out, CMSG_DATA(c), (size_t)n * sizeof(int));
			return n;
		}
	}
	return 0;
}

static void child(int sock)
{
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u1, u2;
	int got[3] = {-1, -1, -1};

	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u1.buf,
			     .msg_controllen = sizeof u1.buf};
	if (recvmsg(sock, &msg, 0) != 1 || take_fds(&msg, got, 2) != 2)
		die("recvmsg: expected two descriptors");

	struct mmsghdr mm = {.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u2.buf,
					 .msg_controllen = sizeof u2.buf}};
	if (recvmmsg(sock, &mm, 1, MSG_CMSG_CLOEXEC, NULL) != 1 || take_fds(&mm.msg_hdr, got + 2, 1) != 1)
		die("recvmmsg: expected one descriptor");
	write_all(sock, got, sizeof got);
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: scm_rights FILE");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	pid_t pid = xfork();
	if (pid == 0) {
		close(sv[0]);
		child(sv[1]);
	}
	close(sv[1]);
	int file = xopen(argv[1], O_RDONLY);
	int p[2];
	xpipe(p);
	int first[2] = {file, p[0]};
	send_fds(sv[0], first, 2);
	send_fds(sv[0], &p[1], 1);
	int got[3];
	errno = 0;
	if (!read_all(sv[0], got, sizeof got))
		die("child sent no numbers");
	reap(pid, "child");
	printf("file_fd=%d pipe_read_fd=%d pipe_write_fd=%d recv_file_fd=%d recv_pipe_fd=%d recvmmsg_fd=%d\n",
	       file, p[0], p[1], got[0], got[1], got[2]);
	return 0;
}
