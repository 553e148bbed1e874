/* Hooks: fork, the exec family, exit and _exit. A fork child becomes a
 * process of its own in the trace; exec and exit take a snapshot first. */
#include "shim.h"
#include "procfs.h"
#include "sys.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every way to a new process with a copy of this one's memory goes
 * through here: the parent writes the child's table before the fork (a copy
 * made after it would race with the parent's own changes), and no signal
 * handler may run a hook in the child before the child has its table: until
 * then it would write the parent's. */
struct fork_state {
	sigset_t old_mask;
	struct kt_fork_prep prep;
	bool child_ready; /* an atfork child handler's hook made it so */
	/* For the child's stdio (stdio_fork.c): the call's return address,
	 * whether clone made it, whether its buffers are flushed twice. */
	uint64_t site;
	bool by_clone, buffers_copied;
};

/* Set around the fork of vfork and daemon, whose children's stdio buffers
 * are not flushed twice. */
static KT_TLS bool fork_buffers_not_copied;

KT_TLS void *kt_forking;
KT_TLS void *kt_fork_caller;

/* A hook called while this thread is in glibc's fork: a prepare or parent
 * handler in the parent, or a child handler in the child (not yet a
 * process of its own in the trace: what it closes would be written to the
 * parent's table). Only here is getpid asked. */
void kt_fork_catch_up(void)
{
	struct fork_state *st = kt_forking;
	if (kt_sys_getpid() == kt_self.pid) {
		st->prep.recheck = true; /* a handler's hook in the parent */
		return;
	}
	kt_forking = NULL;
	st->child_ready = true;
	kt_own_fds_fork_child();
	kt_own_fds_begin_signals_blocked(); /* by the fork hook */
	kt_after_fork_child(&st->prep);
	kt_own_fds_end();
}

static void before_fork(struct fork_state *st)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &st->old_mask);
	kt_own_fds_begin_signals_blocked();
	kt_table_prepare_fork(&st->prep);
	kt_own_fds_end();
	st->prep.recheck = kt_threads_may_exist();
	st->prep.time = kt_now_ns(); /* last: the fork copies the descriptors after it */
	st->prep.boot_before = kt_boot_ns();
}

static void after_fork(struct fork_state *st, pid_t pid)
{
	int saved = errno;
	if (pid == 0)
		kt_own_fds_fork_child(); /* the parent's other threads' counts are not ours */
	kt_own_fds_begin_signals_blocked();
	if (pid != 0)
		kt_table_parent_after_fork(&st->prep, pid);
	else if (!st->child_ready)
		kt_after_fork_child(&st->prep);
	kt_own_fds_end();
	/* After the atfork child handlers: what the child's code starts with. */
	if (pid == 0)
		kt_stdio_fork_child(st->site, st->by_clone, st->buffers_copied);
	pthread_sigmask(SIG_SETMASK, &st->old_mask, NULL);
	errno = saved;
}

static pid_t traced_fork(pid_t (*real)(void), void *site)
{
	if (!kt_on())
		return real();
	struct fork_state st = {.child_ready = false,
				.site = (uint64_t)(uintptr_t)(kt_fork_caller ? kt_fork_caller : site),
				.buffers_copied = !fork_buffers_not_copied};
	before_fork(&st);
	kt_forking = &st;
	pid_t pid = real();
	kt_forking = NULL;
	after_fork(&st, pid);
	return pid;
}

KT_EXPORT pid_t fork(void)
{
	return traced_fork(KT_REAL(fork), __builtin_return_address(0));
}

/* _Fork: a fork without atfork handlers (glibc 2.34). */
KT_EXPORT pid_t _Fork(void)
{
	return traced_fork(KT_REAL(_Fork), __builtin_return_address(0));
}

/* A vfork child shares the parent's memory: running it as a fork child
 * keeps the parent's table and state untouched. */
KT_EXPORT pid_t vfork(void)
{
	/* The real vfork's child would write into the parent's buffers, not a
	 * copy: nothing is flushed twice. */
	fork_buffers_not_copied = true;
	pid_t pid = fork();
	fork_buffers_not_copied = false;
	return pid;
}

/* clone without CLONE_VM makes a process, as fork does; the child runs fn
 * on its own stack, so it gets its table in a trampoline. With CLONE_VM
 * (threads, vfork-like spawns) there is no new memory: nothing to do. */
