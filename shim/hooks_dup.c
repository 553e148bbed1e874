/* Hooks: dup, dup2, dup3 and fcntl, which copy a descriptor (one more
 * reference to the same open file description) or change its FD_CLOEXEC. */
#include "shim.h"
#include "sys.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int duplicated(int fd, enum kt_call call, int cloexec, int src, void *site)
{
	if (fd >= 0 && kt_on())
		kt_note_new(fd, KT_HOW_DUP, call, cloexec, src, site);
	return fd;
}

KT_EXPORT int dup(int oldfd)
{
	int (*real)(int) = KT_REAL(dup);
	int fd = real ? real(oldfd) : (int)kt_syscall_libc(SYS_dup, oldfd);
	return duplicated(fd, KT_CALL_DUP, 0, oldfd, __builtin_return_address(0));
}

KT_EXPORT int dup2(int oldfd, int newfd)
{
	int (*real)(int, int) = KT_REAL(dup2);
	if (oldfd == newfd) /* no new reference: nothing to note */
		return real ? real(oldfd, newfd) : (int)kt_syscall_libc(SYS_dup3, oldfd, newfd, 0);
	uint32_t before = kt_note_retire(newfd);
	enum kt_gate gate = kt_app_replace_begin(); /* newfd may be the shim's for a moment (own_fds.c) */
	int fd = real ? real(oldfd, newfd) : (int)kt_syscall_libc(SYS_dup3, oldfd, newfd, 0);
	kt_app_replace_end(gate);
	if (fd < 0) {
		int e = errno;
		kt_note_unretire(newfd, before);
		errno = e;
		return fd;
	}
	return duplicated(fd, KT_CALL_DUP2, 0, oldfd, __builtin_return_address(0));
}

KT_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int (*real)(int, int, int) = KT_REAL(dup3);
	uint32_t before = oldfd != newfd ? kt_note_retire(newfd) : 1u;
	enum kt_gate gate = kt_app_replace_begin();
	int fd = real ? real(oldfd, newfd, flags) : (int)kt_syscall_libc(SYS_dup3, oldfd, newfd, flags);
	kt_app_replace_end(gate);
	if (fd < 0) {
		int e = errno;
		kt_note_unretire(newfd, before);
		errno = e;
		return fd;
	}
	return duplicated(fd, KT_CALL_DUP3, flags & O_CLOEXEC, oldfd, __builtin_return_address(0));
}

static inline int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg, void *site)
{
	/* F_SETFL changes the description, which others may hold too: note
	 * what it was and what it became (the kernel may refuse some flags). */
	long before = cmd == F_SETFL && kt_on() ? kt_sys_fcntl(fd, F_GETFL, 0) : -1;
	int r = real ? real(fd, cmd, arg) : (int)kt_syscall_libc(SYS_fcntl, fd, cmd, arg);
	if (r < 0) {
		/* F_GETFD and F_GETFL on a closed number are how programs ask
		 * whether it is open (bash, gnulib), F_DUPFD how a shell saves a
		 * number before a redirection replaces it, if it is open (dash):
		 * no use of it. */
		if (errno == EBADF && fd >= 0 && cmd != F_GETFD && cmd != F_GETFL && cmd != F_DUPFD &&
		    cmd != F_DUPFD_CLOEXEC)
			kt_bad_use_after(fd, KT_USE_FCNTL, site);
		return r;
	}
	if (!kt_on())
		return r;
	int saved = errno;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		kt_note_new(r, KT_HOW_DUP, KT_CALL_FCNTL, cmd == F_DUPFD_CLOEXEC, fd, site);
	} else if (cmd == F_SETFD) {
		int cloexec = ((int)(intptr_t)arg & FD_CLOEXEC) != 0;
		kt_note_cloexec(fd, cloexec);
		if (!cloexec)
			kt_note_inheritable(fd, site);
	} else if (cmd == F_SETFL && before >= 0) {
		long after = kt_sys_fcntl(fd, F_GETFL, 0);
		if (after >= 0 && after != before)
			kt_note_setfl(fd, (uint32_t)before, (uint32_t)after, site, kt_now_ns());
	} else if ((cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) && arg) {
		short type = ((const struct flock *)arg)->l_type;
		kt_note_lock(fd, type == F_UNLCK ? 0 : 100 + type, site);
	}
	errno = saved;
	return r;
}

/* The third argument is an int, a long or a pointer depending on cmd; like
 * glibc, read it as a pointer-sized value and pass it on unchanged. */
KT_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(KT_REAL(fcntl), fd, cmd, arg, __builtin_return_address(0));
}

KT_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(KT_REAL(fcntl64), fd, cmd, arg, __builtin_return_address(0));
}
