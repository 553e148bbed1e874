/* Watching static images until their exit (watch.h).
 *
 * Before an exec into a static binary the shim asks over DIR/watch.sock.
 * The launcher attaches to the asking thread with PTRACE_SEIZE and only
 * PTRACE_O_TRACEEXIT: no stop at attach, none at exec, no following of its
 * children. The process runs as before; its signals stop it for a moment
 * and are passed on unchanged, job-control stops stay stops (PTRACE_LISTEN)
 * until SIGCONT.
 * At its exit it stops once with its descriptors still open: live.c reads
 * them and compares them with kcmp, the launcher detaches, and the process
 * ends exactly as it would have. */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live.h"
#include "procfs.h"
#include "table.h"
#include "tracedir.h"
#include "util.h"

/* Whether we hold CAP_SYS_PTRACE. Without it, an exec of a set-id program
 * by a process we are attached to would run without its privileges (the
 * kernel does not raise them under a tracer that could not ptrace the
 * result): watching would change what the program does. */
static bool may_watch_without_side_effects(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long caps = 0;
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f))
		found = sscanf(line, "CapEff: %llx", &caps) == 1;
	if (f)
		fclose(f);
	return found && (caps >> CAP_SYS_PTRACE & 1);
}

bool kt_watch_start(struct kt_watch *w, const char *dir, bool wanted)
{
	memset(w, 0, sizeof *w);
	w->dir = dir;
	w->listen_fd = w->signal_fd = -1;
	if (!wanted || !may_watch_without_side_effects())
		return false;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/" KT_WATCH_SOCKET, dir);
	if (n < 0 || (size_t)n >= sizeof addr.sun_path)
		return false; /* a long --trace-dir: static images are observed by others only */
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return false;
	if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 64) != 0) {
		close(s);
		return false;
	}
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &w->old_mask);
	w->signal_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (w->signal_fd < 0) {
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
		close(s);
		unlink(addr.sun_path);
		return false;
	}
	w->listen_fd = s;
	w->sock_path = kt_xstrdup(addr.sun_path);
	return true;
}

void kt_watch_child_reset(const struct kt_watch *w)
{
	if (w->signal_fd >= 0)
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
}

static bool watched(const struct kt_watch *w, pid_t pid, size_t *at)
{
	for (size_t i = 0; i < w->npids; i++)
		if (w->pids[i] == pid) {
			*at = i;
			return true;
		}
	return false;
}

static void forget(struct kt_watch *w, pid_t pid)
{
	size_t i;
	if (watched(w, pid, &i))
		w->pids[i] = w->pids[--w->npids];
}

/* Only a process of this trace that is about to exec an untraced image:
 * its table says so (the shim marks it before asking). */
static bool about_to_go_untraced(const struct kt_watch *w, pid_t pid, unsigned long long *start)
{
	if (kt_proc_stat(pid, start, NULL, NULL) != 0)
		return false;
	char *path = kt_xasprintf("%s/live/%d-%llu.tbl", w->dir, (int)pid, *start);
	size_t cap;
	const struct kt_fd_entry *t = kt_table_map_path(path, &cap);
	free(path);
	bool yes = t != NULL && atomic_load(&kt_table_header_of(t)->untraced) != 0;
	kt_table_unmap(t);
	return yes;
}

static void serve_requests(struct kt_watch *w)
{
	for (;;) {
		int c = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN: none waiting */
		}
		struct ucred cred;
		socklen_t len = sizeof cred;
		int32_t tid = 0;
		unsigned long long start;
		char answer = 'n';
		struct pollfd in = {.fd = c, .events = POLLIN};
		char task[64];
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && poll(&in, 1, 2000) == 1 &&
		    read(c, &tid, sizeof tid) == (ssize_t)sizeof tid && tid > 0 &&
		    snprintf(task, sizeof task, "/proc/%d/task/%d", (int)cred.pid, (int)tid) > 0 &&
		    access(task, F_OK) == 0 && about_to_go_untraced(w, cred.pid, &start) &&
		    ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, (void *)(uintptr_t)PTRACE_O_TRACEEXIT) == 0) {
			/* After the exec the thread carries the process's pid. */
			*KT_PUSH(w->pids, w->npids, w->pids_cap) = cred.pid;
			if (tid != cred.pid)
				*KT_PUSH(w->pids, w->npids, w->pids_cap) = (pid_t)tid;
			answer = 'y';
		}
		(void)!write(c, &answer, 1);
		close(c);
	}
}

