/* The shim's own descriptors stay out of the program's record. Inside its
 * hooks the shim opens files for itself at the lowest free number: a fork
 * child's /proc stat, the sender of a received descriptor (its stat, its
 * table, its /proc/PID/fd), a pidfd's fdinfo. None of those may be recorded
 * as the program's, nor move the generation of a number the program gets
 * next (as when the shim's internal calls went through its own syscall()
 * hook and its SYS_openat case noted them).
 *
 *   shim_own_fds
 *
 * The program closes nothing, so each descriptor it holds is the first
 * generation of its number. It makes a socket pair and a pipe, forks a
 * child that sends it a descriptor (recvmsg, the sender looked up while the
 * child lives), takes a copy of that one through a pidfd of its own
 * (pidfd_getfd), makes one with syscall(SYS_openat), then opens /dev/null
 * four times: numbers above everything else, never used before.
 *
 * stdout: sock_fds=A,B go_fds=A,B recv_fd=N pidfd_fd=N getfd_fd=N raw_fd=N
 *         fresh_fds=A,B,C,D    (or pidfd=unsupported, exit 0)
 */
#include "scenario.h"

#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

int main(void)
{
	int sv[2], go[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	xpipe(go);
	pid_t child = xfork();
	if (child == 0) {
		send_fd(sv[1], xopen("/dev/null", O_RDONLY));
		wait_go(go[0]);
		exit(0);
	}
	int received = recv_fd(sv[0]);
	int pidfd = pidfd_open(getpid(), 0);
	int copy = pidfd < 0 ? -1 : pidfd_getfd(pidfd, received, 0);
	if (copy < 0) {
		printf("pidfd=unsupported\n");
		fflush(stdout);
		signal_go(go[1]);
		reap(child, "child");
		return 0;
	}
	int raw = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	if (raw < 0)
		die("syscall(SYS_openat)");
	int fresh[4];
	for (int i = 0; i < 4; i++)
		fresh[i] = xopen("/dev/null", O_RDONLY);
	printf("sock_fds=%d,%d go_fds=%d,%d recv_fd=%d pidfd_fd=%d getfd_fd=%d raw_fd=%d "
	       "fresh_fds=%d,%d,%d,%d\n",
	       sv[0], sv[1], go[0], go[1], received, pidfd, copy, raw, fresh[0], fresh[1], fresh[2],
	       fresh[3]);
	fflush(stdout);
	signal_go(go[1]);
	reap(child, "child");
	return 0;
}
