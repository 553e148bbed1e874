/* Hooks: stdio streams. fopen, freopen, tmpfile and popen open through
 * libc-internal calls that never reach the open/pipe hooks, and fclose and
 * pclose close the same way: the stream's descriptor is noted here, from
 * fileno() (which takes no lock). fdopen makes no descriptor. Every stream
 * opened is kept in a list until it is closed, for what a fork copies of
 * its buffer (stdio_fork.c). */
#include "shim.h"

#include <fcntl.h>
#include <stdio.h>

/* The "e" flag of a stream mode: O_CLOEXEC (glibc stops at ",ccs="). */
static int mode_cloexec(const char *mode)
{
	if (!mode)
		return 0;
	for (const char *m = mode; *m && *m != ','; m++)
		if (*m == 'e')
			return 1;
	return 0;
}

static inline int stream_fd(FILE *fp)
{
	int saved = errno;
	int fd = fp ? fileno(fp) : -1;
	errno = saved;
	return fd;
}

/* The access mode a stream's mode string asks for ("r", "w+", "ae"...). */
static int mode_access(const char *mode)
{
	if (!mode)
		return -1;
	for (const char *m = mode; *m && *m != ','; m++)
		if (*m == '+')
			return O_RDWR;
	return mode[0] == 'r' ? O_RDONLY : O_WRONLY;
}

/* What the call tells without a stat (shim.h kt_made): the path a stream
 * was opened by, its access; a temporary file is a file, popen's a pipe. */
static inline FILE *opened(FILE *fp, enum kt_call call, int cloexec, void *site, const char *path,
			   const char *mode, enum kt_fd_type type)
{
	if (fp && kt_on()) {
		int fd = stream_fd(fp);
		if (fd >= 0)
			kt_note_made(fd, call, cloexec, site,
				     &(struct kt_made){.type = type, .access = mode_access(mode), .path = path});
		kt_stdio_track(fp);
	}
	return fp;
}

/* fclose, pclose, freopen: named fclose where a double close names it. */
static inline void retire(FILE *fp, void *site)
{
	if (fp && kt_on()) {
		kt_stdio_untrack(fp);
		int fd = stream_fd(fp);
		if (fd >= 0)
			kt_note_close(fd, KT_CLOSE_FCLOSE, site);
	}
}

/* The real function is unknown only while dlsym itself runs (it does not
 * open streams): say so rather than guess. */
#define NO_REAL(ret)                                                                               \
	do {                                                                                       \
		errno = ENOSYS;                                                                    \
		return ret;                                                                        \
	} while (0)

KT_EXPORT FILE *fopen(const char *path, const char *mode)
{
	FILE *(*real)(const char *, const char *) = KT_REAL(fopen);
	if (!real)
		NO_REAL(NULL);
	return opened(real(path, mode), KT_CALL_FOPEN, mode_cloexec(mode), __builtin_return_address(0), path,
		      mode, KT_FD_UNKNOWN);
}

KT_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	FILE *(*real)(const char *, const char *) = KT_REAL(fopen64);
	if (!real)
		NO_REAL(NULL);
	return opened(real(path, mode), KT_CALL_FOPEN64, mode_cloexec(mode), __builtin_return_address(0), path,
		      mode, KT_FD_UNKNOWN);
}

/* freopen closes the stream's descriptor and (glibc keeps the number with a
 * dup3) opens the new file in its place; on failure the old one is closed
 * all the same. Retire the old one first, note the new one after. */
static inline FILE *reopen(FILE *(*real)(const char *, const char *, FILE *), const char *path,
			   const char *mode, FILE *fp, enum kt_call call, void *site)
{
	if (!real)
		NO_REAL(NULL);
	retire(fp, site);
	return opened(real(path, mode, fp), call, mode_cloexec(mode), site, path, mode, KT_FD_UNKNOWN);
}

KT_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	return reopen(KT_REAL(freopen), path, mode, fp, KT_CALL_FREOPEN, __builtin_return_address(0));
}

KT_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	return reopen(KT_REAL(freopen64), path, mode, fp, KT_CALL_FREOPEN64, __builtin_return_address(0));
}

/* A stream over a descriptor the program already has: nothing new. */
KT_EXPORT FILE *fdopen(int fd, const char *mode)
{
	FILE *(*real)(int, const char *) = KT_REAL(fdopen);
	if (!real)
		NO_REAL(NULL);
	FILE *fp = real(fd, mode);
	if (fp && kt_on())
		kt_stdio_track(fp);
	return fp;
}

KT_EXPORT int fclose(FILE *fp)
{
	int (*real)(FILE *) = KT_REAL(fclose);
	if (!real)
		NO_REAL(EOF);
	retire(fp, __builtin_return_address(0));
	return real(fp);
}

KT_EXPORT FILE *tmpfile(void)
{
	FILE *(*real)(void) = KT_REAL(tmpfile);
	if (!real)
		NO_REAL(NULL);
	return opened(real(), KT_CALL_TMPFILE, 0, __builtin_return_address(0), NULL, "w+", KT_FD_FILE);
}

KT_EXPORT FILE *tmpfile64(void)
{
	FILE *(*real)(void) = KT_REAL(tmpfile64);
	if (!real)
		NO_REAL(NULL);
	return opened(real(), KT_CALL_TMPFILE64, 0, __builtin_return_address(0), NULL, "w+",
		      KT_FD_FILE);
}

/* The parent's end of the pipe; glibc makes it close-on-exec for "e" only. */
KT_EXPORT FILE *popen(const char *command, const char *mode)
{
	FILE *(*real)(const char *, const char *) = KT_REAL(popen);
	if (!real)
		NO_REAL(NULL);
	kt_table_popen(1);
	FILE *fp = opened(real(command, mode), KT_CALL_POPEN, mode_cloexec(mode), __builtin_return_address(0), NULL,
			  mode, KT_FD_PIPE);
	kt_table_popen(-1);
	return fp;
}

KT_EXPORT int pclose(FILE *fp)
{
	int (*real)(FILE *) = KT_REAL(pclose);
	if (!real)
		NO_REAL(-1);
	retire(fp, __builtin_return_address(0));
	return real(fp);
}
