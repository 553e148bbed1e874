/* A child still holds a pipe's read end while its exit handler runs, after
 * its exit snapshot: the parent sets O_NONBLOCK on the read end then, and
 * the change reaches the child too (one open file description). The
 * child's exit handler changes no descriptor, so its real end is recorded
 * as its exit snapshot, with the time it came.
 *
 *   exit_handler_holds
 *
 * stdout: fd=N child=PID
 */
#include "scenario.h"

static int ready_w = -1, go_r = -1;

/* Runs after exit() took the exit snapshot: tell the parent, wait for it. */
static void hold_on(void)
{
	char c = 'r';
	if (write(ready_w, &c, 1) != 1 || read(go_r, &c, 1) != 1)
		_exit(3);
}

int main(void)
{
	int p[2], ready[2], go[2];
	xpipe(p);
	xpipe(ready);
	xpipe(go);
	fflush(NULL);
	pid_t child = xfork();
	if (child == 0) {
		ready_w = ready[1];
		go_r = go[0];
		atexit(hold_on);
		exit(0);
	}
	char c;
	if (read(ready[0], &c, 1) != 1)
		die("read ready");
	int flags = fcntl(p[0], F_GETFL);
	if (flags < 0 || fcntl(p[0], F_SETFL, flags | O_NONBLOCK) != 0)
		die("fcntl F_SETFL");
	if (write(go[1], "g", 1) != 1)
		die("write go");
	reap(child, "child");
	printf("fd=%d child=%d\n", p[0], (int)child);
	return 0;
}
