/* Descriptors made by the other libc makers: temporary files, shared
 * memory, pseudo-terminals, eventfd, timerfd, signalfd, epoll, inotify,
 * memfd, pidfd (and a copy of one of this process's own descriptors taken
 * with pidfd_getfd), fanotify (needs CAP_SYS_ADMIN: -1 when refused).
 *
 *   makers DIR      (DIR: where the temporary files go; they are unlinked)
 *
 * mkostemp and mkostemps ask for O_CLOEXEC, the others not; signalfd is
 * called a second time on its own descriptor (no new one). Everything stays
 * open.
 *
 * stdout: mkstemp_fd=N mkostemp_fd=N mkstemps_fd=N mkostemps_fd=N
 *         mkstemp64_fd=N mkostemp64_fd=N mkstemps64_fd=N mkostemps64_fd=N
 *         shm_fd=N openpt_fd=N getpt_fd=N eventfd_fd=N timerfd_fd=N
 *         signalfd_fd=N epoll_fd=N epoll1_fd=N inotify_fd=N inotify1_fd=N
 *         memfd_fd=N pidfd_fd=N getfd_fd=N getfd_target=N fanotify_fd=N
 */
#include "scenario.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

static char dir[4096];

static char *tmpl(const char *suffix)
{
	static char names[8][4200];
	static int next;
	char *t = names[next++ % 8];
	snprintf(t, 4200, "%s/makerXXXXXX%s", dir, suffix);
	return t;
}

static int check(int fd, const char *what)
{
	if (fd < 0)
		die("%s", what);
	return fd;
}

static int tmpfd(int fd, char *name, const char *what)
{
	check(fd, what);
	unlink(name);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: makers DIR");
	snprintf(dir, sizeof dir, "%s", argv[1]);
	char *t;
	int mkstemp_fd = (t = tmpl(""), tmpfd(mkstemp(t), t, "mkstemp"));
	int mkostemp_fd = (t = tmpl(""), tmpfd(mkostemp(t, O_CLOEXEC), t, "mkostemp"));
	int mkstemps_fd = (t = tmpl(".x"), tmpfd(mkstemps(t, 2), t, "mkstemps"));
	int mkostemps_fd = (t = tmpl(".x"), tmpfd(mkostemps(t, 2, O_CLOEXEC), t, "mkostemps"));
	int mkstemp64_fd = (t = tmpl(""), tmpfd(mkstemp64(t), t, "mkstemp64"));
	int mkostemp64_fd = (t = tmpl(""), tmpfd(mkostemp64(t, 0), t, "mkostemp64"));
	int mkstemps64_fd = (t = tmpl(".x"), tmpfd(mkstemps64(t, 2), t, "mkstemps64"));
	int mkostemps64_fd = (t = tmpl(".x"), tmpfd(mkostemps64(t, 2, 0), t, "mkostemps64"));

	char shm[64];
	snprintf(shm, sizeof shm, "/kcmptrace-makers-%d", (int)getpid());
	int shm_fd = check(shm_open(shm, O_RDWR | O_CREAT | O_EXCL, 0600), "shm_open");
	shm_unlink(shm);
	int openpt_fd = check(posix_openpt(O_RDWR | O_NOCTTY), "posix_openpt");
	int getpt_fd = check(getpt(), "getpt");
	int eventfd_fd = check(eventfd(0, EFD_CLOEXEC), "eventfd");
	int timerfd_fd = check(timerfd_create(CLOCK_MONOTONIC, 0), "timerfd_create");
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	int signalfd_fd = check(signalfd(-1, &mask, SFD_CLOEXEC), "signalfd");
	sigaddset(&mask, SIGUSR2);
	if (signalfd(signalfd_fd, &mask, 0) != signalfd_fd)
		die("signalfd on its own descriptor");
	int epoll_fd = check(epoll_create(1), "epoll_create");
	int epoll1_fd = check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
	int inotify_fd = check(inotify_init(), "inotify_init");
	int inotify1_fd = check(inotify_init1(IN_CLOEXEC), "inotify_init1");
	int memfd_fd = check(memfd_create("makers", 0), "memfd_create");
	int pidfd_fd = check(pidfd_open(getpid(), 0), "pidfd_open");
	int getfd_fd = check(pidfd_getfd(pidfd_fd, mkstemp_fd, 0), "pidfd_getfd");
	int fanotify_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);

	printf("mkstemp_fd=%d mkostemp_fd=%d mkstemps_fd=%d mkostemps_fd=%d mkstemp64_fd=%d "
	       "mkostemp64_fd=%d mkstemps64_fd=%d mkostemps64_fd=%d shm_fd=%d openpt_fd=%d "
	       "getpt_fd=%d eventfd_fd=%d timerfd_fd=%d signalfd_fd=%d epoll_fd=%d epoll1_fd=%d "
	       "inotify_fd=%d inotify1_fd=%d memfd_fd=%d pidfd_fd=%d getfd_fd=%d getfd_target=%d "
	       "fanotify_fd=%d\n",
	       mkstemp_fd, mkostemp_fd, mkstemps_fd, mkostemps_fd, mkstemp64_fd, mkostemp64_fd,
	       mkstemps64_fd, mkostemps64_fd, shm_fd, openpt_fd, getpt_fd, eventfd_fd, timerfd_fd,
	       signalfd_fd, epoll_fd, epoll1_fd, inotify_fd, inotify1_fd, memfd_fd, pidfd_fd,
	       getfd_fd, mkstemp_fd, fanotify_fd);
	return 0;
}
