/* Hooks: the other makers of descriptors, whose libc functions open through
 * internal calls (mkstemp, shm_open, posix_openpt) or are system calls of
 * their own (eventfd, epoll, inotify, memfd, pidfd...). Each makes a new
 * open file description; pidfd_getfd copies another process's. */
#include "shim.h"
#include "sys.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

static inline int made(int fd, enum kt_how how, enum kt_call call, int cloexec, void *site)
{
	if (fd >= 0 && kt_on())
		kt_note_new(fd, how, call, cloexec, -1, site);
	return fd;
}

#define OPENED(fd, call, cloexec) made(fd, KT_HOW_OPEN, call, cloexec, __builtin_return_address(0))

/* Functions that are not one system call: unknown only while dlsym runs. */
static inline int no_real(void)
{
	errno = ENOSYS;
	return -1;
}

/* ---- temporary files, shared memory, pseudo-terminals ---- */

KT_EXPORT int mkstemp(char *tmpl)
{
	int (*real)(char *) = KT_REAL(mkstemp);
	return OPENED(real ? real(tmpl) : no_real(), KT_CALL_MKSTEMP, 0);
}

KT_EXPORT int mkstemp64(char *tmpl)
{
	int (*real)(char *) = KT_REAL(mkstemp64);
	return OPENED(real ? real(tmpl) : no_real(), KT_CALL_MKSTEMP, 0);
}

KT_EXPORT int mkostemp(char *tmpl, int flags)
{
	int (*real)(char *, int) = KT_REAL(mkostemp);
	return OPENED(real ? real(tmpl, flags) : no_real(), KT_CALL_MKOSTEMP, flags & O_CLOEXEC);
}

KT_EXPORT int mkostemp64(char *tmpl, int flags)
{
	int (*real)(char *, int) = KT_REAL(mkostemp64);
	return OPENED(real ? real(tmpl, flags) : no_real(), KT_CALL_MKOSTEMP, flags & O_CLOEXEC);
}

KT_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
	int (*real)(char *, int) = KT_REAL(mkstemps);
	return OPENED(real ? real(tmpl, suffixlen) : no_real(), KT_CALL_MKSTEMPS, 0);
}

KT_EXPORT int mkstemps64(char *tmpl, int suffixlen)
{
	int (*real)(char *, int) = KT_REAL(mkstemps64);
	return OPENED(real ? real(tmpl, suffixlen) : no_real(), KT_CALL_MKSTEMPS, 0);
}

KT_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
	int (*real)(char *, int, int) = KT_REAL(mkostemps);
	return OPENED(real ? real(tmpl, suffixlen, flags) : no_real(), KT_CALL_MKOSTEMPS, flags & O_CLOEXEC);
}

KT_EXPORT int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	int (*real)(char *, int, int) = KT_REAL(mkostemps64);
	return OPENED(real ? real(tmpl, suffixlen, flags) : no_real(), KT_CALL_MKOSTEMPS, flags & O_CLOEXEC);
}

/* glibc's shm_open always adds O_CLOEXEC. */
KT_EXPORT int shm_open(const char *name, int flags, mode_t mode)
{
	int (*real)(const char *, int, mode_t) = KT_REAL(shm_open);
	return OPENED(real ? real(name, flags, mode) : no_real(), KT_CALL_SHM_OPEN, 1);
}

KT_EXPORT int posix_openpt(int flags)
{
	int (*real)(int) = KT_REAL(posix_openpt);
	return OPENED(real ? real(flags) : no_real(), KT_CALL_POSIX_OPENPT, flags & O_CLOEXEC);
}

/* getpt is posix_openpt(O_RDWR); the table has no call name of its own for it. */
KT_EXPORT int getpt(void)
{
	int (*real)(void) = KT_REAL(getpt);
	return OPENED(real ? real() : no_real(), KT_CALL_POSIX_OPENPT, 0);
}

/* ---- system calls of their own: fall back to the kernel while unresolved ---- */

KT_EXPORT int eventfd(unsigned int count, int flags)
{
	int (*real)(unsigned int, int) = KT_REAL(eventfd);
	int fd = real ? real(count, flags) : (int)kt_syscall_libc(SYS_eventfd2, count, flags);
	return OPENED(fd, KT_CALL_EVENTFD, flags & EFD_CLOEXEC);
}

KT_EXPORT int timerfd_create(clockid_t clock, int flags)
{
	int (*real)(int, int) = KT_REAL(timerfd_create);
	int fd = real ? real(clock, flags) : (int)kt_syscall_libc(SYS_timerfd_create, clock, flags);
	return OPENED(fd, KT_CALL_TIMERFD_CREATE, flags & TFD_CLOEXEC);
}

