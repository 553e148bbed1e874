/* The portable path of sys.h, for architectures without inline assembly
 * there (or a build with -DKT_SYS_PORTABLE=1): libc's syscall(), looked up
 * once with dlsym(RTLD_NEXT) from the object this is linked into (the shim,
 * or the report's executable) and called through a hidden pointer, never by
 * name, so never through the shim's own syscall() hook.
 *
 * What it costs compared with inline assembly:
 * - The first call runs dlsym, which may take the loader's lock and call
 *   malloc: if that first call comes from a signal handler or a vfork
 *   child, it is not async-signal-safe. The shim makes system calls early
 *   in its constructor (kt_init), so in practice the lookup happens there.
 * - Calls made while the lookup runs (dlsym re-entering a hook, whose
 *   fallback is a raw call) get -ENOSYS.
 * - RTLD_NEXT finds the next syscall() after the shim: another preloaded
 *   library that interposes syscall() and comes after the shim sees the
 *   shim's calls.
 * - libc's syscall() writes errno on failure: it is saved and put back, but
 *   a signal handler running in between could see the changed value. */
#include "sys.h"

#if KT_SYS_PORTABLE
#include <dlfcn.h>
#include <stdatomic.h>

typedef long (*kt_libc_syscall_fn)(long, ...);

static _Atomic(kt_libc_syscall_fn) libc_syscall;
static __thread __attribute__((tls_model("initial-exec"))) int looking_up;

long kt_sys_portable(long n, long a, long b, long c, long d, long e, long f)
{
	kt_libc_syscall_fn fn = atomic_load_explicit(&libc_syscall, memory_order_acquire);
	if (!fn) {
		if (looking_up)
			return -ENOSYS;
		looking_up = 1;
		int saved = errno;
		void *p = dlsym(RTLD_NEXT, "syscall");
		errno = saved;
		looking_up = 0;
		if (!p)
			return -ENOSYS;
		fn = (kt_libc_syscall_fn)p;
		atomic_store_explicit(&libc_syscall, fn, memory_order_release);
	}
	int saved = errno;
	long r = fn(n, a, b, c, d, e, f);
	if (r == -1) /* never a result: the kernel's -4095..-1 are errors */
		r = -errno;
	errno = saved;
	return r;
}
#else
/* The inline assembly in sys.h serves this architecture. */
typedef int kt_sys_inline_only;
#endif
