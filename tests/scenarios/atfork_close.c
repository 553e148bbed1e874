/* A pthread_atfork child handler that closes and opens descriptors: it
 * runs inside fork(), in the child, before fork returns there. What it does
 * belongs to the child; the parent's descriptors stay as they were.
 *
 *   atfork_close
 *
 * The parent opens /dev/null (fd A) and dups it (fd B). The child handler
 * closes A and opens the program itself (fd C). The child then exits; the
 * parent waits for it and exits keeping A and B.
 *
 * stdout: a=N b=N child=0 (the child checks C and that A is closed)
 */
#include "scenario.h"

#include <pthread.h>

static int a = -1, c = -1;
static const char *self;

static void in_child(void)
{
	close(a);
	c = open(self, O_RDONLY);
}

int main(int argc, char **argv)
{
	(void)argc;
	self = argv[0];
	a = open("/dev/null", O_RDONLY);
	int b = dup(a);
	if (a < 0 || b < 0)
		die("open");
	if (pthread_atfork(NULL, NULL, in_child) != 0)
		die("pthread_atfork");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(c >= 0 ? 0 : 1);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	printf("a=%d b=%d child=%d\n", a, b, WIFEXITED(st) ? WEXITSTATUS(st) : 128);
	return 0;
}