struct clone_call {
	int (*fn)(void *);
	void *arg;
	struct fork_state st;
};

static int clone_child(void *p)
{
	struct clone_call *c = p; /* the child's own copy of the parent's stack */
	after_fork(&c->st, 0);
	/* Returning from fn ends the process (glibc's clone calls exit). */
	int status = c->fn(c->arg);
	kt_process_end(status & 0xff);
	return status;
}

KT_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);
	int (*real)(int (*)(void *), void *, int, void *, ...) = KT_REAL(clone);
	if (flags & CLONE_VM)
		kt_threads_possible();
	if ((flags & (CLONE_VM | CLONE_THREAD)) || !kt_on())
		return real(fn, stack, flags, arg, ptid, tls, ctid);
	struct clone_call c = {.fn = fn,
			       .arg = arg,
			       .st = {.site = (uint64_t)(uintptr_t)__builtin_return_address(0),
				      .by_clone = true,
				      .buffers_copied = true}};
	before_fork(&c.st);
	int pid = real(clone_child, stack, flags, &c, ptid, tls, ctid);
	after_fork(&c.st, pid < 0 ? -1 : pid);
	return pid;
}

/* glibc's daemon forks internally, out of the shim's sight: do what it
 * does, through the fork hook. */
KT_EXPORT int daemon(int nochdir, int noclose)
{
	if (!kt_on())
		return KT_REAL(daemon)(nochdir, noclose);
	/* The parent _exits: its copy of the buffers is never flushed. */
	fork_buffers_not_copied = true;
	pid_t pid = fork();
	fork_buffers_not_copied = false;
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if (!nochdir && chdir("/") != 0)
		return -1;
	if (!noclose) {
		int fd = open("/dev/null", O_RDWR);
		struct stat st;
		if (fd < 0)
			return -1;
		if (kt_sys_fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
			close(fd);
			errno = ENODEV;
			return -1;
		}
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* Every exec: snapshot first (noting when the new image will not be
 * traced), then run it with an environment that keeps the tree traced. The
 * variants without envp use environ, which the program may have edited, so
 * they become their envp-taking siblings. */
#define EXEC_ENV(envp, env)                                                                        \
	char *env##_slots[kt_exec_env_slots(envp)];                                                \
	char env##_text[kt_exec_env_text(envp)];                                                   \
	char *const *env =                                                                         \
		kt_on() || kt_warn_once_said() ? kt_exec_env(envp, env##_slots, env##_text) : (envp)

extern char **environ;

KT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	kt_before_exec(AT_FDCWD, path, 0);
	EXEC_ENV(envp, env);
	int r = KT_REAL(execve)(path, argv, env);
	kt_after_failed_exec();
	return r;
}

KT_EXPORT int execv(const char *path, char *const argv[])
{
	kt_before_exec(AT_FDCWD, path, 0);
	EXEC_ENV(environ, env);
	int r = KT_REAL(execve)(path, argv, env);
	kt_after_failed_exec();
	return r;
}

KT_EXPORT int execvp(const char *file, char *const argv[])
{
	kt_before_exec(AT_FDCWD, file, 0);
	EXEC_ENV(environ, env);
	int r = KT_REAL(execvpe)(file, argv, env);
	kt_after_failed_exec();
	return r;
}

KT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	kt_before_exec(AT_FDCWD, file, 0);
	EXEC_ENV(envp, env);
	int r = KT_REAL(execvpe)(file, argv, env);
	kt_after_failed_exec();
	return r;
}

KT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	kt_before_exec(fd, "", AT_EMPTY_PATH);
	EXEC_ENV(envp, env);
	int r = KT_REAL(fexecve)(fd, argv, env);
	kt_after_failed_exec();
	return r;
}

KT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	kt_before_exec(dirfd, path, flags);
	EXEC_ENV(envp, env);
	int r = KT_REAL(execveat)(dirfd, path, argv, env, flags);
	kt_after_failed_exec();
	return r;
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
	kt_process_end_then_handlers(status & 0xff);
	KT_REAL(exit)(status);
}

KT_EXPORT void _exit(int status)
{
	kt_process_end_final(status & 0xff);
	KT_REAL(_exit)(status);
}

KT_EXPORT void _Exit(int status)
{
	kt_process_end_final(status & 0xff);
	KT_REAL(_Exit)(status);
}
