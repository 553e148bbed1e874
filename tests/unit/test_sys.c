/* The raw system calls of shim/common/sys.h (inline assembly here, or the
 * portable path when built with -DKT_SYS_PORTABLE=1): results and -errno
 * as the kernel gives them, errno never written, up to six arguments; and
 * kt_sys_libc, the libc convention for hooks answering the application. */
#include "procfs.h"
#include "sys.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "unit.h"

static void test_results_and_errno(void)
{
	errno = 1234;
	CHECK(kt_sys_getpid() == getpid());
	CHECK(kt_sys_gettid() == getpid()); /* the main thread */
	CHECK(kt_sys_openat(AT_FDCWD, "/nonexistent/kcmptrace", O_RDONLY, 0) == -ENOENT);
	int fd = kt_sys_openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
	CHECK(fd >= 0);
	char c;
	CHECK(kt_sys_read(fd, &c, 1) == 0);
	CHECK(kt_sys_fcntl(fd, F_GETFD, 0) == FD_CLOEXEC);
	struct stat st;
	CHECK(kt_sys_fstat(fd, &st) == 0 && S_ISCHR(st.st_mode));
	CHECK(kt_sys_close(fd) == 0);
	CHECK(kt_sys_close(fd) == -EBADF);
	CHECK(kt_sys_faccessat(AT_FDCWD, "/nonexistent/kcmptrace", F_OK) == -ENOENT);
	struct rlimit mine, libc;
	CHECK(kt_sys_getrlimit(RLIMIT_NOFILE, &mine) == 0);
	CHECK(getrlimit(RLIMIT_NOFILE, &libc) == 0 && mine.rlim_cur == libc.rlim_cur &&
	      mine.rlim_max == libc.rlim_max);
	errno = 1234;
	CHECK(kt_sys_close(-1) == -EBADF);
	CHECK(errno == 1234); /* no internal call writes it */
}

static void test_six_arguments(void)
{
#ifdef SYS_mmap
	long p = kt_syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p > 0 && (unsigned long)p < -4096UL);
	if (p > 0 && (unsigned long)p < -4096UL) {
		memset((void *)p, 'x', 4096);
		CHECK(kt_syscall(SYS_munmap, p, 4096) == 0);
	}
	CHECK(kt_syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) == -EBADF);
#endif
}

static void test_libc_convention(void)
{
	errno = 0;
	CHECK(kt_sys_libc(-EBADF) == -1 && errno == EBADF);
	errno = 0;
	CHECK(kt_sys_libc(7) == 7 && errno == 0);
	CHECK(kt_syscall_libc(SYS_close, -1) == -1 && errno == EBADF);
}

static void test_fork_exec_wait(void)
{
	pid_t pid = kt_sys_fork();
	if (pid == 0) {
		char *argv[] = {"kcmptrace-none", NULL};
		int err = kt_sys_execve("/nonexistent/kcmptrace", argv, argv + 1);
		kt_sys_exit_group(err == -ENOENT ? 7 : 8);
	}
	CHECK(pid > 0);
	int st = 0;
	pid_t got;
	while ((got = kt_sys_wait4(pid, &st, 0)) == -EINTR)
		;
	CHECK(got == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	CHECK(kt_sys_wait4(pid, &st, 0) == -ECHILD);
}

/* kt_start_between names a fork child's start as /proc/PID/stat gives it,
 * without reading it, whenever the fork took less than a clock tick (and
 * says false, never a wrong start, when not). */
static void test_start_between(void)
{
	int bracketed = 0;
	for (int i = 0; i < 50; i++) {
		unsigned long long before = kt_boot_ns(), start = 0, proc_start = 0;
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		CHECK(pid > 0);
		unsigned long long after = kt_boot_ns();
		bool same_tick = kt_start_between(before, after, &start);
		CHECK(kt_proc_stat(pid, &proc_start, NULL, NULL) == 0);
		if (same_tick) {
			bracketed++;
			CHECK(start == proc_start);
		}
		CHECK(waitpid(pid, NULL, 0) == pid);
	}
	CHECK(bracketed > 0);
	unsigned long long start = 0;
	CHECK(!kt_start_between(0, 5, &start));                    /* no reading before */
	CHECK(!kt_start_between(5000000000ULL, 4000000000ULL, &start)); /* backwards */
	CHECK(!kt_start_between(1009999999ULL, 1010000000ULL, &start)); /* a tick boundary between */
}

int main(void)
{
	test_start_between();
	test_results_and_errno();
	test_six_arguments();
	test_libc_convention();
	test_fork_exec_wait();
	return unit_result("test_sys");
}
