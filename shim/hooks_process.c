/* Hooks: fork, the exec family, exit and _exit. A fork child becomes a
 * process of its own in the trace; exec and exit take a snapshot first. */
#include "shim.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <unistd.h>

KT_EXPORT pid_t fork(void)
{
	pid_t (*real)(void) = KT_REAL(fork);
	if (!kt_tracing())
		return real();
	/* No signal handler may run a hook in the child before it has a table
	 * of its own: until then it would write the parent's. */
	sigset_t all, old;
	struct kt_fork_prep prep;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	kt_in_shim++;
	kt_table_prepare_fork(&prep);
	kt_in_shim--;
	pid_t pid = real();
	int saved = errno;
	if (pid == 0) {
		kt_after_fork_child(&prep);
	} else {
		kt_in_shim++;
		kt_table_parent_after_fork(&prep, pid);
		kt_in_shim--;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

/* A vfork child shares the parent's memory: running it as a fork child
 * keeps the parent's table and state untouched. */
KT_EXPORT pid_t vfork(void)
{
	return fork();
}

/* Every exec: snapshot first (noting when the new image will not be
 * traced), then run it with an environment that keeps the tree traced. The
 * variants without envp use environ, which the program may have edited, so
 * they become their envp-taking siblings. */
#define EXEC_ENV(envp, env)                                                                        \
	char *env##_slots[kt_exec_env_slots(envp)];                                                \
	char env##_text[kt_exec_env_text(envp)];                                                   \
	char *const *env = kt_tracing() ? kt_exec_env(envp, env##_slots, env##_text) : (envp)

extern char **environ;

KT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	kt_before_exec(AT_FDCWD, path, 0);
	EXEC_ENV(envp, env);
	return KT_REAL(execve)(path, argv, env);
}

KT_EXPORT int execv(const char *path, char *const argv[])
{
	kt_before_exec(AT_FDCWD, path, 0);
	EXEC_ENV(environ, env);
	return KT_REAL(execve)(path, argv, env);
}

KT_EXPORT int execvp(const char *file, char *const argv[])
{
	kt_before_exec(AT_FDCWD, file, 0);
	EXEC_ENV(environ, env);
	return KT_REAL(execvpe)(file, argv, env);
}

KT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	kt_before_exec(AT_FDCWD, file, 0);
	EXEC_ENV(envp, env);
	return KT_REAL(execvpe)(file, argv, env);
}

KT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	kt_before_exec(fd, "", AT_EMPTY_PATH);
	EXEC_ENV(envp, env);
	return KT_REAL(fexecve)(fd, argv, env);
}

KT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	kt_before_exec(dirfd, path, flags);
	EXEC_ENV(envp, env);
	return KT_REAL(execveat)(dirfd, path, argv, env, flags);
}

/* execl and friends: gather the variadic list into an argv on the stack. */
#define GATHER_ARGS(first, ap, argv, envp_out)                                                     \
	size_t argc = 1;                                                                           \
	va_start(ap, first);                                                                       \
	while (va_arg(ap, char *))                                                                 \
		argc++;                                                                            \
	va_end(ap);                                                                                \
	char *argv[argc + 1];                                                                      \
	argv[0] = (char *)(first);                                                                 \
	va_start(ap, first);                                                                       \
	for (size_t i = 1; i <= argc; i++)                                                         \
		argv[i] = va_arg(ap, char *);                                                      \
	envp_out = va_arg(ap, char *const *);                                                      \
	va_end(ap)

KT_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	char *const *unused;
	GATHER_ARGS(arg, ap, argv, unused);
	(void)unused;
	return execv(path, argv);
}

KT_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	char *const *unused;
	GATHER_ARGS(arg, ap, argv, unused);
	(void)unused;
	return execvp(file, argv);
}

KT_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char *const *envp;
	GATHER_ARGS(arg, ap, argv, envp);
	return execve(path, argv, envp);
}

KT_EXPORT void exit(int status)
{
	kt_process_end(status & 0xff);
	KT_REAL(exit)(status);
}

KT_EXPORT void _exit(int status)
{
	kt_process_end(status & 0xff);
	KT_REAL(_exit)(status);
}

KT_EXPORT void _Exit(int status)
{
	kt_process_end(status & 0xff);
	KT_REAL(_Exit)(status);
}
