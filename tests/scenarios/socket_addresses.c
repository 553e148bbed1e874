/* socket_addresses: one socket of each kind of address, open at exit, for
 * the report's "address" of socket descriptors:
 *   a TCP listener on 127.0.0.1 (an ephemeral port), a client connected
 *   to it and the accepted end; a UNIX socket listening on a path and one
 *   bound to an abstract name; a socketpair (unnamed ends).
 * and a TCP listener on [::1] when the machine has IPv6 (else ipv6_fd=-1).
 * With --exec, a child runs `true`, holding the TCP listener across exec
 * (no SOCK_CLOEXEC); with --hold, the child runs `sleep 30` and the
 * program waits for a line on stdin before ending, so that a live
 * snapshot can see the sockets from outside.
 *
 * argv[1]: the directory for the UNIX socket's path.
 * stdout: listen_fd=N port=P client_fd=N client_port=P accepted_fd=N
 *         unix_fd=N abstract_fd=N abstract=NAME pair_fd=N pair_fd2=N
 *         ipv6_fd=N ipv6_port=P
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static int port_of(int fd)
{
	struct sockaddr_in6 a; /* room for either; the port is at one place */
	socklen_t len = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("getsockname");
	return ntohs(a.sin6_port);
}

/* A listener on [::1]:0, or -1 when the machine has no IPv6. */
static int ipv6_listener(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: socket_addresses DIR [--hold]");
	int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in in = {.sin_family = AF_INET};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&in, sizeof in) != 0 ||
	    listen(listen_fd, 4) != 0)
		die("listen on 127.0.0.1:0");
	in.sin_port = htons((uint16_t)port_of(listen_fd));
	int client_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (client_fd < 0 || connect(client_fd, (struct sockaddr *)&in, sizeof in) != 0)
		die("connect");
	int accepted_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (accepted_fd < 0)
		die("accept");

	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof un.sun_path, "%s/s.sock", argv[1]);
	int unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (unix_fd < 0 || bind(unix_fd, (struct sockaddr *)&un, sizeof un) != 0 ||
	    listen(unix_fd, 1) != 0)
		die("listen on %s", un.sun_path);

	char name[64];
	snprintf(name, sizeof name, "kt-abstract-%d", (int)getpid());
	struct sockaddr_un ab = {.sun_family = AF_UNIX};
	memcpy(ab.sun_path + 1, name, strlen(name));
	int abstract_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (abstract_fd < 0 ||
	    bind(abstract_fd, (struct sockaddr *)&ab,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) != 0)
		die("bind @%s", name);

	int pair[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
		die("socketpair");

	int ipv6_fd = ipv6_listener();

	printf("listen_fd=%d port=%d client_fd=%d client_port=%d accepted_fd=%d unix_fd=%d "
	       "abstract_fd=%d abstract=%s pair_fd=%d pair_fd2=%d ipv6_fd=%d ipv6_port=%d\n",
	       listen_fd, ntohs(in.sin_port), client_fd, port_of(client_fd), accepted_fd, unix_fd,
	       abstract_fd, name, pair[0], pair[1], ipv6_fd, ipv6_fd >= 0 ? port_of(ipv6_fd) : 0);
	fflush(stdout);
	bool hold = argc > 2 && strcmp(argv[2], "--hold") == 0;
	if (hold || (argc > 2 && strcmp(argv[2], "--exec") == 0)) {
		pid_t child = xfork();
		if (child == 0) {
			if (hold)
				execlp("sleep", "sleep", "30", (char *)NULL);
			else
				execlp("true", "true", (char *)NULL);
			die("exec");
		}
		if (hold) {
			char line[8];
			if (fgets(line, sizeof line, stdin) == NULL)
				line[0] = '\0'; /* end of input ends the wait too */
			kill(child, SIGTERM);
		}
		waitpid(child, NULL, 0);
	}
	return 0;
}
