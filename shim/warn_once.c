/* The one warning line of a plain LD_PRELOAD run (no launcher to speak for
 * the run). Each process that cannot write its trace (a full or unwritable
 * directory, a seccomp sandbox, too few descriptors) finds out on its own;
 * the first of the run to find out says it, the others keep still (the
 * report marks their losses).
 *
 * How they agree: a page of the trace directory (KT_TRACE_WARNED), mapped
 * shared by each image as it starts, while it still can. Fork children
 * inherit the mapping, so a sandbox loaded after fork (man-db's helpers)
 * cannot keep them from it, nor can a lack of descriptors. The first to
 * set its flag speaks. An image that cannot map the page (its exec came
 * after the sandbox) learns from KCMPTRACE_SAID, which an exec adds, as
 * hidden from the program as every variable of ours (env.c), when the
 * warning was said before it. Only an image that can reach neither speaks
 * without asking. */
#include "shim.h"
#include "sys.h"
#include "tracedir.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096

static atomic_int *run_said; /* the run's flag, in the shared page */
static atomic_int said_here; /* this image, or one before it, knows it was said */

void kt_warn_once_init(void)
{
	if (getenv("KCMPTRACE_SAID"))
		atomic_store(&said_here, 1);
}

void kt_warn_once_map(const char *dir)
{
	char path[4200];
	struct kt_buf b = {path, 0, sizeof path - 1, 0};
	kt_buf_str(&b, dir);
	kt_buf_str(&b, "/" KT_TRACE_WARNED);
	if (b.overflow || run_said)
		return;
	path[b.len] = '\0';
	int fd = kt_sys_open_high(AT_FDCWD, path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0)
		return;
	struct stat st;
	int r = kt_sys_fstat(fd, &st);
	if (r == 0 && (!S_ISREG(st.st_mode) || st.st_uid != geteuid()))
		r = -EINVAL;
	/* Every byte reserved before it is mapped: a full file system must
	 * fail here, not fault later (table_file.c). fallocate keeps what
	 * another process wrote. */
	if (r == 0 && st.st_size < PAGE) {
		if (kt_sys_fsize_allows(PAGE))
			r = (int)kt_syscall(SYS_fallocate, fd, 0, 0, (off_t)PAGE);
		if (r == 0 && (r = kt_sys_fstat(fd, &st)) == 0 && st.st_size < PAGE)
			r = -ENOSPC;
	}
	if (r == 0) {
		int saved = errno;
		void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		errno = saved;
		if (p != MAP_FAILED)
			run_said = p;
	}
	kt_sys_close(fd);
}

int kt_warn_once_claim(void)
{
	if (atomic_exchange(&said_here, 1))
		return 0;
	return !(run_said && atomic_exchange(run_said, 1));
}

int kt_warn_once_said(void)
{
	return atomic_load_explicit(&said_here, memory_order_relaxed) ||
	       (run_said && atomic_load_explicit(run_said, memory_order_relaxed));
}
