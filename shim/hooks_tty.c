/* Hooks: terminals and close-on-exec by ioctl. glibc's openpty, login_tty
 * and forkpty (script, terminal emulators, expect) open the terminal pair
 * and dup2 the slave onto 0, 1 and 2 with internal calls the other hooks
 * never see; ioctl(FIOCLEX/FIONCLEX) changes close-on-exec without fcntl
 * (CPython's os.set_inheritable). */
#include "shim.h"
#include "sys.h"

#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct termios;
struct winsize;

KT_EXPORT int openpty(int *master, int *slave, char *name, const struct termios *termp,
		      const struct winsize *winp)
{
	int (*real)(int *, int *, char *, const void *, const void *) = KT_REAL(openpty);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int r = real(master, slave, name, termp, winp);
	if (r == 0 && kt_on()) {
		void *site = __builtin_return_address(0);
		kt_note_new(*master, KT_HOW_OPEN, KT_CALL_OPENPTY, 0, -1, site);
		kt_note_new(*slave, KT_HOW_OPEN, KT_CALL_OPENPTY, 0, -1, site);
	}
	return r;
}

/* login_tty(fd): a new session with fd as its controlling terminal, fd
 * dup2'd onto 0, 1 and 2, and closed when above them. */
KT_EXPORT int login_tty(int fd)
{
	int (*real)(int) = KT_REAL(login_tty);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	uint32_t before[3];
	for (int i = 0; i < 3; i++)
		before[i] = i != fd ? kt_note_retire(i) : 1u;
	int r = real(fd);
	if (r != 0) {
		int saved = errno;
		for (int i = 0; i < 3; i++)
			if (i != fd)
				kt_note_unretire(i, before[i]);
		errno = saved;
		return r;
	}
	if (kt_on()) {
		void *site = __builtin_return_address(0);
		for (int i = 0; i < 3; i++)
			if (i != fd)
				kt_note_new(i, KT_HOW_DUP, KT_CALL_LOGIN_TTY, 0, fd, site);
		if (fd > 2)
			kt_note_close(fd, KT_CLOSE_LOGIN_TTY, site);
	}
	return r;
}

/* glibc's forkpty forks internally, out of the shim's sight: do what it
 * does, through the hooks. */
KT_EXPORT pid_t forkpty(int *amaster, char *name, const struct termios *termp,
			const struct winsize *winp)
{
	if (!kt_on())
		return KT_REAL(forkpty)(amaster, name, termp, winp);
	int master, slave;
	if (openpty(&master, &slave, name, termp, winp) == -1)
		return -1;
	kt_fork_caller = __builtin_return_address(0);
	pid_t pid = fork();
	kt_fork_caller = NULL;
	if (pid == 0) {
		close(master);
		if (login_tty(slave))
			_exit(1);
		return 0;
	}
	int saved = errno;
	close(slave);
	if (pid == -1) {
		close(master);
		errno = saved;
		return -1;
	}
	*amaster = master;
	return pid;
}

/* The request decides what the third argument is; like glibc, pass it on
 * as a pointer-sized value. */
KT_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int (*real)(int, unsigned long, ...) = KT_REAL(ioctl);
	int r = real ? real(fd, request, arg) : (int)kt_syscall_libc(SYS_ioctl, fd, request, arg);
	KT_CHECK_USE(r, fd, KT_USE_IOCTL);
	if (r == 0 && (request == FIOCLEX || request == FIONCLEX) && kt_on()) {
		kt_note_cloexec(fd, request == FIOCLEX);
		if (request == FIONCLEX) /* made inheritable on purpose */
			kt_note_inheritable(fd, __builtin_return_address(0));
	}
	return r;
}
