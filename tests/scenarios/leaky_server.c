/* leaky_server: the example kcmptrace ships with.
 *
 *   build/kcmptrace -- build/scenarios/leaky_server
 *
 * A "server" starts a helper program and reads one line from it, with two
 * classic descriptor-inheritance bugs that kcmptrace makes visible:
 *
 *  1. The listening socket is created without SOCK_CLOEXEC, so it survives
 *     fork + exec: the helper, a program that knows nothing about it, holds
 *     the same open socket. Had the helper lived on, the port would have
 *     stayed bound after the server exited. (Fix: socket(..., SOCK_STREAM |
 *     SOCK_CLOEXEC, 0).)
 *  2. The server reads the helper's output from a pipe but never closes its
 *     own copy of the pipe's write end, so it could never see end of file.
 *     (Fix: close(out[1]) in the parent right after fork().)
 *
 * The report shows the socket's description held by both processes (fd
 * listen_fd in the server, the same number in the helper) and the pipe's
 * write end still open in the server at its exit.
 *
 * stdout: listen_fd=N pipe_read_fd=N pipe_write_fd=N helper_said=ready
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--helper") == 0) {
		/* The helper: stdout is the pipe; it also holds, unknowingly, the
		 * server's listening socket. */
		printf("ready\n");
		return 0;
	}

	/* Bug 1: no SOCK_CLOEXEC. */
	int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0)
		die("socket");
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0)
		die("bind 127.0.0.1:0");
	if (listen(listen_fd, 16) != 0)
		die("listen");

	int out[2];
	xpipe(out);
	pid_t helper = xfork();
	if (helper == 0) {
		dup2(out[1], 1); /* the helper's stdout is the pipe */
		close(out[0]);
		close(out[1]);
		execl("/proc/self/exe", "leaky_server", "--helper", (char *)NULL);
		die("exec helper");
	}
	/* Bug 2: missing close(out[1]) here. */

	char line[64];
	size_t len = 0;
	while (len < sizeof line - 1) {
		ssize_t r = read(out[0], line + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	reap(helper, "helper");

	printf("listen_fd=%d pipe_read_fd=%d pipe_write_fd=%d helper_said=%s\n",
	       listen_fd, out[0], out[1], line);
	return 0;
}
