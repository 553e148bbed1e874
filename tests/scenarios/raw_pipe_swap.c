/*
 * A pipe's read end replaced by its own write end with a raw dup3, behind
 * the shim's back: the number still names the same inode (a pipe's two
 * ends share one), but it is now the write end, and a snapshot must say so
 * (an entry's access mode is that of the end it was made as).
 *
 *   raw_pipe_swap
 *
 * stdout: r=N w=N (r: the number that was the read end, now a write end)
 */
#include "scenario.h"

#include <sys/syscall.h>

int main(void)
{
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	if (raw_syscall3(SYS_dup3, p[1], p[0], 0) != p[0])
		die("raw dup3");
	printf("r=%d w=%d\n", p[0], p[1]);
	fflush(stdout);
	return 0;
}
