/* Watching static images until their exit (watch.h).
 *
 * Before an exec into a static binary the shim asks over DIR/watch.sock.
 * The launcher attaches to the asking thread with PTRACE_SEIZE (no stop at
 * attach) and follows its exits, execs and forks (not its threads). The
 * process runs as before; its signals stop it for a moment and are passed
 * on unchanged, job-control stops stay stops (PTRACE_LISTEN) until SIGCONT.
 * At its exit it stops once with its descriptors still open: live.c reads
 * them and compares them with kcmp, and the process ends exactly as it
 * would have; its end status reaches the launcher before its parent.
 * Children of a watched image run no shim either: the launcher writes their
 * records (image, untraced) and watches them too, until one execs an image
 * the shim will trace. */
#include "watch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "live.h"
#include "procfs.h"
#include "record.h"
#include "table.h"
#include "watch_proto.h"
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

bool kt_watch_start(struct kt_watch *w, const char *dir, const char *shim, bool wanted)
{
	memset(w, 0, sizeof *w);
	w->dir = dir;
	w->shim = shim;
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
	/* Mode 0600 whatever the umask: only our user may connect. */
	mode_t umask_before = umask(0177);
	int bound = bind(s, (struct sockaddr *)&addr, sizeof addr);
	umask(umask_before);
	if (bound != 0 || listen(s, 64) != 0) {
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

/* Exits, execs and forks; not threads (CLONE events), nor system calls. */
#define WATCH_OPTIONS \
	(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK)

bool kt_watch_command(struct kt_watch *w, pid_t child)
{
	if (w->signal_fd < 0 ||
	    ptrace(PTRACE_SEIZE, child, NULL, (void *)(uintptr_t)WATCH_OPTIONS) != 0)
		return false;
	*KT_PUSH(w->pids, w->npids, w->pids_cap) = (struct kt_watched){child, true};
	return true;
}

void kt_watch_child_reset(const struct kt_watch *w)
{
	if (w->signal_fd >= 0)
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
}

static struct kt_watched *watched(struct kt_watch *w, pid_t pid)
{
	for (size_t i = 0; i < w->npids; i++)
		if (w->pids[i].pid == pid)
			return &w->pids[i];
	return NULL;
}

static void forget(struct kt_watch *w, pid_t pid)
{
	struct kt_watched *p = watched(w, pid);
	if (p != NULL)
		*p = w->pids[--w->npids];
}

/* Let go of tid now: stop it (PTRACE_INTERRUPT) and detach at that stop,
 * delivering a signal met on the way. */
static void let_go(struct kt_watch *w, pid_t tid)
{
	int st;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == 0)
		while (waitpid(tid, &st, __WALL) == tid) {
			if (!WIFSTOPPED(st)) {
				*KT_PUSH(w->ended, w->nended, w->ended_cap) = (struct kt_watch_end){tid, st};
				break;
			}
			int sig = ((unsigned)st >> 16) == 0 ? WSTOPSIG(st) : 0;
			if (ptrace(PTRACE_DETACH, tid, NULL, (void *)(uintptr_t)sig) == 0)
				break;
		}
	forget(w, tid);
}

/* What PID's table says: 1 untraced, 0 traced, -1 no table (a process the
 * launcher recorded itself, or one whose shim removed it at its exit). */
static int table_says_untraced(const struct kt_watch *w, pid_t pid)
{
	unsigned long long start;
	if (kt_proc_stat(pid, &start, NULL, NULL) != 0)
		return -1;
	size_t cap;
	const struct kt_fd_entry *t = kt_trace_map_table(w->dir, pid, start, &cap);
	int says = t == NULL ? -1 : atomic_load(&kt_table_header_of(t)->untraced) != 0;
	kt_table_unmap(t, cap);
	return says;
}

/* Whether child is a child of parent (a spawned one: still its child, or
 * not seized). */
static bool spawned_by(pid_t child, pid_t parent)
{
	pid_t ppid = 0;
	return kt_proc_stat(child, NULL, &ppid, NULL) == 0 && ppid == parent;
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
		int32_t msg[2] = {0, 0}; /* tid (a child's pid), KT_WATCH_* */
		char answer = 'n';
		struct pollfd in = {.fd = c, .events = POLLIN};
		char task[64];
		int pidfd = -1;
		bool from_peer = poll(&in, 1, 2000) == 1 &&
				 read(c, msg, sizeof msg) == (ssize_t)sizeof msg && msg[0] > 0 &&
				 (pidfd = kt_watch_peer(c, &cred)) >= 0;
		bool from_thread = from_peer &&
				   snprintf(task, sizeof task, "/proc/%d/task/%d", (int)cred.pid,
					    (int)msg[0]) > 0 &&
				   access(task, F_OK) == 0;
		pid_t tid = (pid_t)msg[0];
		/* only a process of this trace about to exec an untraced image:
		 * its table says so (the shim marks it before asking) */
		if (from_thread && msg[1] == KT_WATCH_ASK && table_says_untraced(w, cred.pid) == 1 &&
		    ptrace(PTRACE_SEIZE, tid, NULL, (void *)(uintptr_t)WATCH_OPTIONS) == 0) {
			if (!kt_watch_peer_alive(pidfd)) {
				/* the asker ended: tid may now be another's */
				ptrace(PTRACE_DETACH, tid, NULL, NULL);
			} else {
				/* After the exec the thread carries the process's pid. */
				*KT_PUSH(w->pids, w->npids, w->pids_cap) = (struct kt_watched){cred.pid, false};
				if (tid != cred.pid)
					*KT_PUSH(w->pids, w->npids, w->pids_cap) =
						(struct kt_watched){tid, false};
				answer = 'y';
			}
		} else if (from_peer && msg[1] == KT_WATCH_ASK_CHILD && spawned_by(tid, cred.pid) &&
			   table_says_untraced(w, tid) == 1 && watched(w, tid) == NULL &&
			   ptrace(PTRACE_SEIZE, tid, NULL, (void *)(uintptr_t)WATCH_OPTIONS) == 0) {
			/* a child the asker spawned into a static image, running
			 * it already (its table, written by the asker, says so) */
			*KT_PUSH(w->pids, w->npids, w->pids_cap) = (struct kt_watched){tid, false};
			answer = 'y';
		} else if (from_thread && msg[1] == KT_WATCH_RELEASE && watched(w, tid) != NULL) {
			/* its exec failed: the shim goes on tracing it */
			let_go(w, tid);
			forget(w, cred.pid);
			answer = 'y';
		}
		if (pidfd >= 0)
			close(pidfd);
		(void)!write(c, &answer, 1);
		close(c);
	}
}

