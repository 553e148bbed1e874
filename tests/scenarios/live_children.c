/* Many children alive at once, then ending together: the case whose cost
 * was quadratic (each ending process compared with every live one).
 *
 *   live_children [N]    N children (default 100)
 *
 * The parent makes a pipe and forks N children; each closes the write end
 * and blocks reading the read end. The parent closes both ends once all
 * are forked: every child then reads end of file and _exits, in whatever
 * order the kernel wakes them. The parent reaps them all.
 *
 * stdout: children=N
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	if (n < 1 || n > 100000)
		die("usage: live_children [1..100000]");
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c < 0)
			die("fork");
		if (c == 0) {
			char b;
			close(p[1]);
			_exit(read(p[0], &b, 1) == 0 ? 0 : 1);
		}
	}
	close(p[1]);
	close(p[0]);
	int reaped = 0, st;
	while (wait(&st) > 0)
		reaped += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("children=%d\n", reaped);
	return reaped == n ? 0 : 1;
}