/* Only signalfd(-1, ...) makes a descriptor; otherwise it changes the mask of fd. */
KT_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	int (*real)(int, const sigset_t *, int) = KT_REAL(signalfd);
	int r = real ? real(fd, mask, flags) : (int)kt_syscall_libc(SYS_signalfd4, fd, mask, (size_t)(_NSIG / 8), flags);
	if (fd != -1)
		return r;
	return OPENED(r, KT_CALL_SIGNALFD, flags & SFD_CLOEXEC);
}

KT_EXPORT int epoll_create(int size)
{
	int (*real)(int) = KT_REAL(epoll_create);
#ifdef SYS_epoll_create
	int fd = real ? real(size) : (int)kt_syscall_libc(SYS_epoll_create, size);
#else /* aarch64: as the kernel's epoll_create, which only checks size */
	int fd = real ? real(size) : (int)kt_syscall_libc(SYS_epoll_create1, size <= 0 ? -1 : 0);
#endif
	return OPENED(fd, KT_CALL_EPOLL_CREATE, 0);
}

KT_EXPORT int epoll_create1(int flags)
{
	int (*real)(int) = KT_REAL(epoll_create1);
	int fd = real ? real(flags) : (int)kt_syscall_libc(SYS_epoll_create1, flags);
	return OPENED(fd, KT_CALL_EPOLL_CREATE1, flags & EPOLL_CLOEXEC);
}

KT_EXPORT int inotify_init(void)
{
	int (*real)(void) = KT_REAL(inotify_init);
	int fd = real ? real() : (int)kt_syscall_libc(SYS_inotify_init1, 0);
	return OPENED(fd, KT_CALL_INOTIFY_INIT, 0);
}

KT_EXPORT int inotify_init1(int flags)
{
	int (*real)(int) = KT_REAL(inotify_init1);
	int fd = real ? real(flags) : (int)kt_syscall_libc(SYS_inotify_init1, flags);
	return OPENED(fd, KT_CALL_INOTIFY_INIT1, flags & IN_CLOEXEC);
}

KT_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	int (*real)(const char *, unsigned int) = KT_REAL(memfd_create);
	int fd = real ? real(name, flags) : (int)kt_syscall_libc(SYS_memfd_create, name, flags);
	return OPENED(fd, KT_CALL_MEMFD_CREATE, (flags & MFD_CLOEXEC) != 0);
}

/* pidfds are always close-on-exec. */
KT_EXPORT int pidfd_open(pid_t pid, unsigned int flags)
{
	int (*real)(pid_t, unsigned int) = KT_REAL(pidfd_open);
	int fd = real ? real(pid, flags) : (int)kt_syscall_libc(SYS_pidfd_open, pid, flags);
	return OPENED(fd, KT_CALL_PIDFD_OPEN, 1);
}

/* A copy of a descriptor of the process behind pidfd (it may be this one):
 * received, like one passed over a socket. The kernel sets FD_CLOEXEC. */
KT_EXPORT int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	int (*real)(int, int, unsigned int) = KT_REAL(pidfd_getfd);
	int fd = real ? real(pidfd, targetfd, flags) : (int)kt_syscall_libc(SYS_pidfd_getfd, pidfd, targetfd, flags);
	made(fd, KT_HOW_RECEIVED, KT_CALL_PIDFD_GETFD, 1, __builtin_return_address(0));
	if (fd >= 0 && kt_on()) {
		/* The sender: the pid of the pidfd, from its fdinfo. */
		int saved = errno;
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
		kt_own_fds_begin();
		int info = kt_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
		ssize_t n = info >= 0 ? kt_sys_read(info, buf, sizeof buf - 1) : -1;
		if (info >= 0)
			kt_sys_close(info);
		kt_own_fds_end();
		if (n > 0) {
			buf[n] = '\0';
			const char *pid = strstr(buf, "Pid:");
			if (pid)
				kt_note_source(fd, (pid_t)atoi(pid + 4), targetfd);
		}
		errno = saved;
	}
	return fd;
}

KT_EXPORT int fanotify_init(unsigned int flags, unsigned int event_f_flags)
{
	int (*real)(unsigned int, unsigned int) = KT_REAL(fanotify_init);
	int fd = real ? real(flags, event_f_flags) : (int)kt_syscall_libc(SYS_fanotify_init, flags, event_f_flags);
	return OPENED(fd, KT_CALL_FANOTIFY_INIT, (flags & FAN_CLOEXEC) != 0);
}
