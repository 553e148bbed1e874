/* Hook: close. The entry is retired before the real close, so that no other
 * process pairs this generation with whatever takes the number next. */
#include "shim.h"

#include <sys/syscall.h>
#include <unistd.h>

KT_EXPORT int close(int fd)
{
	if (kt_tracing())
		kt_note_close(fd);
	int (*real)(int) = KT_REAL(close);
	int r = real ? real(fd) : (int)syscall(SYS_close, fd);
	if (r < 0 && errno == EBADF && kt_tracing())
		kt_note_bad_close(fd, __builtin_return_address(0)); /* errno untouched */
	return r;
}
