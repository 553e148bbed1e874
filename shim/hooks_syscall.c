/* Hook: syscall(). Programs that call the kernel through glibc's syscall()
 * (for calls glibc lacks, or on purpose) bypass the named hooks: follow the
 * ones that change the descriptor table or end the process. */
#include "shim.h"
#include "sys.h"

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

/* libc's syscall(); the kernel itself while dlsym has not found it yet. */
static inline long real_syscall(long (*real)(long, ...), long nr, long a1, long a2, long a3, long a4,
				long a5, long a6)
{
	return real ? real(nr, a1, a2, a3, a4, a5, a6) : kt_sys_libc(kt_sys6(nr, a1, a2, a3, a4, a5, a6));
}

/* A system call that makes a new process with a copy of this one's memory:
 * run as the fork hook (a vfork child must not share our memory). */
static bool makes_process(long nr, long a1, long a2)
{
	switch (nr) {
#ifdef SYS_fork
	case SYS_fork:
#endif
#ifdef SYS_vfork
	case SYS_vfork:
#endif
		return true;
	case SYS_clone:
		/* A process (not a thread): as fork, when it gives no new stack. */
		return !(a1 & (CLONE_VM | CLONE_THREAD)) && a2 == 0 && (a1 & 0xff) == SIGCHLD;
	default:
		return false;
	}
}

/* What a system call that succeeded with r made. */
static void note_made(long nr, long r, const long a[4], void *site)
{
	switch (nr) {
	case SYS_openat:
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_creat
	case SYS_creat:
#endif
	case SYS_socket:
	case SYS_accept4:
	case SYS_accept:
	case SYS_memfd_create:
	case SYS_eventfd2:
	case SYS_epoll_create1:
	case SYS_timerfd_create:
	case SYS_inotify_init1:
	case SYS_pidfd_open:
		kt_note_new((int)r, KT_HOW_OPEN, KT_CALL_SYSCALL, 0, -1, site);
		break;
	case SYS_dup:
		kt_note_new((int)r, KT_HOW_DUP, KT_CALL_SYSCALL, 0, (int)a[0], site);
		break;
	case SYS_pidfd_getfd:
		kt_note_new((int)r, KT_HOW_RECEIVED, KT_CALL_SYSCALL, 1, -1, site);
		break;
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
		if (a[0] != a[1])
			kt_note_new((int)r, KT_HOW_DUP, KT_CALL_SYSCALL, nr == SYS_dup3 && (a[2] & O_CLOEXEC),
				    (int)a[0], site);
		break;
	case SYS_pipe2:
#ifdef SYS_pipe
	case SYS_pipe:
#endif
	case SYS_socketpair: {
		int *fds = (int *)(nr == SYS_socketpair ? a[3] : a[0]);
		kt_note_made_pair(fds, KT_CALL_SYSCALL, 0, site, nr == SYS_socketpair ? KT_FD_SOCKET : KT_FD_PIPE);
		break;
	}
	default:
		break;
	}
}

/* Like glibc's own (assembly) syscall(), read six arguments whatever the
 * caller passed: the unused ones are registers or the caller's stack slots,
 * read but never used. ASan would call that an underflow. */
KT_EXPORT __attribute__((no_sanitize_address)) long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
	long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	long (*real)(long, ...) = KT_REAL(syscall);
	if (!kt_on())
		return real_syscall(real, nr, a1, a2, a3, a4, a5, a6);
	if (makes_process(nr, a1, a2)) {
		kt_fork_caller = __builtin_return_address(0);
		pid_t pid = fork();
		kt_fork_caller = NULL;
		return pid;
	}
	if (nr == SYS_exit_group)
		kt_process_end_final((int)a1 & 0xff);
	else if (nr == SYS_close)
		kt_note_close((int)a1, KT_CLOSE_SYSCALL, __builtin_return_address(0));
	int replaces = nr == SYS_close || nr == SYS_dup3 || nr == SYS_close_range;
#ifdef SYS_dup2
	replaces = replaces || nr == SYS_dup2;
#endif
	if (nr == SYS_clone || nr == SYS_clone3)
		kt_threads_possible(); /* perhaps a thread: never wrong to assume */
	enum kt_gate gate = replaces ? kt_app_replace_begin() : KT_GATE_OPEN;
	long r = real_syscall(real, nr, a1, a2, a3, a4, a5, a6);
	kt_app_replace_end(gate);
	if (r < 0)
		return r;
	int saved = errno;
	note_made(nr, r, (const long[4]){a1, a2, a3, a4}, __builtin_return_address(0));
	errno = saved;
	return r;
}
