/* kcmp_probe: exit 0 if kcmp(KCMP_FILE) works here (between a parent and its
 * child, as the shim uses it), 1 if the kernel or a seccomp profile refuses
 * it. The tests skip what needs kcmp where this fails.
 *
 * stdout: kcmp=ok  or  kcmp=unavailable:ERRNONAME
 */
#include "scenario.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>

int main(void)
{
	int go[2];
	xpipe(go);
	int fd = dup(go[0]);
	if (fd < 0)
		die("dup");
	pid_t child = xfork();
	if (child == 0) {
		close(go[1]);
		wait_go(go[0]);
		exit(0);
	}
	long r = syscall(SYS_kcmp, getpid(), child, KCMP_FILE, fd, go[0]);
	int e = errno;
	signal_go(go[1]);
	reap(child, "child");
	if (r == 0) {
		printf("kcmp=ok\n");
		return 0;
	}
	if (r < 0)
		printf("kcmp=unavailable:%s\n", strerrorname_np(e) ? strerrorname_np(e) : "?");
	else
		printf("kcmp=wrong-answer:%ld\n", r);
	return 1;
}