/* A watched process stopped: at its exit (observe, let go), in a group
 * stop (stay stopped), or for a signal (deliver it). */
static void tracee_stop(struct kt_watch *w, pid_t pid, int status)
{
	int event = (unsigned)status >> 16;
	if (event == PTRACE_EVENT_EXIT) {
		unsigned long long start;
		char *path = NULL;
		if (kt_proc_stat(pid, &start, NULL, NULL) == 0) {
			path = kt_xasprintf("%s/live/%d-%llu.tbl", w->dir, (int)pid, start);
			size_t cap;
			const struct kt_fd_entry *t = kt_table_map_path(path, &cap);
			/* Still untraced: a failed exec left it traced, and it took its
			 * own snapshot. */
			if (t != NULL && atomic_load(&kt_table_header_of(t)->untraced) &&
			    kt_live_observe_exit(w->dir, pid, start))
				w->seen_at_exit++;
			kt_table_unmap(t);
			free(path);
		}
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		forget(w, pid);
	} else if (event == PTRACE_EVENT_STOP) {
		int sig = WSTOPSIG(status);
		/* A group stop stays a stop (SIGCONT wakes it, and it reports
		 * again, as SIGTRAP: then it runs on). */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, pid, NULL, NULL);
		else
			ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else {
		ptrace(PTRACE_CONT, pid, NULL, (void *)(uintptr_t)WSTOPSIG(status));
	}
}

pid_t kt_watch_wait(struct kt_watch *w, int *status, bool block)
{
	if (w->signal_fd < 0) {
		pid_t r;
		do
			r = waitpid(-1, status, block ? 0 : WNOHANG);
		while (r < 0 && errno == EINTR);
		return r;
	}
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, __WALL | WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0 && WIFSTOPPED(st)) {
			tracee_stop(w, r, st);
			continue;
		}
		if (r > 0) {
			forget(w, r); /* ended without an exit stop (SIGKILL) */
			*status = st;
			return r;
		}
		if (r < 0 || !block)
			return r;
		struct pollfd fds[2] = {{.fd = w->listen_fd, .events = POLLIN},
					{.fd = w->signal_fd, .events = POLLIN}};
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (fds[0].revents & POLLIN)
			serve_requests(w);
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(w->signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
				;
		}
	}
}

void kt_watch_stop(struct kt_watch *w)
{
	if (w->listen_fd >= 0) {
		close(w->listen_fd);
		unlink(w->sock_path);
	}
	/* Not waited to their exit (--wait=command): stop them for a moment
	 * and let go. */
	for (size_t i = 0; i < w->npids; i++) {
		pid_t pid = w->pids[i];
		if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) != 0)
			continue;
		int st;
		while (waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st)) {
			if (((unsigned)st >> 16) == PTRACE_EVENT_STOP || ((unsigned)st >> 16) == PTRACE_EVENT_EXIT) {
				ptrace(PTRACE_DETACH, pid, NULL, NULL);
				break;
			}
			/* a signal caught on the way: deliver it and wait again */
			ptrace(PTRACE_CONT, pid, NULL, (void *)(uintptr_t)WSTOPSIG(st));
		}
	}
	if (w->signal_fd >= 0) {
		close(w->signal_fd);
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
	}
	free(w->sock_path);
	free(w->pids);
	w->listen_fd = w->signal_fd = -1;
	w->sock_path = NULL;
	w->pids = NULL;
	w->npids = 0;
}
