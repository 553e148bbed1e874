/* Linked statically (see tests/CMakeLists.txt): an image the shim cannot
 * follow, run last in its tree, so that only the launcher is left to see
 * its descriptors at its exit. Opens FILE, dups it, opens FILE again (a
 * second description), then exits with STATUS, or raises SIGNAL. After a
 * stop signal, once continued, it waits for a byte (or end of file) on
 * stdin before it exits: its parent can see it continue before it ends
 * (an exit first would hide the continue from waitpid).
 *
 *   static_own FILE [STATUS|-SIGNAL]
 *
 * stdout: own=A dup=B other=C
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 99;
	int own = open(argv[1], O_RDONLY);
	int copy = dup(own);
	int other = open(argv[1], O_RDONLY);
	printf("own=%d dup=%d other=%d\n", own, copy, other);
	fflush(stdout);
	int how = argc > 2 ? atoi(argv[2]) : 0;
	if (how < 0)
		raise(-how);
	if (how == -SIGSTOP || how == -SIGTSTP) {
		char c;
		(void)!read(0, &c, 1);
	}
	return own >= 0 && copy >= 0 && other >= 0 ? how : 99;
}
