/* Raw system calls for code that runs inside the shim (and for the report,
 * which shares shim/common/). They reach the kernel directly, as musl's
 * internal calls do: never through a symbol looked up by name, so never
 * through the shim's own exported hooks (its syscall(), open(), close()...:
 * calling those from the shim would re-enter them and record the shim's own
 * descriptors), never through malloc, and they never write errno. Each
 * returns -errno on failure, like the kernel.
 *
 * x86_64 and aarch64: inline assembly (after musl's arch/x86_64/syscall_arch.h
 * and arch/aarch64/syscall_arch.h). Elsewhere, or built with
 * -DKT_SYS_PORTABLE=1: libc's syscall(), found once by dlsym(RTLD_NEXT) and
 * called through a hidden pointer (sys.c says what that costs). */
#ifndef KT_SYS_H
#define KT_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#undef KT_SYS_PORTABLE
#define KT_SYS_PORTABLE 1
#endif
#ifndef KT_SYS_PORTABLE
#define KT_SYS_PORTABLE 0
#endif

#if KT_SYS_PORTABLE
/* sys.c: libc's syscall() (-errno on failure, errno kept), or -ENOSYS while
 * it is being looked up. */
long kt_sys_portable(long n, long a, long b, long c, long d, long e, long f);
static inline long kt_sys0(long n) { return kt_sys_portable(n, 0, 0, 0, 0, 0, 0); }
static inline long kt_sys1(long n, long a) { return kt_sys_portable(n, a, 0, 0, 0, 0, 0); }
static inline long kt_sys2(long n, long a, long b) { return kt_sys_portable(n, a, b, 0, 0, 0, 0); }
static inline long kt_sys3(long n, long a, long b, long c) { return kt_sys_portable(n, a, b, c, 0, 0, 0); }
static inline long kt_sys4(long n, long a, long b, long c, long d)
{
	return kt_sys_portable(n, a, b, c, d, 0, 0);
}
static inline long kt_sys5(long n, long a, long b, long c, long d, long e)
{
	return kt_sys_portable(n, a, b, c, d, e, 0);
}
static inline long kt_sys6(long n, long a, long b, long c, long d, long e, long f)
{
	return kt_sys_portable(n, a, b, c, d, e, f);
}
#elif defined(__x86_64__)
/* Number in rax, arguments in rdi rsi rdx r10 r8 r9; the kernel clobbers
 * rcx and r11. */
static inline long kt_sys0(long n)
{
	long r;
	__asm__ __volatile__("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
	return r;
}
static inline long kt_sys1(long n, long a)
{
	long r;
	__asm__ __volatile__("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return r;
}
static inline long kt_sys2(long n, long a, long b)
{
	long r;
	__asm__ __volatile__("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}
static inline long kt_sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ __volatile__("syscall"
			     : "=a"(r)
			     : "a"(n), "D"(a), "S"(b), "d"(c)
			     : "rcx", "r11", "memory");
	return r;
}
static inline long kt_sys4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ __volatile__("syscall"
			     : "=a"(r)
			     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			     : "rcx", "r11", "memory");
	return r;
}
static inline long kt_sys5(long n, long a, long b, long c, long d, long e)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ __volatile__("syscall"
			     : "=a"(r)
			     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			     : "rcx", "r11", "memory");
	return r;
}
static inline long kt_sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ __volatile__("syscall"
			     : "=a"(r)
			     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return r;
}
#else /* __aarch64__ */
/* Number in x8, arguments in x0-x5, the result in x0. */
#define KT_SVC(...)                                                                                \
	do {                                                                                       \
		__asm__ __volatile__("svc 0" : "=r"(x0) : __VA_ARGS__ : "memory", "cc");           \
		return x0;                                                                         \
	} while (0)
static inline long kt_sys0(long n)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0");
	KT_SVC("r"(x8));
}
static inline long kt_sys1(long n, long a)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	KT_SVC("r"(x8), "0"(x0));
}
static inline long kt_sys2(long n, long a, long b)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	KT_SVC("r"(x8), "0"(x0), "r"(x1));
}
static inline long kt_sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	KT_SVC("r"(x8), "0"(x0), "r"(x1), "r"(x2));
}
static inline long kt_sys4(long n, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	KT_SVC("r"(x8), "0"(x0), "r"(x1), "r"(x2), "r"(x3));
}
static inline long kt_sys5(long n, long a, long b, long c, long d, long e)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	KT_SVC("r"(x8), "0"(x0), "r"(x1), "r"(x2), "r"(x3), "r"(x4));
}
static inline long kt_sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	KT_SVC("r"(x8), "0"(x0), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5));
}
#undef KT_SVC
#endif

/* kt_syscall(SYS_x, args...): the raw call with 0 to 6 arguments of any
 * integer or pointer type; the result, or -errno. */
#define KT_SYS_NARGS_(a, b, c, d, e, f, g, n, ...) n
#define KT_SYS_NARGS(...) KT_SYS_NARGS_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0, )
#define KT_SYS_CAT_(a, b) a##b
#define KT_SYS_CAT(a, b) KT_SYS_CAT_(a, b)
#define kt_syscall(...) KT_SYS_CAT(kt_syscall_, KT_SYS_NARGS(__VA_ARGS__))(__VA_ARGS__)
#define kt_syscall_0(n) kt_sys0((long)(n))
#define kt_syscall_1(n, a) kt_sys1((long)(n), (long)(a))
#define kt_syscall_2(n, a, b) kt_sys2((long)(n), (long)(a), (long)(b))
#define kt_syscall_3(n, a, b, c) kt_sys3((long)(n), (long)(a), (long)(b), (long)(c))
#define kt_syscall_4(n, a, b, c, d) kt_sys4((long)(n), (long)(a), (long)(b), (long)(c), (long)(d))
#define kt_syscall_5(n, a, b, c, d, e)                                                             \
	kt_sys5((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e))
