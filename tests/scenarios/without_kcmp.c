/* Run a command with kcmp(2) refused, as Docker's default seccomp profile
 * (without SYS_PTRACE) does: the shim must notice, say so, and never
 * present anything as kcmp's answer.
 *
 *   without_kcmp [--errno=ENOSYS] COMMAND [ARG...]
 *
 * A seccomp filter makes every kcmp call of this process and its
 * descendants fail with EPERM (or ENOSYS), then COMMAND is exec'd.
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
#error "without_kcmp: add this architecture's AUDIT_ARCH"
#endif

int main(int argc, char **argv)
{
	int err = EPERM, first = 1;
	if (argc > 1 && strcmp(argv[1], "--errno=ENOSYS") == 0) {
		err = ENOSYS;
		first = 2;
	}
	if (first >= argc)
		die("usage: without_kcmp [--errno=ENOSYS] COMMAND [ARG...]");
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kcmp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		die("seccomp");
	if (syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0) != -1 || errno != err)
		die("the filter did not refuse kcmp");
	execvp(argv[first], argv + first);
	die("exec %s", argv[first]);
}
