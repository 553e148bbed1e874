/* Hooks: close, close_range and closefrom. Entries are retired before the
 * real close, so that no other process pairs this generation with whatever
 * takes the number next. The real calls wait for the shim's sections with
 * descriptors of its own (own_fds.c). */
#include "shim.h"
#include "sys.h"

#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

KT_EXPORT int close(int fd)
{
	void *site = __builtin_return_address(0);
	/* What the table said before this close: open, or closed already. */
	uint32_t before = kt_on() ? kt_note_close(fd, KT_CLOSE_CLOSE, site) : 0;
	int (*real)(int) = KT_REAL(close);
	enum kt_gate gate = kt_app_replace_begin();
	int r = real ? real(fd) : (int)kt_syscall_libc(SYS_close, fd);
	kt_app_replace_end(gate);
	if (r < 0 && errno == EBADF && kt_on())
		kt_note_bad_close(fd, before, site); /* errno untouched */
	return r;
}

/* The kernel refuses (EINVAL) a reversed range or flags it does not know:
 * nothing is closed then, so nothing is retired. CLOSE_RANGE_UNSHARE gives
 * the process a table of its own first, which changes nothing here. */
KT_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int (*real)(unsigned int, unsigned int, int) = KT_REAL(close_range);
	int valid = first <= last && !((unsigned int)flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC));
	int cloexec = ((unsigned int)flags & CLOSE_RANGE_CLOEXEC) != 0;
	if (valid && !cloexec && kt_on())
		kt_note_range(first, last, 0, KT_CLOSE_CLOSE_RANGE, __builtin_return_address(0));
	enum kt_gate gate = kt_app_replace_begin();
	int r = real ? real(first, last, flags) : (int)kt_syscall_libc(SYS_close_range, first, last, flags);
	kt_app_replace_end(gate);
	if (r == 0 && cloexec && kt_on())
		kt_note_range(first, last, 1, KT_CLOSE_CLOSE_RANGE, NULL);
	return r;
}

KT_EXPORT void closefrom(int lowfd)
{
	void (*real)(int) = KT_REAL(closefrom);
	unsigned int first = lowfd < 0 ? 0 : (unsigned int)lowfd;
	if (kt_on())
		kt_note_range(first, ~0U, 0, KT_CLOSE_CLOSEFROM, __builtin_return_address(0));
	enum kt_gate gate = kt_app_replace_begin();
	if (real)
		real(lowfd);
	else
		kt_syscall(SYS_close_range, first, ~0U, 0);
	kt_app_replace_end(gate);
}
