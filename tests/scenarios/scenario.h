/* Helpers shared by the scenario programs (header only: every .c file in
 * this folder becomes its own program).
 *
 * Scenarios synchronise their processes with pipes and waitpid, never with
 * sleeps: a process that must be compared with another by kcmp stays alive,
 * blocked on a "go" pipe, until the other has done its part. Every child's
 * exit status is checked; a scenario that cannot do what it promises says so
 * on stderr and exits 99.
 */
#ifndef KT_SCENARIO_H
#define KT_SCENARIO_H

#include <errno.h>
#include <spawn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	fprintf(stderr, "%s[%d]: ", program_invocation_short_name, (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(99);
}

static inline int xopen(const char *path, int flags)
{
	int fd = open(path, flags, 0600);
	if (fd < 0)
		die("open %s", path);
	return fd;
}

/* This program's path into out, or with sibling the path of that other
 * scenario program beside it. */
static inline void scenario_path(char *out, size_t size, const char *sibling)
{
	ssize_t len = readlink("/proc/self/exe", out, size - 1);
	if (len < 0)
		die("readlink /proc/self/exe");
	out[len] = '\0';
	char *slash = strrchr(out, '/');
	if (sibling && (!slash || (size_t)(slash + 1 - out) + strlen(sibling) >= size))
		die("path of %s too long", sibling);
	if (sibling)
		strcpy(slash + 1, sibling);
}

/* Before a posix_spawn of static_hold (its path into path): two
 * close-on-exec pipes, whose in[0] and out[1] the file actions fa place on
 * its stdin and stdout. The caller may add actions, then spawns. */
static inline void static_hold_spawn_setup(posix_spawn_file_actions_t *fa, int in[2], int out[2], char *path,
					   size_t size)
{
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		die("pipe2");
	scenario_path(path, size, "static_hold");
	posix_spawn_file_actions_init(fa);
	posix_spawn_file_actions_adddup2(fa, in[0], 0);
	posix_spawn_file_actions_adddup2(fa, out[1], 1);
}

/* The ready line static_hold writes to fd: its "own_fd=N" part, with its
 * newline ("own_fd=-1\n" when it has none), kept in line. */
static inline const char *static_hold_own_fd(int fd, char *line, size_t size)
{
	ssize_t n = read(fd, line, size - 1);
	if (n <= 0)
		die("no ready line from the child");
	line[n] = '\0';
	const char *own = strstr(line, "own_fd=");
	return own ? own : "own_fd=-1\n";
}

/* After the posix_spawn static_hold_spawn_setup prepared (r: what it
 * returned): the actions let go, the child's end of out closed, and its
 * ready line's "own_fd=N" part. */
static inline const char *static_hold_spawned(int r, const char *path, posix_spawn_file_actions_t *fa,
					      int out[2], char *line, size_t size)
{
	if (r != 0) {
		errno = r;
		die("posix_spawn %s", path);
	}
	posix_spawn_file_actions_destroy(fa);
	close(out[1]);
	return static_hold_own_fd(out[0], line, size);
}

static inline void xpipe(int p[2])
{
	if (pipe(p) != 0)
		die("pipe");
}

static inline pid_t xfork(void)
{
	fflush(NULL); /* no buffered output may be written twice */
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	return pid;
}

static inline void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write to fd %d", fd);
		p += w;
		n -= (size_t)w;
	}
}

/* Returns 0 at end of file before n bytes, 1 when all n bytes were read. */
static inline int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read from fd %d", fd);
		if (r == 0)
			return 0;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/* One byte down a pipe: "go on". */
static inline void signal_go(int fd)
{
	write_all(fd, "g", 1);
}

static inline void wait_go(int fd)
{
	char c;
	errno = 0;
	if (!read_all(fd, &c, 1))
		die("go pipe (fd %d) closed before the signal", fd);
}

/* Fork a child that holds a copy of every descriptor of this process
 * until signal_go(*go) is called, then exits 0: the parent's descriptors
 * then have a live twin for kcmp to compare. Returns the child's pid. */
static inline pid_t fork_holder(int *go)
{
	int p[2];
	xpipe(p);
	pid_t child = xfork();
	if (child == 0) {
		close(p[1]);
		wait_go(p[0]);
		exit(0);
	}
	close(p[0]);
	*go = p[1];
	return child;
}

/* Block until every write end of the pipe is closed. */
static inline void wait_eof(int fd)
{
	char c;
	while (read_all(fd, &c, 1))
		;
}

/* Wait for a child (or any child with pid -1) and insist that it exited 0. */
static inline pid_t reap(pid_t pid, const char *what)
{
	int st;
	pid_t got;
	do
		got = waitpid(pid, &st, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		die("waitpid for %s", what);
	errno = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s (pid %d) ended badly: wait status 0x%x", what, (int)got, st);
	return got;
}

/* The number after "NAME:" in /proc/self/status (VmRSS in kB, TracerPid),
 * or -1 when there is none. */
static inline long proc_status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t n = strlen(name);
	long value = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			value = strtol(line + n + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return value;
}

/* A system call made with the instruction itself, not through libc (and so
 * not through the shim's hooks): what Go programs and some runtimes do. */
static inline long raw_syscall3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#else
#error "raw_syscall3 is written for x86_64 and aarch64"
#endif
}

/* Pass fd over the UNIX socket sock (SCM_RIGHTS), with one byte. */
static inline void send_fd(int sock, int fd)
{
	char byte = 'x';
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

/* The descriptor passed over sock by send_fd. */
static inline int recv_fd(int sock)
{
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf};
	if (recvmsg(sock, &msg, 0) != 1)
		die("recvmsg");
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		die("recvmsg: no descriptor");
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

#endif
