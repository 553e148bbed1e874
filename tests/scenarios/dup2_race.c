/* The application's dup2 and close against the shim's own short-lived
 * descriptors: one thread dup2()s its file onto every number of a low range
 * and closes them again, over and over, while the main thread forks
 * children that exit (each fork and exit opens, writes and closes files of
 * the shim's own). The file must end as it began, and nothing may be
 * printed but the result.
 *
 *   dup2_race FILE [FORKS]
 *
 * stdout: forks=N file=CONTENT
 */
#include "scenario.h"

#include <pthread.h>
#include <stdatomic.h>

#define LOW 3
#define HIGH 40

static int file_fd;
static atomic_int stop;

static void *replace_numbers(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		for (int n = LOW; n < HIGH; n++) {
			if (n == file_fd)
				continue;
			if (dup2(file_fd, n) == n)
				close(n);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: dup2_race FILE [FORKS]");
	int forks = argc > 2 ? atoi(argv[2]) : 200;
	file_fd = xopen(argv[1], O_RDWR | O_CLOEXEC);
	/* far from the range the other thread replaces */
	int high = fcntl(file_fd, F_DUPFD_CLOEXEC, 100);
	if (high < 0)
		die("F_DUPFD_CLOEXEC");
	close(file_fd);
	file_fd = high;
	pthread_t t;
	if (pthread_create(&t, NULL, replace_numbers, NULL) != 0)
		die("pthread_create");
	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			exit(0);
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("child %d", (int)pid);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	char buf[64] = "";
	ssize_t n = pread(file_fd, buf, sizeof buf - 1, 0);
	if (n < 0)
		die("pread");
	buf[n] = '\0';
	printf("forks=%d file=%s\n", forks, buf);
	return 0;
}
