/*
 * Helpers under a seccomp sandbox, as man-db runs tbl, groff and its own
 * decompressors: the filter refuses the calls the shim writes its trace
 * with, the program itself must not notice.
 *
 *   sandboxed [--errno=EPERM] [--no-directory] COMMAND [ARG...]
 *
 * The process forks two children, each loading the filter first:
 *   exec child  execs COMMAND (its exec snapshot and its new image's trace
 *               are refused);
 *   work child  writes "work" on stdout, forks a grandchild that writes
 *               "grandchild" (its trace cannot even be started: its table
 *               would have to be created), and exits 0.
 * The default filter is man-db's strict one for what the shim needs: open
 * for writing or creating, unlink, rename and kcmp fail with ENOSYS (or
 * EPERM); reading opens pass. --no-directory is man-db's permissive one
 * instead: opens with O_DIRECTORY and kcmp fail, files may be created.
 * Prints "exec_child=PID work_child=PID grandchild=PID" last, and exits
 * with COMMAND's status.
 */
#include "scenario.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "sandboxed: add this architecture's AUDIT_ARCH"
#endif

/* The low 32 bits of argument i (open flags fit in them). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

static int refuse_errno = ENOSYS;
static int no_directory;

#define MAX_FILTER 64

struct filter {
	struct sock_filter insn[MAX_FILTER];
	unsigned short n;
};

static void put(struct filter *f, struct sock_filter insn)
{
	if (f->n == MAX_FILTER)
		die("filter too long");
	f->insn[f->n++] = insn;
}

/* if (nr == sys) return refuse; */
static void refuse_call(struct filter *f, long sys)
{
	put(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sys, 0, 1));
	put(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					    SECCOMP_RET_ERRNO | ((unsigned)refuse_errno & SECCOMP_RET_DATA)));
}

/* if (nr == sys && (flags argument & mask)) return refuse; the number is
 * reloaded after, for the next test. */
static void refuse_open_flags(struct filter *f, long sys, int flags_arg, unsigned mask)
{
	put(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sys, 0, 4));
	put(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(flags_arg)));
	put(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1));
	put(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					    SECCOMP_RET_ERRNO | ((unsigned)refuse_errno & SECCOMP_RET_DATA)));
	put(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
}

static void load_sandbox(void)
{
	struct filter f = {.n = 0};
	put(&f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	put(&f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0));
	put(&f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	put(&f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	/* O_ACCMODE catches writing opens, O_CREAT and O_TMPFILE (less its
	 * O_DIRECTORY bit) creating ones. */
	unsigned mask = no_directory ? O_DIRECTORY
				     : O_ACCMODE | O_CREAT | O_TRUNC | (O_TMPFILE & ~O_DIRECTORY);
	refuse_open_flags(&f, SYS_openat, 2, mask);
#ifdef SYS_open
	refuse_open_flags(&f, SYS_open, 1, mask);
#endif
	refuse_call(&f, SYS_kcmp);
	if (!no_directory) {
		refuse_call(&f, SYS_unlinkat);
#ifdef SYS_renameat
		refuse_call(&f, SYS_renameat);
#endif
		refuse_call(&f, SYS_renameat2);
		refuse_call(&f, SYS_memfd_create);
#ifdef SYS_unlink
		refuse_call(&f, SYS_unlink);
		refuse_call(&f, SYS_rename);
		refuse_call(&f, SYS_creat);
#endif
	}
	put(&f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	struct sock_fprog prog = {.len = f.n, .filter = f.insn};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		die("seccomp");
	errno = 0;
	if (syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0) != -1 || errno != refuse_errno)
		die("the filter did not refuse kcmp");
}

static int wait_for(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid %d", (int)pid);
	return status;
}

/* The work child: a sandboxed function of the program, with a child of
 * its own. Returns the grandchild's pid through the pipe. */
static _Noreturn void work(int report)
{
	load_sandbox();
	if (write(1, "work\n", 5) != 5)
		die("write");
	pid_t grandchild = xfork();
	if (grandchild == 0) {
		if (write(1, "grandchild\n", 11) != 11)
			die("write");
		exit(0);
	}
	int status = wait_for(grandchild);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("grandchild ended with status %#x", status);
	if (write(report, &grandchild, sizeof grandchild) != sizeof grandchild)
		die("write");
	exit(0);
}

int main(int argc, char **argv)
{
	int first = 1;
	for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
		if (strcmp(argv[first], "--errno=EPERM") == 0)
			refuse_errno = EPERM;
		else if (strcmp(argv[first], "--no-directory") == 0)
			no_directory = 1;
		else
			die("unknown option %s", argv[first]);
	}
	if (first >= argc)
		die("usage: sandboxed [--errno=EPERM] [--no-directory] COMMAND [ARG...]");
	int report[2];
	xpipe(report);
	pid_t work_child = xfork();
	if (work_child == 0) {
		close(report[0]);
		work(report[1]);
	}
	close(report[1]);
	int status = wait_for(work_child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("work child ended with status %#x", status);
	pid_t grandchild;
	if (read(report[0], &grandchild, sizeof grandchild) != sizeof grandchild)
		die("read");
	close(report[0]);
	pid_t exec_child = xfork();
	if (exec_child == 0) {
		load_sandbox();
		execvp(argv[first], argv + first);
		die("exec %s", argv[first]);
	}
	status = wait_for(exec_child);
	printf("exec_child=%d work_child=%d grandchild=%d\n", (int)exec_child, (int)work_child,
	       (int)grandchild);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
