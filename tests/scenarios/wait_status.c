/* The wait family as a program sees it: *status untouched when nothing was
 * reaped (WNOHANG), EFAULT for a bad status pointer, each status right.
 * Prints one line per call, to compare traced and untraced runs. */
#include "scenario.h"

#include <sys/resource.h>

static pid_t child_waiting_on(int go[2], int code)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) < 0)
			_exit(98);
		_exit(code);
	}
	return pid;
}

int main(void)
{
	int go[2];
	xpipe(go);
	pid_t a = child_waiting_on(go, 3);
	pid_t b = child_waiting_on(go, 4);
	pid_t c = child_waiting_on(go, 5);
	close(go[0]);

	int st = 42;
	pid_t r = waitpid(a, &st, WNOHANG);
	printf("waitpid WNOHANG: %d status %d\n", (int)r, st);
	st = 42;
	struct rusage ru;
	r = wait4(-1, &st, WNOHANG, &ru);
	printf("wait4 WNOHANG: %d status %d\n", (int)r, st);
	st = 42;
	r = wait3(&st, WNOHANG, NULL);
	printf("wait3 WNOHANG: %d status %d\n", (int)r, st);

	close(go[1]); /* the children end */
	errno = 0;
	r = waitpid(a, (int *)8, 0);
	printf("waitpid bad pointer: %s errno %s\n", r == -1 ? "-1" : r == a ? "a" : "?",
	       strerrorname_np(errno) ? strerrorname_np(errno) : "0");
	st = 42;
	r = waitpid(b, &st, 0);
	printf("waitpid b: %s exit %d\n", r == b ? "b" : "?", WEXITSTATUS(st));
	st = 42;
	r = wait(&st);
	printf("wait: %s exit %d\n", r == c ? "c" : "?", WEXITSTATUS(st));
	errno = 0;
	r = wait(NULL);
	printf("wait, no children: %d errno %s\n", (int)r, strerrorname_np(errno));
	return 0;
}
