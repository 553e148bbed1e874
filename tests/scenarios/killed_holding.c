/* A child that makes one descriptor of each kind (none inherited, so that
 * no fork has looked at them), then is killed (SIGKILL): it leaves no
 * snapshot of its own, only its table, as a process killed by a Ctrl-C to
 * the whole group does when the launcher looks too late. Its sockets: a
 * socketpair, a socket(), and a connection accepted on a listening socket
 * (made by socket() too) from a client socket(), and a dup of it. (No fork
 * after them: a fork would have the shim learn every inode.)
 *
 *   killed_holding PATH     (PATH: a file the child opens by path, read-only)
 *
 * stdout, before the kill: child=PID read_fd=N write_fd=N file_fd=N
 * pair0_fd=N pair1_fd=N sock_fd=N dup_fd=N listen_fd=N client_fd=N
 * accepted_fd=N accepted_dup_fd=N
 * The parent exits 0 once the child was killed by SIGKILL.
 */
#include "scenario.h"

#include <signal.h>
#include <stddef.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: killed_holding PATH");
	pid_t child = xfork();
	if (child == 0) {
		int p[2], s[2];
		xpipe(p);
		int file = xopen(argv[1], O_RDONLY);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
			die("socketpair");
		int sock = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (sock < 0)
			die("socket");
		int copy = dup(p[1]);
		if (copy < 0)
			die("dup");
		/* an abstract address of this child's own */
		struct sockaddr_un addr = {.sun_family = AF_UNIX};
		int len = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "killed_holding.%d",
				   (int)getpid());
		socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
		int listener = socket(AF_UNIX, SOCK_STREAM, 0);
		int client = socket(AF_UNIX, SOCK_STREAM, 0);
		if (listener < 0 || client < 0 || bind(listener, (struct sockaddr *)&addr, alen) != 0 ||
		    listen(listener, 1) != 0 || connect(client, (struct sockaddr *)&addr, alen) != 0)
			die("listen and connect");
		int accepted = accept(listener, NULL, NULL);
		if (accepted < 0)
			die("accept");
		int accepted_dup = dup(accepted);
		if (accepted_dup < 0)
			die("dup");
		printf("child=%d read_fd=%d write_fd=%d file_fd=%d pair0_fd=%d pair1_fd=%d sock_fd=%d dup_fd=%d "
		       "listen_fd=%d client_fd=%d accepted_fd=%d accepted_dup_fd=%d\n",
		       (int)getpid(), p[0], p[1], file, s[0], s[1], sock, copy, listener, client,
		       accepted, accepted_dup);
		fflush(stdout);
		kill(getpid(), SIGKILL);
		_exit(98);
	}
	int st;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		die("child was not killed");
	return 0;
}
