/* Program images the loader will not preload into (image.h). */
#include "image.h"

#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"

const char *kt_image_elf_untraced(int fd)
{
	union {
		Elf64_Ehdr e64;
		Elf32_Ehdr e32;
	} h;
	if (kt_sys_pread(fd, &h, sizeof h, 0) < (ssize_t)sizeof h.e32 || memcmp(h.e64.e_ident, ELFMAG, SELFMAG) != 0)
		return NULL; /* a script: its interpreter decides */
	int is64 = h.e64.e_ident[EI_CLASS] == ELFCLASS64;
	uint64_t phoff = is64 ? h.e64.e_phoff : h.e32.e_phoff;
	unsigned phnum = is64 ? h.e64.e_phnum : h.e32.e_phnum;
	size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	for (unsigned i = 0; i < phnum && i < 256; i++) {
		union {
			Elf64_Phdr p64;
			Elf32_Phdr p32;
		} ph;
		if (kt_sys_pread(fd, &ph, phsize, (off_t)(phoff + i * phsize)) != (ssize_t)phsize)
			return NULL;
		if ((is64 ? ph.p64.p_type : ph.p32.p_type) == PT_INTERP)
			return NULL; /* dynamically linked: ld.so reads LD_PRELOAD */
	}
	return KT_UNTRACED_STATIC;
}

const char *kt_image_untraced(int fd)
{
	struct stat st;
	if (kt_sys_fstat(fd, &st) != 0)
		return NULL;
	/* ld.so runs set-id programs in secure mode, ignoring LD_PRELOAD. */
	if (((st.st_mode & S_ISUID) && st.st_uid != getuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getgid()))
		return KT_UNTRACED_SETID;
	return kt_image_elf_untraced(fd);
}
