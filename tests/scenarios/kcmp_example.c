/* The kcmp(2) man page's example program, as it behaves (written for this
 * project, not copied): the parent prints its pid and the descriptor it
 * opened, then forks without flushing stdout; the child prints the kcmp
 * comparisons of its descriptors and ends with exit(), the parent waits and
 * returns. With stdout a terminal each line is written as printed; with
 * stdout a pipe or a file (fully buffered) the parent's two lines are still
 * in the buffer at the fork, and both processes write them: they appear
 * twice.
 *
 *   kcmp_example [FILE]     (FILE: a scratch file, created and removed)
 */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void compare(const char *what, pid_t pid1, pid_t pid2, int fd1, int fd2)
{
	long r = syscall(SYS_kcmp, (long)pid1, (long)pid2, KCMP_FILE, (long)fd1, (long)fd2);
	printf("\t%s\n\t\tkcmp(%jd, %jd, KCMP_FILE, %d, %d) ==> %s\n", what, (intmax_t)pid1,
	       (intmax_t)pid2, fd1, fd2, r == 0 ? "same" : r < 0 ? "unavailable" : "different");
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/kcmp_example.XXXXXX";
	int fd = argc > 1 ? open(argv[1], O_RDWR | O_CREAT, 0600) : mkstemp(path);
	if (fd < 0) {
		perror("open");
		return 99;
	}
	const char *name = argc > 1 ? argv[1] : path;
	printf("Parent PID is %jd\n", (intmax_t)getpid());
	printf("Parent opened file on FD %d\n\n", fd);

	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 99;
	}
	if (child == 0) {
		printf("PID of child of fork() is %jd\n", (intmax_t)getpid());
		compare("Compare duplicate FDs from different processes:", getpid(), getppid(), fd,
			fd);
		int fd2 = open(name, O_RDWR);
		printf("Child opened file on FD %d\n", fd2);
		compare("Compare FDs from distinct open()s in same process:", getpid(), getpid(), fd,
			fd2);
		int fd3 = dup(fd);
		printf("Child duplicated FD %d to create FD %d\n", fd, fd3);
		compare("Compare duplicated FDs in same process:", getpid(), getpid(), fd, fd3);
		exit(EXIT_SUCCESS);
	}
	int status;
	if (waitpid(child, &status, 0) != child || status != 0)
		return 99;
	unlink(name);
	return 0;
}
