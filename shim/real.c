/* The real libc functions behind the hooks, found with dlsym(RTLD_NEXT). */
#include "shim.h"

#include <dlfcn.h>
#include <stdatomic.h>

struct kt_real kt_real;

/* This library's own extent, from the linker: the ELF header it is loaded
 * with up to the end of its bss. Comparing addresses against it costs
 * nothing, where a dladdr per symbol was a third of every traced exec. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

static void *next_symbol(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	/* Never call ourselves: that would recurse forever. */
	if ((const char *)p >= __ehdr_start && (const char *)p < _end)
		return NULL;
	return p;
}

/* Resolve once; dlsym may allocate, and an allocator may open a file: a hook
 * that runs during resolution finds the pointer still NULL, and falls back. */
void kt_resolve(void)
{
	static atomic_int state; /* 0 not yet, 1 running, 2 done */
	static KT_TLS int resolving_here;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&state, &expected, 1)) {
		/* Another thread resolves: wait for it. This thread (re-entered
		 * from dlsym): return, and the hook falls back to a system call. */
		while (!resolving_here && atomic_load(&state) != 2)
			;
		return;
	}
	resolving_here = 1;
	struct kt_real r;
#define KT_HOOK(field, sym, ret, params) (*(void **)&r.field = next_symbol(sym));
#include "hooks.def"
	kt_real = r;
	resolving_here = 0;
	atomic_store(&state, 2);
}
