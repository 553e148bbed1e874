/* sent_then_gone: a descriptor passed over a socket pair (SCM_RIGHTS) by a
 * process that is gone before the receiver takes it, so that kcmp never
 * sees the sender's copy and the receiver's at once.
 *
 *   sent_then_gone FILE [twice]
 *
 * The parent (the receiver) listens on an abstract UNIX socket and forks
 * the sender, which connects to it. The sender opens FILE, forks a keeper
 * that holds the descriptor and exits at once, waits for it, sends the
 * descriptor and closes it, and exits. Only then does the parent accept
 * the connection and receive it (it waits for the sender first), and it
 * exits holding it. The keeper's descriptor and the parent's are one open
 * file description, which only what the sender recorded can tell.
 * With "twice" the sender opens FILE twice and sends both (two descriptions
 * of one file): which one the parent's first is cannot be told by the file.
 *
 * stdout: keeper=PID received_fd=N [received_fd2=N]
 */
#include "scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	if (argc < 2 || (argc == 3 && strcmp(argv[2], "twice") != 0) || argc > 3)
		die("usage: sent_then_gone FILE [twice]");
	bool twice = argc == 3;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "kcmptrace-sent-then-gone-%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 || listen(listener, 1) != 0)
		die("listen");
	pid_t sender = xfork();
	if (sender == 0) {
		int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sock < 0 || connect(sock, (struct sockaddr *)&addr, len) != 0)
			die("connect");
		int fd = xopen(argv[1], O_RDONLY | O_CLOEXEC);
		pid_t keeper = xfork();
		if (keeper == 0)
			exit(0); /* holds fd at its exit */
		reap(keeper, "keeper");
		printf("keeper=%d", (int)keeper);
		fflush(stdout);
		send_fd(sock, fd);
		close(fd);
		if (twice) {
			int fd2 = xopen(argv[1], O_RDONLY | O_CLOEXEC);
			send_fd(sock, fd2);
			close(fd2);
		}
		exit(0);
	}
	reap(sender, "sender");
	int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		die("accept");
	int got = recv_fd(conn);
	printf(" received_fd=%d", got);
	if (twice)
		printf(" received_fd2=%d", recv_fd(conn));
	printf("\n");
	return 0;
}
