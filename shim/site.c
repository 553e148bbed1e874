/* Call sites: a return address becomes "MODULE+0xOFFSET" (record.h); the
 * report turns that into a symbol. Done at snapshot time, never in hooks. */
#include "shim.h"

#include <dlfcn.h>
#include <string.h>

extern char kt_exe_path[4096];

static void put_hex(char *out, size_t n, uint64_t v)
{
	char tmp[20];
	int i = 0;
	do {
		tmp[i++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	if (n < (size_t)i + 3)
		return;
	*out++ = '0';
	*out++ = 'x';
	while (i)
		*out++ = tmp[--i];
	*out = '\0';
}

void kt_site_format(uint64_t site, char *out, size_t n)
{
	Dl_info info;
	strcpy(out, "-");
	if (!site || n < 32)
		return;
	/* The return address minus one lies inside the call instruction. */
	void *addr = (void *)(uintptr_t)(site - 1);
	if (!dladdr(addr, &info) || !info.dli_fbase)
		return;
	const char *module = info.dli_fname;
	/* glibc names the main program by argv[0], which may be relative. */
	if (!module || module[0] != '/')
		module = kt_exe_path;
	size_t len = strlen(module);
	if (len + 24 > n)
		return;
	memcpy(out, module, len);
	out[len] = '+';
	put_hex(out + len + 1, n - len - 1, (uint64_t)((uintptr_t)addr - (uintptr_t)info.dli_fbase));
}

/* ---- stacks of creating calls (KCMPTRACE_STACK) ---- */

#include <execinfo.h>
#include <link.h>
#include <stdlib.h>

int kt_stack_depth = 1;
static uintptr_t self_lo, self_hi; /* this library's text: frames to skip */

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	uintptr_t probe = (uintptr_t)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type == PT_LOAD && probe >= lo && probe < hi) {
			self_lo = lo;
			self_hi = hi;
			return 1;
		}
	}
	return 0;
}

void kt_stack_init(void)
{
	const char *v = getenv("KCMPTRACE_STACK");
	int n = v ? atoi(v) : 1;
	if (n <= 1)
		return;
	kt_stack_depth = n > KT_STACK_MAX + 1 ? KT_STACK_MAX + 1 : n;
	dl_iterate_phdr(find_self, (void *)(uintptr_t)kt_stack_init);
	/* The first backtrace loads libgcc_s (malloc, locks): do it now, not
	 * in a hook that a signal handler may run. */
	void *warm[4];
	backtrace(warm, 4);
}

KT_RACY void kt_stack_capture(uint64_t *out, uint64_t site)
{
	void *frames[KT_STACK_MAX + 16];
	int n = backtrace(frames, (int)(sizeof frames / sizeof frames[0]));
	int i = 0, k = 0;
	/* Start after the call site itself: above it are the shim's frames
	 * (and, under a sanitizer, its backtrace interceptor's). */
	while (i < n && (uint64_t)(uintptr_t)frames[i] != site)
		i++;
	if (i < n) {
		i++;
	} else {
		for (i = 0; i < n && (uintptr_t)frames[i] >= self_lo && (uintptr_t)frames[i] < self_hi;)
			i++;
	}
	/* Up to the shim's main wrapper, whose caller is libc's start code. */
	for (; i < n && k < kt_stack_depth - 1 && k < KT_STACK_MAX; i++) {
		if ((uintptr_t)frames[i] >= self_lo && (uintptr_t)frames[i] < self_hi)
			break;
		out[k++] = (uint64_t)(uintptr_t)frames[i];
	}
	if (k < KT_STACK_MAX)
		out[k] = 0;
}
