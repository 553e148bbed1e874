/* Benchmark loop: a connection over a UNIX stream socket: socket(),
 * connect(), accept(), close, close, on a listening socket made before the
 * loop.
 *
 *   bench_socket_accept [ITERATIONS]     (default 50000)
 *
 * Measures what the shim adds to a server's hot path (accept) and to
 * socket(): each records the new descriptor with its inode (one fstat).
 * Prints one line (see bench.h).
 */
#include "bench.h"

#include <stddef.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv, 50000);
	/* an abstract address of this process's own: nothing to clean up */
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int len = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "bench_socket_accept.%d",
			   (int)getpid());
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	int listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, alen) != 0 ||
	    listen(listener, 16) != 0)
		die("listen");

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		int client = socket(AF_UNIX, SOCK_STREAM, 0);
		if (client < 0 || connect(client, (struct sockaddr *)&addr, alen) != 0)
			die("connect");
		int conn = accept(listener, NULL, NULL);
		if (conn < 0)
			die("accept");
		if (close(conn) != 0 || close(client) != 0)
			die("close");
	}
	uint64_t t1 = bench_now_ns();

	bench_report("socket_accept", n, t0, t1);
	return 0;
}
