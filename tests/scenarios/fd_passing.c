/* A descriptor passed to a child over a socket pair (SCM_RIGHTS), as a
 * server hands a connection to a worker: what the worker then does with
 * it is its own business, not the sender's.
 *
 *   fd_passing handover FILE
 *   fd_passing exec
 *   fd_passing exec-dup2
 *
 * handover: the parent opens FILE and sends it; once the child has it, the
 * parent closes its copy (handed over) and tells the child, which then sets
 * O_NONBLOCK on it. Nobody else holds the description by then.
 *
 * exec, exec-dup2: the parent makes a pipe with O_CLOEXEC and sends its
 * write end; the child receives it without MSG_CMSG_CLOEXEC and execs
 * /bin/true keeping it (a leak of the child's). With exec-dup2 the parent
 * first dup2()s the write end onto the very number the child will get, and
 * sends that: a dup2 of the parent's, not a placement by the child.
 * The parent holds everything until the child has ended.
 *
 * stdout: child=PID recv_fd=N
 */
#include "scenario.h"

#include <sys/socket.h>

/* The number the next descriptor of this process gets. */
static int lowest_free(void)
{
	int fd = fcntl(0, F_DUPFD, 0);
	if (fd < 0)
		die("fcntl F_DUPFD");
	close(fd);
	return fd;
}

int main(int argc, char **argv)
{
	int handover = argc == 3 && strcmp(argv[1], "handover") == 0;
	int place = argc == 2 && strcmp(argv[1], "exec-dup2") == 0;
	if (!handover && !place && !(argc == 2 && strcmp(argv[1], "exec") == 0))
		die("usage: fd_passing handover FILE | exec | exec-dup2");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair");
	/* Both ends out of the way of the numbers compared below. */
	int mine = fcntl(sv[0], F_DUPFD_CLOEXEC, 60), theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, 70);
	if (mine < 0 || theirs < 0)
		die("fcntl F_DUPFD_CLOEXEC");
	close(sv[0]);
	close(sv[1]);
	pid_t pid = xfork();
	if (pid == 0) {
		close(mine);
		int next = lowest_free();
		write_all(theirs, &next, sizeof next);
		int fd = recv_fd(theirs);
		if (fd != next)
			die("received fd %d, expected %d", fd, next);
		write_all(theirs, &fd, sizeof fd);
		if (handover) {
			wait_go(theirs); /* the parent closed its copy */
			int fl = fcntl(fd, F_GETFL);
			if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
				die("fcntl F_SETFL");
			exit(0);
		}
		execl("/bin/true", "true", (char *)NULL);
		die("exec /bin/true");
	}
	close(theirs);
	int next, got;
	errno = 0;
	if (!read_all(mine, &next, sizeof next))
		die("child sent no number");
	int fd;
	if (handover) {
		fd = xopen(argv[2], O_RDONLY | O_CLOEXEC);
	} else {
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0)
			die("pipe2");
		fd = p[1];
		if (place) {
			/* the child's number, free here: the pipe went elsewhere */
			int rd = fcntl(p[0], F_DUPFD_CLOEXEC, 80), wr = fcntl(p[1], F_DUPFD_CLOEXEC, 81);
			if (rd < 0 || wr < 0)
				die("fcntl F_DUPFD_CLOEXEC");
			close(p[0]);
			close(p[1]);
			if (dup2(wr, next) != next)
				die("dup2");
			fd = next;
		}
	}
	send_fd(mine, fd);
	if (!read_all(mine, &got, sizeof got))
		die("child sent no descriptor number");
	if (handover) {
		close(fd); /* handed over */
		signal_go(mine);
	}
	reap(pid, "child");
	printf("child=%d recv_fd=%d\n", (int)pid, got);
	return 0;
}
