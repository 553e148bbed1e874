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
