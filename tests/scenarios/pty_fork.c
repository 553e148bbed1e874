/* forkpty: glibc opens the terminal pair, forks, and in the child makes the
 * slave its controlling terminal on 0, 1 and 2 (login_tty), all with
 * internal calls. The child writes to its terminal and exits; the parent
 * reads it from the master.
 *
 *   pty_fork
 *
 * stdout: master=N child=PID said=hello
 */
#include "scenario.h"

#include <pty.h>

int main(void)
{
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		die("forkpty");
	if (pid == 0) {
		if (write(1, "hello", 5) != 5)
			_exit(98);
		_exit(0);
	}
	char buf[64];
	ssize_t n = read(master, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child");
	printf("master=%d child=%d said=%s\n", master, (int)pid, buf);
	return 0;
}
