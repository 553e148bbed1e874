/* A parent and two children sharing a pipe and a file, exiting in order.
 *
 *   exit_orders [a-b|b-a] [FILE]   (default a-b; FILE defaults to this program)
 *
 * The parent opens FILE (file_fd) and a pipe (pipe_read_fd, pipe_write_fd),
 * forks child a then child b; all three hold all three descriptors. When both
 * children are ready the parent releases one, reaps it, releases the other,
 * reaps it, and exits last (it waits for its children, so it cannot go first).
 *
 * stdout: file_fd=N pipe_read_fd=N pipe_write_fd=N order=a-b|b-a
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	const char *order = argc > 1 ? argv[1] : "a-b";
	const char *path = argc > 2 ? argv[2] : "/proc/self/exe";
	int b_first = strcmp(order, "b-a") == 0;
	if (!b_first && strcmp(order, "a-b") != 0) {
		fprintf(stderr, "usage: exit_orders [a-b|b-a] [FILE]\n");
		return 2;
	}

	int file = xopen(path, O_RDONLY);
	int p[2], ready[2], go[2][2];
	xpipe(p);
	xpipe(ready);
	xpipe(go[0]);
	xpipe(go[1]);

	pid_t kid[2];
	for (int c = 0; c < 2; c++) {
		kid[c] = xfork();
		if (kid[c] == 0) {
			close(ready[0]);
			signal_go(ready[1]);
			wait_go(go[c][0]);
			exit(0);
		}
	}
	close(ready[1]);
	wait_go(ready[0]);
	wait_go(ready[0]);

	printf("file_fd=%d pipe_read_fd=%d pipe_write_fd=%d order=%s\n", file, p[0],
	       p[1], order);
	fflush(stdout);

	for (int i = 0; i < 2; i++) {
		int c = b_first ? 1 - i : i;
		signal_go(go[c][1]);
		reap(kid[c], c ? "child b" : "child a");
	}
	return 0;
}
