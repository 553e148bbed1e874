/* Whether the dynamic loader will preload the library into a program
 * image: the shim asks before an exec, the launcher after one it watched. */
#ifndef KT_IMAGE_H
#define KT_IMAGE_H

#define KT_UNTRACED_STATIC "static binary"
#define KT_UNTRACED_SETID "set-id program"
#define KT_UNTRACED_NO_PRELOAD "environment without the library"

/* KT_UNTRACED_STATIC if the ELF file open as fd has no program
 * interpreter (no ld.so to read LD_PRELOAD); NULL for a dynamic ELF or
 * anything else (a script: its interpreter decides). No malloc. */
const char *kt_image_elf_untraced(int fd);

/* Why an exec of the file open as fd by this process would run without the
 * library (set-id, as ld.so then ignores LD_PRELOAD, or static), or NULL. */
const char *kt_image_untraced(int fd);

#endif