#define kt_syscall_6(n, a, b, c, d, e, f)                                                          \
	kt_sys6((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* For a hook whose real function is not known yet (dlsym still runs): its
 * caller is the application, so answer the libc way, -1 and errno. */
static inline long kt_sys_libc(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
#define kt_syscall_libc(...) kt_sys_libc(kt_syscall(__VA_ARGS__))

static inline int kt_sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)kt_syscall(SYS_openat, dirfd, path, flags, mode);
}

static inline int kt_sys_close(int fd)
{
	return (int)kt_syscall(SYS_close, fd);
}

static inline ssize_t kt_sys_read(int fd, void *buf, size_t n)
{
	return kt_syscall(SYS_read, fd, buf, n);
}

static inline ssize_t kt_sys_write(int fd, const void *buf, size_t n)
{
	return kt_syscall(SYS_write, fd, buf, n);
}

static inline ssize_t kt_sys_pread(int fd, void *buf, size_t n, off_t off)
{
	return kt_syscall(SYS_pread64, fd, buf, n, off);
}

static inline int kt_sys_fcntl(int fd, int cmd, long arg)
{
	return (int)kt_syscall(SYS_fcntl, fd, cmd, arg);
}

static inline long kt_sys_getdents64(int fd, void *buf, size_t n)
{
	return kt_syscall(SYS_getdents64, fd, buf, n);
}

static inline ssize_t kt_sys_readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	return kt_syscall(SYS_readlinkat, dirfd, path, buf, n);
}

static inline int kt_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)kt_syscall(SYS_newfstatat, dirfd, path, st, flags);
}

static inline int kt_sys_fstat(int fd, struct stat *st)
{
	return (int)kt_syscall(SYS_fstat, fd, st);
}

static inline int kt_sys_faccessat(int dirfd, const char *path, int mode)
{
	return (int)kt_syscall(SYS_faccessat, dirfd, path, mode);
}

static inline int kt_sys_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	return (int)kt_syscall(SYS_renameat, olddirfd, oldpath, newdirfd, newpath);
}

static inline int kt_sys_unlinkat(int dirfd, const char *path, int flags)
{
	return (int)kt_syscall(SYS_unlinkat, dirfd, path, flags);
}

static inline int kt_sys_ftruncate(int fd, off_t size)
{
	return (int)kt_syscall(SYS_ftruncate, fd, size);
}

static inline long kt_sys_prctl(int option, unsigned long arg2)
{
	return kt_syscall(SYS_prctl, option, arg2, 0, 0, 0);
}

static inline pid_t kt_sys_getpid(void)
{
	return (pid_t)kt_syscall(SYS_getpid);
}

static inline pid_t kt_sys_gettid(void)
{
	return (pid_t)kt_syscall(SYS_gettid);
}

/* prlimit64 on this process: getrlimit without libc. */
static inline int kt_sys_getrlimit(int resource, struct rlimit *rl)
{
	return (int)kt_syscall(SYS_prlimit64, 0, resource, NULL, rl);
}

/* Whether a file may reach size bytes within RLIMIT_FSIZE: beyond it the
 * kernel sends SIGXFSZ, which would kill the application. */
static inline int kt_sys_fsize_allows(unsigned long long size)
{
	struct rlimit rl;
	return kt_sys_getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	       size <= rl.rlim_cur;
}

/* A fork that runs no atfork handlers and no fork hook: clone(SIGCHLD) with
 * no new stack. The child returns 0; it shares nothing with the parent but
 * what fork shares, and should exec or exit at once. */
static inline pid_t kt_sys_fork(void)
{
	return (pid_t)kt_syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

static inline int kt_sys_execve(const char *path, char *const argv[], char *const envp[])
{
	return (int)kt_syscall(SYS_execve, path, argv, envp);
}

static inline pid_t kt_sys_wait4(pid_t pid, int *status, int options)
{
	return (pid_t)kt_syscall(SYS_wait4, pid, status, options, NULL);
}

static inline _Noreturn void kt_sys_exit_group(int status)
{
	for (;;)
		kt_syscall(SYS_exit_group, status);
}

static inline int kt_sys_socket(int domain, int type, int protocol)
{
	return (int)kt_syscall(SYS_socket, domain, type, protocol);
}

static inline int kt_sys_connect(int fd, const void *addr, unsigned int len)
{
	return (int)kt_syscall(SYS_connect, fd, addr, len);
}

static inline int kt_sys_setsockopt(int fd, int level, int name, const void *value, unsigned int len)
{
	return (int)kt_syscall(SYS_setsockopt, fd, level, name, value, len);
}

static inline int kt_sys_kcmp(pid_t pid1, pid_t pid2, int type, long idx1, long idx2)
{
	return (int)kt_syscall(SYS_kcmp, pid1, pid2, type, idx1, idx2);
}

/* Descriptors the shim holds for a moment live far above the application's
 * range, so that they never take a number the application would get. */
int kt_sys_open_high(int dirfd, const char *path, int flags, mode_t mode);
/* Move an open descriptor high (closing the low one). Returns the new fd. */
int kt_sys_move_high(int fd);

#endif
