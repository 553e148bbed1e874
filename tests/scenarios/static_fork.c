/* Linked statically (see tests/CMakeLists.txt): an untraced image whose
 * children run no shim either. It forks one child that opens FILE and
 * exits 6, and one that execs PROGRAM [ARG...] (a dynamic program, which
 * the shim traces again; with -e, in an empty environment, where it
 * cannot), waits for both and exits 0.
 *
 *   static_fork FILE [-e] PROGRAM [ARG...]
 *
 * stdout: static_child=PID exec_child=PID (after the children's output)
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int empty_env = argc > 2 && argv[2][0] == '-' && argv[2][1] == 'e' && !argv[2][2];
	char **program = argv + 2 + empty_env;
	if (argc < 3 + empty_env)
		return 99;
	fflush(stdout);
	pid_t a = fork();
	if (a == 0) {
		int own = open(argv[1], O_RDONLY);
		_exit(own >= 0 ? 6 : 99);
	}
	pid_t b = fork();
	if (b == 0) {
		char *none[] = {NULL};
		if (empty_env)
			execve(program[0], program, none);
		else
			execv(program[0], program);
		_exit(127);
	}
	int st_a, st_b;
	if (a < 0 || b < 0 || waitpid(a, &st_a, 0) != a || waitpid(b, &st_b, 0) != b)
		return 99;
	if (!WIFEXITED(st_a) || WEXITSTATUS(st_a) != 6 || !WIFEXITED(st_b) || WEXITSTATUS(st_b) != 0)
		return 98;
	printf("static_child=%d exec_child=%d\n", (int)a, (int)b);
	return 0;
}
