/* Who is asking on watch.sock (watch.h): the launcher attaches with ptrace
 * to whoever asks, so the asker must prove to be one of this trace's own
 * processes, and still the same process when the launcher attaches. */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

/* Whether pid descends from this launcher. The launcher is the tree's
 * child subreaper: orphans of the tree are reparented to it, so every
 * descendant's parent chain reaches it. */
static bool descends_from_us(pid_t pid)
{
	pid_t self = getpid();
	for (int depth = 0; depth < 4096 && pid > 1; depth++) {
		pid_t ppid;
		if (kt_proc_stat(pid, NULL, &ppid, NULL) != 0)
			return false;
		if (ppid == self)
			return true;
		pid = ppid;
	}
	return false;
}

int kt_watch_peer(int conn, struct ucred *cred)
{
	socklen_t len = sizeof *cred;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0 || cred->uid != geteuid())
		return -1;
	/* The peer as it connected, not a later owner of its pid. */
	int pidfd;
	len = sizeof pidfd;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0)
		pidfd = (int)syscall(SYS_pidfd_open, cred->pid, 0);
	if (pidfd < 0)
		return -1;
	if (!kt_watch_peer_alive(pidfd) || !descends_from_us(cred->pid)) {
		close(pidfd);
		return -1;
	}
	return pidfd;
}

bool kt_watch_peer_alive(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, 0) == 0; /* readable once the process has exited */
}
