/* Three generations: the middle one lets go of a shared descriptor.
 *
 *   three_generations [--grandparent-first] [FILE]
 *
 * G opens FILE (shared_fd) and forks M; M forks C, closes shared_fd and exits.
 * C and G still share the description, though no process between them holds
 * it any more: only kcmp can join them.
 *
 * Default order (child-first): C exits while G is alive, then G reaps it (G is
 * a child subreaper, so C's orphan is reparented to G) and exits.
 * --grandparent-first: G exits while C is alive and blocked; C exits when it
 * sees G's end (end of file on a pipe only G still writes to), i.e. once G
 * has exited completely. Under plain LD_PRELOAD, G writes the report before it
 * is gone, so C is certainly still running then.
 *
 * stdout (G): shared_fd=N order=child-first|grandparent-first
 */
#include "scenario.h"

#include <sys/prctl.h>

int main(int argc, char **argv)
{
	int gp_first = 0;
	const char *path = "/proc/self/exe";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--grandparent-first") == 0)
			gp_first = 1;
		else
			path = argv[i];
	}

	if (!gp_first && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		die("prctl(PR_SET_CHILD_SUBREAPER)");

	int shared = xopen(path, O_RDONLY);
	int go[2], up[2];
	xpipe(go); /* G -> C: you may exit (a byte, or end of file) */
	xpipe(up); /* C -> G: C is alive and holds shared_fd */

	pid_t m = xfork();
	if (m == 0) {
		pid_t c = xfork();
		if (c == 0) {
			close(go[1]);
			close(up[0]);
			signal_go(up[1]);
			if (gp_first)
				wait_eof(go[0]);
			else
				wait_go(go[0]);
			exit(0);
		}
		close(shared); /* the middle generation lets go */
		exit(0);
	}
	close(go[0]);
	close(up[1]);

	reap(m, "middle process");
	wait_go(up[0]);

	printf("shared_fd=%d order=%s\n", shared,
	       gp_first ? "grandparent-first" : "child-first");
	fflush(stdout);

	if (gp_first)
		return 0; /* our exit closes go[1]: C sees end of file */

	signal_go(go[1]);
	reap(-1, "grandchild");
	return 0;
}
