/* Hook: flock. A lock taken with flock belongs to the open file
 * description: every process holding it holds the lock too (a finding). */
#include "shim.h"
#include "sys.h"

#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

KT_EXPORT int flock(int fd, int op)
{
	int (*real)(int, int) = KT_REAL(flock);
	int r = real ? real(fd, op) : (int)kt_syscall_libc(SYS_flock, fd, op);
	if (r == 0 && kt_on())
		kt_note_lock(fd, (op & LOCK_UN) ? 0 : op, __builtin_return_address(0));
	return r;
}