/* A whole /proc/PID/NAME file (NUL-terminated; *len without it), or NULL. */
static char *read_proc_file(pid_t pid, const char *name, size_t *len)
{
	char *path = kt_xasprintf("/proc/%d/%s", (int)pid, name);
	FILE *f = fopen(path, "re");
	free(path);
	*len = 0;
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *text = kt_xmalloc(cap + 1);
	size_t got;
	while ((got = fread(text + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			text = kt_xrealloc(text, (cap *= 2) + 1);
	}
	fclose(f);
	text[n] = '\0';
	*len = n;
	return text;
}

/* Why the image PID has just exec'd runs without the shim, or NULL when
 * the shim will trace it (a dynamic program, not in secure mode, with our
 * library in LD_PRELOAD). */
static const char *untraced_after_exec(const struct kt_watch *w, pid_t pid)
{
	size_t len;
	char *auxv = read_proc_file(pid, "auxv", &len);
	bool secure = false;
	for (size_t i = 0; i + 2 * sizeof(unsigned long) <= len;
	     i += 2 * sizeof(unsigned long)) {
		unsigned long pair[2];
		memcpy(pair, auxv + i, sizeof pair);
		if (pair[0] == AT_SECURE)
			secure = pair[1] != 0;
	}
	free(auxv);
	if (secure)
		return KT_UNTRACED_SETID;
	char exe[64];
	snprintf(exe, sizeof exe, "/proc/%d/exe", (int)pid);
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	const char *why = fd >= 0 ? kt_image_elf_untraced(fd) : NULL;
	if (fd >= 0)
		close(fd);
	if (why != NULL)
		return why;
	char *env = read_proc_file(pid, "environ", &len);
	struct stat ours, st;
	bool preloaded = false;
	char *list = NULL; /* ld.so takes the last LD_PRELOAD= of the environment */
	for (size_t i = 0; i < len; i += strlen(env + i) + 1)
		if (strncmp(env + i, "LD_PRELOAD=", 11) == 0)
			list = env + i + 11;
	/* ld.so splits the list at spaces and colons; the shim may have spelled
	 * our path its own way when it repaired an environment */
	if (list != NULL && stat(w->shim, &ours) == 0)
		for (char *save = NULL, *item = strtok_r(list, " :", &save); item && !preloaded;
		     item = strtok_r(NULL, " :", &save))
			preloaded = stat(item, &st) == 0 && st.st_dev == ours.st_dev && st.st_ino == ours.st_ino;
	free(env);
	return preloaded ? NULL : KT_UNTRACED_NO_PRELOAD;
}

bool kt_record_untraced_image(const char *dir, pid_t pid, unsigned long long start,
			      pid_t ppid, const char *exe, int argc, char *const *argv, const char *why)
{
	unsigned long long pstart;
	if (ppid <= 0 || kt_proc_stat(ppid, &pstart, NULL, NULL) != 0)
		pstart = 0;
	/* exe twice (image and untraced lines), every byte possibly escaped */
	size_t cap = 512 + 8 * strlen(exe) + 4 * strlen(why);
	for (int i = 0; i < argc; i++)
		cap += 4 * strlen(argv[i]) + 4; /* worst case: every byte escaped */
	struct kt_buf b = {kt_xmalloc(cap), 0, cap, 0};
	kt_rec_put_image(&b, &(struct kt_rec_image){pid, ppid, pstart, start, exe, argc,
						     (const char *const *)argv});
	kt_rec_put_untraced(&b, &(struct kt_rec_untraced){exe, why});
	bool ok = !b.overflow && kt_trace_append_records(dir, pid, start, b.data, b.len);
	if (b.overflow)
		kt_warn("cannot add the records of process %d: too long", (int)pid);
	free(b.data);
	return ok;
}

/* The same for what PID runs now, read from /proc. */
void kt_record_untraced_now(const char *dir, pid_t pid, unsigned long long start, const char *why)
{
	pid_t ppid = 0;
	unsigned long long ignored;
	if (kt_proc_stat(pid, &ignored, &ppid, NULL) != 0)
		return;
	char exe[4096] = "", link[64];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	size_t len = 0;
	char *cmdline = read_proc_file(pid, "cmdline", &len);
	char **argv = NULL;
	size_t argc = 0, argv_cap = 0;
	for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1)
		*KT_PUSH(argv, argc, argv_cap) = cmdline + i;
	kt_record_untraced_image(dir, pid, start, ppid, exe, (int)argc, argv, why);
	free(argv);
	free(cmdline);
}

/* A watched process stopped: at its exit (observe, let go), after an exec
 * (keep watching an untraced image, let go of a traced one), at a fork
 * (its child stops on its own), in a group stop (stay stopped), or for a
 * signal (deliver it). The first stop of a pid we do not know yet is a
 * child of a watched image, attached by the kernel. */
static void tracee_stop(struct kt_watch *w, pid_t pid, int status)
{
	int event = (unsigned)status >> 16;
	unsigned long long start;
	struct kt_watched *known = watched(w, pid);
	if (known == NULL) {
		pid_t ppid = 0;
		if (kt_proc_stat(pid, &start, &ppid, NULL) != 0 || table_says_untraced(w, ppid) == 0) {
			/* gone already, or a child of a traced process (one whose
			 * exec failed before it told us): the shim traces it */
			ptrace(PTRACE_DETACH, pid, NULL, NULL);
			return;
		}
		*KT_PUSH(w->pids, w->npids, w->pids_cap) = (struct kt_watched){pid, true};
		known = &w->pids[w->npids - 1];
		kt_record_untraced_now(w->dir, pid, start, KT_UNTRACED_STATIC);
	}
	if (event == PTRACE_EVENT_EXIT) {
		int says = table_says_untraced(w, pid);
		if ((says == 1 || (says == -1 && known->ours)) &&
		    kt_proc_stat(pid, &start, NULL, NULL) == 0)
			kt_live_observe_exit(w->dir, pid, start);
		/* Let it end still attached: its end status then comes to us as
		 * well as to its parent (an untraced parent tells nobody). */
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_EXEC) {
		const char *why = untraced_after_exec(w, pid);
		if (why == NULL) {
			/* the shim takes over in the new image */
			ptrace(PTRACE_DETACH, pid, NULL, NULL);
			forget(w, pid);
			return;
		}
		if (kt_proc_stat(pid, &start, NULL, NULL) == 0)
			kt_record_untraced_now(w->dir, pid, start, why);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) {
		ptrace(PTRACE_CONT, pid, NULL, NULL);
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

/* Block until a child may have changed state, wake_fd is readable or the
 * timeout passed. Returns false when woken (or on error). */
static bool wait_for_events(struct kt_watch *w, int wake_fd, int timeout_ms)
{
	struct pollfd fds[3] = {{.fd = w->listen_fd, .events = POLLIN},
				{.fd = w->signal_fd, .events = POLLIN},
				{.fd = wake_fd, .events = POLLIN}};
	int n = poll(fds, 3, timeout_ms);
	if (n < 0)
		return errno == EINTR;
	if (fds[0].revents & POLLIN)
		serve_requests(w);
	if (fds[1].revents & POLLIN) {
		struct signalfd_siginfo si;
		while (read(w->signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
			;
	}
	return n > 0 && !(fds[2].revents & (POLLIN | POLLERR | POLLHUP));
}

pid_t kt_watch_wait(struct kt_watch *w, int *status, bool block, int wake_fd, int timeout_ms)
{
	/* Without wake_fd and not watching, nothing but a child can end the
	 * wait: waitpid itself blocks. */
	bool plain = w->signal_fd < 0 && wake_fd < 0 && timeout_ms < 0;
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, __WALL | (block && plain ? 0 : WNOHANG));
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
		if (!wait_for_events(w, wake_fd, timeout_ms))
			return KT_WATCH_WOKEN;
	}
}

void kt_watch_stop(struct kt_watch *w)
{
	if (w->listen_fd >= 0) {
		close(w->listen_fd);
		unlink(w->sock_path);
	}
	/* Not waited to their exit (--wait=command): stop them all and let
	 * each go at its next stop, whatever it is (a signal's is delivered).
	 * Any tracee, not only those in the list: a vfork child attached on the
	 * way holds its parent until it is let go. */
	for (size_t i = 0; i < w->npids;)
		if (ptrace(PTRACE_INTERRUPT, w->pids[i].pid, NULL, NULL) != 0)
			w->pids[i] = w->pids[--w->npids]; /* gone */
		else
			i++;
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, __WALL | (w->npids > 0 ? 0 : WNOHANG));
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		if (WIFSTOPPED(st)) {
			int sig = ((unsigned)st >> 16) == 0 ? WSTOPSIG(st) : 0;
			ptrace(PTRACE_DETACH, r, NULL, (void *)(uintptr_t)sig);
		} else {
			*KT_PUSH(w->ended, w->nended, w->ended_cap) = (struct kt_watch_end){r, st};
		}
		forget(w, r);
	}
	if (w->signal_fd >= 0) {
		close(w->signal_fd);
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
	}
	free(w->sock_path);
	free(w->pids); /* ended stays for the caller, who frees it */
	w->listen_fd = w->signal_fd = -1;
	w->sock_path = NULL;
	w->pids = NULL;
	w->npids = 0;
}
