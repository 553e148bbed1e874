/* The launcher: run one command with the shim preloaded into a trace
 * directory, and wait for it the way time(1) does. */
#include "launch.h"
#include "stall.h"
#include "stale.h"
#include "tracedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "descendants.h"
#include "image.h"
#include "launch_signals.h"
#include "live.h"
#include "outlive.h"
#include "procfs.h"
#include "trace.h"
#include "unrecorded.h"
#include "util.h"
#include "watch.h"

#ifndef KT_INSTALL_LIBDIR
#define KT_INSTALL_LIBDIR "/usr/local/lib/kcmptrace"
#endif
#ifndef KT_BIN_TO_LIBDIR
#define KT_BIN_TO_LIBDIR "../lib/kcmptrace"
#endif
#define SHIM_NAME "libkcmptrace.so"
/* Kept free in the trace's file system for the records of the run's end
 * (ended lines, fork children only their parents' tables name). */
#define KT_LAUNCHER_RESERVE ((size_t)256 << 10)

char *kt_find_shim(void)
{
	const char *env = getenv("KCMPTRACE_LIB");
	if (env != NULL && *env != '\0') {
		char *abs = realpath(env, NULL);
		if (abs == NULL)
			kt_warn("KCMPTRACE_LIB=%s: %s", env, strerror(errno));
		return abs;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			/* A build tree (side by side), then an installed tree moved
			 * elsewhere than its configured prefix (PREFIX/bin and
			 * PREFIX/LIBDIR/kcmptrace, as CMakeLists.txt installs them,
			 * LIBDIR perhaps lib/TRIPLET). */
			static const char *const relative[] = {"", ("/" KT_BIN_TO_LIBDIR),
							       "/../lib/kcmptrace", "/../lib64/kcmptrace"};
			for (size_t i = 0; i < sizeof relative / sizeof relative[0]; i++) {
				char *candidate = kt_xasprintf("%s%s/" SHIM_NAME, self, relative[i]);
				if (access(candidate, R_OK) == 0)
					return candidate;
				free(candidate);
			}
		}
	}
	const char *installed = KT_INSTALL_LIBDIR "/" SHIM_NAME;
	if (access(installed, R_OK) == 0)
		return kt_xstrdup(installed);
	kt_warn("cannot find " SHIM_NAME " (looked next to the executable and in %s; "
		"set KCMPTRACE_LIB)", KT_INSTALL_LIBDIR);
	return NULL;
}

/* 0 if path is an executable regular file, else an errno value. */
static int check_executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return EACCES;
	return 0;
}

char *kt_resolve_command(const char *command, int *exit_code)
{
	int err;
	if (*command == '\0') {
		err = ENOENT;
	} else if (strchr(command, '/') != NULL) {
		err = check_executable(command);
		if (err == 0)
			return kt_xstrdup(command);
	} else {
		const char *path = getenv("PATH");
		char default_path[256];
		if (path == NULL) {
			size_t n = confstr(_CS_PATH, default_path, sizeof default_path);
			path = n > 0 && n <= sizeof default_path ? default_path : "/bin:/usr/bin";
		}
		/* Like execvp: a non-executable match is remembered but the search
		 * goes on; it decides the error only if nothing better is found. */
		err = ENOENT;
		for (const char *p = path;; p++) {
			const char *colon = strchr(p, ':');
			size_t len = colon ? (size_t)(colon - p) : strlen(p);
			char *candidate = len == 0 ? kt_xasprintf("./%s", command)
						   : kt_xasprintf("%.*s/%s", (int)len, p, command);
			int e = check_executable(candidate);
			if (e == 0)
				return candidate;
			free(candidate);
			if (e == EACCES || e == EISDIR)
				err = EACCES;
			if (colon == NULL)
				break;
			p = colon;
		}
	}
	kt_warn("cannot run '%s': %s", command, strerror(err));
	*exit_code = err == ENOENT || err == ENOTDIR ? 127 : 126;
	return NULL;
}

static bool make_absolute(struct kt_launch *launch, const char *dir)
{
	launch->trace_dir = realpath(dir, NULL);
	if (launch->trace_dir == NULL) {
		kt_warn("trace directory %s: %s", dir, strerror(errno));
		return false;
	}
	return true;
}

bool kt_prepare_trace_dir(struct kt_launch *launch)
{
	if (launch->trace_dir_option == NULL) {
		char temp[4200];
		kt_clean_stale_traces();
		int r = kt_trace_make_temp(temp, sizeof temp);
		if (r < 0) {
			kt_warn("cannot create a trace directory in %s: %s", kt_trace_tmp_parent(),
				strerror(-r));
			return false;
		}
		launch->temporary = true;
		/* while the launcher runs, no other run may judge it stale */
		if ((r = kt_trace_mark_launcher(temp)) < 0) {
			kt_warn("cannot write in trace directory %s: %s", temp, strerror(-r));
			kt_trace_remove(temp);
			return false;
		}
		return make_absolute(launch, temp);
	}
	const char *dir = launch->trace_dir_option;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		kt_warn("cannot create trace directory %s: %s", dir, strerror(errno));
		return false;
	}
	const char *why;
	int safe = kt_trace_dir_safe(dir, &why);
	if (safe < 0) {
		kt_warn("trace directory %s %s: use a directory that only you can write", dir,
			why ? why : strerror(-safe));
		return false;
	}
	int has = kt_trace_dir_has_records(dir);
	if (has < 0) {
		kt_warn("cannot read trace directory %s: %s", dir, strerror(errno));
		return false;
	}
	if (has > 0) {
		kt_warn("trace directory %s already holds records (*.rec): use an empty one", dir);
		return false;
	}
	return make_absolute(launch, dir);
}

static void record_reaped(struct kt_launch *launch, pid_t pid, int status)
{
	struct kt_rec_reaped *r = KT_PUSH(launch->reaped, launch->nreaped, launch->reaped_cap);
	r->pid = pid;
	r->status = status;
	r->time = 0;
}

/* What the launcher changes of its own state while the command runs, and
 * what it shares with the forked command before the exec. */
struct run {
	struct kt_launch *launch;
	const char *path, *shim;
	int errpipe[2]; /* the exec's errno, when it fails (close-on-exec) */
	int go[2];      /* a static command waits on it until it is watched */
	const char *untraced; /* why the command itself is not traced, or NULL */
	struct kt_watch watch;
	struct kt_launch_signals signals;
};

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

/* In the forked command: the caller's signals, our environment, exec. */
static _Noreturn void exec_command(struct run *r)
{
	kt_watch_child_reset(&r->watch);
	kt_signals_child_reset(&r->signals);
	close(r->errpipe[0]);
	if (r->go[0] >= 0) {
		char c;
		close(r->go[1]);
		while (read(r->go[0], &c, 1) < 0 && errno == EINTR)
			;
	}
	const char *old_preload = getenv("LD_PRELOAD");
	char *preload = old_preload != NULL && *old_preload != '\0'
				? kt_xasprintf("%s:%s", r->shim, old_preload)
				: kt_xstrdup(r->shim);
	/* KCMPTRACE_LAUNCHER: the shim keeps off the program's stderr. */
	if (setenv("KCMPTRACE_DIR", r->launch->trace_dir, 1) != 0 ||
	    setenv("KCMPTRACE_LAUNCHER", "1", 1) != 0 ||
	    setenv("LD_PRELOAD", preload, 1) != 0 || unsetenv("KCMPTRACE_ROOT") != 0) {
		int e = errno;
		(void)!write(r->errpipe[1], &e, sizeof e);
		_exit(127);
	}
	execv(r->path, r->launch->argv);
	int e = errno;
	(void)!write(r->errpipe[1], &e, sizeof e);
	_exit(e == ENOENT ? 127 : 126);
}

/* A command the library cannot be preloaded into is listed untraced; a
 * static one is watched from its exec on (it waits on go until the
 * launcher is attached). */
static void start_untraced_command(struct run *r, pid_t child)
{
	bool watched = r->go[0] >= 0 && kt_watch_command(&r->watch, child);
	unsigned long long start;
	int argc = 0;
	while (r->launch->argv[argc] != NULL)
		argc++;
	if (!watched && kt_proc_stat(child, &start, NULL, NULL) == 0)
		kt_record_untraced_image(r->launch->trace_dir, child, start, getpid(), r->path, argc,
					 r->launch->argv, r->untraced);
}

/* After a signal that ends the run (launch_signals.h). */
struct ending {
	int sig; /* the first one; 0 until one came */
	int count; /* how many more came by kill(): then SIGKILL */
	bool from_terminal;
	struct sent {
		pid_t pid;
		unsigned long long start;
		struct timespec at;
	} *sent; /* descendants that had it from us */
	size_t nsent, sent_cap;
};

/* While ending, how often the launcher looks for descendants of its
 * session that still run (or were forked meanwhile). */
#define ENDING_POLL_MS 100
/* How long a child waits for its parent to end before it gets the signal
 * too (the parent caught it and lives on). */
#define PARENT_FIRST_MS 200

static long ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static const struct sent *sent_to(const struct ending *e, pid_t pid, unsigned long long start)
{
	for (size_t i = 0; i < e->nsent; i++)
		if (e->sent[i].pid == pid && (start == 0 || e->sent[i].start == start))
			return &e->sent[i];
	return NULL;
}

/* Whether d's turn has come: its parent, when still one of ds, had the
 * signal a while ago (a parent killed in wait() before it reaped its dying
 * child would take that child's end with it; once the parent is gone the
 * child is ours to reap, and the report tells how it ended). */
static bool parent_done(const struct ending *e, const struct kt_descendant *ds, size_t n,
			const struct kt_descendant *d)
{
	for (size_t i = 0; i < n; i++)
		if (ds[i].pid == d->ppid) {
			const struct sent *s = sent_to(e, ds[i].pid, ds[i].start);
			return s != NULL && ms_since(&s->at) >= PARENT_FIRST_MS;
		}
	return true;
}

/* Give the signal to each descendant in our session that has not had it
 * from us, as it would have reached them without the launcher between,
 * parents first: from the terminal it reached our process group already,
 * and a second signal sent by kill() kills them (SIGKILL). A daemon in its own session
 * is left alone. Returns how many descendants of our session still run. */
static size_t deliver(struct ending *e)
{
	struct kt_descendant *ds;
	size_t n = kt_descendants(getpid(), &ds), left = 0;
	pid_t sid = getsid(0), pgid = getpgrp();
	int sig = e->count > 0 ? SIGKILL : e->sig;
	for (size_t i = 0; i < n; i++) {
		if (!kt_descendant_in_session(&ds[i], sid))
			continue;
		left++;
		if (sent_to(e, ds[i].pid, ds[i].start) != NULL ||
		    (sig != SIGKILL && e->from_terminal && ds[i].pgid == pgid) ||
		    (sig != SIGKILL && !parent_done(e, ds, n, &ds[i])))
			continue;
		if (kill(ds[i].pid, sig) == 0) {
			struct sent *s = KT_PUSH(e->sent, e->nsent, e->sent_cap);
			*s = (struct sent){ds[i].pid, ds[i].start, {0, 0}};
			clock_gettime(CLOCK_MONOTONIC, &s->at);
		}
	}
	free(ds);
	return left;
}

/* The signals pending: a request for a report, or one that ends the run
 * (the first: a live snapshot of every traced process before any of them
 * gets it; a second sent by kill(): SIGKILL to those that still run). */
static void take_signals(struct run *r, struct ending *e)
{
	bool from_terminal;
	int sig;
	while ((sig = kt_signals_next(&r->signals, &from_terminal)) != 0) {
		if (sig == SIGUSR1 && r->launch->on_request != NULL) {
			r->launch->on_request(r->launch->request_ctx);
		} else if (kt_signal_ends_run(sig)) {
			if (e->sig == 0) {
				kt_live_snapshot_trace(r->launch->trace_dir);
				e->sig = sig;
				e->from_terminal = from_terminal;
			} else if (!from_terminal && e->count++ == 0) {
				/* An interactive program may take Ctrl-C after
				 * Ctrl-C: only kill() insists. */
				e->nsent = 0; /* all of them get SIGKILL */
			}
		}
	}
}

/* How often the tree is sampled for a stall: a quarter of --stall,
 * between 0.1 and 1 s. */
static int stall_poll_ms(long stall_ms)
{
	long ms = stall_ms / 4;
	return (int)(ms < 100 ? 100 : ms > 1000 ? 1000 : ms);
}

/* The wait's timeout: while ending, the next look; before the notice
 * about processes outliving the command, until it is due; the next stall
 * sample. */
static int next_timeout(const struct run *r, const struct ending *e, bool noticed,
			const struct timespec *ended_at)
{
	if (e->sig)
		return ENDING_POLL_MS;
	int t = r->launch->stall_ms > 0 ? stall_poll_ms(r->launch->stall_ms) : -1;
	if (ended_at == NULL || noticed)
		return t;
	long left = KT_OUTLIVE_GRACE_MS - ms_since(ended_at);
	int notice = left > 0 ? (int)left : 0;
	return t < 0 || notice < t ? notice : t;
}

/* A stall proven a deadlock (reported by on_stall): with
 * --on-deadlock=kill the tree is ended as by SIGTERM to the launcher. */
static void look_for_deadlock(struct run *r, struct ending *e, struct kt_stall *stall,
			      struct timespec *sampled)
{
	struct kt_launch *l = r->launch;
	if (e->sig || l->stall_ms <= 0 || l->on_stall == NULL ||
	    ms_since(sampled) < stall_poll_ms(l->stall_ms))
		return;
	clock_gettime(CLOCK_MONOTONIC, sampled);
	if (!kt_stall_check(stall, getpid(), l->stall_ms) || !l->on_stall(l->request_ctx) ||
	    !l->kill_on_deadlock)
		return;
	kt_live_snapshot_trace(l->trace_dir);
	e->sig = SIGTERM;
	e->from_terminal = false;
	l->deadlock_killed = true;
}

/* As subreaper we inherit every orphaned descendant: waiting until none is
 * left waits for the whole tree (like strace -f). With --wait=command only
 * those already ended when the command ends are reaped; the rest are
 * reported running. A signal that ends the run ends the wait once the
 * command and every descendant of our session have ended (outlive.h).
 * Returns the command's wait status. */
static int wait_for_tree(struct run *r, pid_t child)
{
	int status = 0;
	bool command_ended = false, noticed = false;
	struct timespec ended_at, sampled;
	struct ending e = {0};
	struct kt_stall stall = {0};
	clock_gettime(CLOCK_MONOTONIC, &sampled);
	for (;;) {
		int st;
		bool block = !command_ended || r->launch->wait_tree;
		int timeout = next_timeout(r, &e, noticed, command_ended ? &ended_at : NULL);
		pid_t pid = kt_watch_wait(&r->watch, &st, block, r->signals.fd, timeout);
		if (pid > 0) {
			record_reaped(r->launch, pid, st);
			if (pid == child) {
				status = st;
				command_ended = true;
				clock_gettime(CLOCK_MONOTONIC, &ended_at);
			}
			continue;
		}
		if (pid != KT_WATCH_WOKEN) {
			if (!command_ended)
				kt_warn("waitpid: %s", strerror(errno));
			break;
		}
		take_signals(r, &e);
		look_for_deadlock(r, &e, &stall, &sampled);
		if (e.sig) {
			if (deliver(&e) == 0 && command_ended)
				break;
		} else if (command_ended && !noticed && ms_since(&ended_at) >= KT_OUTLIVE_GRACE_MS) {
			kt_outlive_notice();
			noticed = true;
		}
	}
	free(e.sent);
	kt_stall_free(&stall);
	return status;
}

/* Read only once the tree has ended: a watched command stopped by a signal
 * before its exec ended would otherwise wait for us while we wait for it.
 * Its writer is gone (exec'd or exited), so this does not block. Returns
 * the exec's errno, or 0 when it ran. */
static int exec_error(struct run *r)
{
	int exec_errno = 0;
	ssize_t got;
	do
		got = read(r->errpipe[0], &exec_errno, sizeof exec_errno);
	while (got < 0 && errno == EINTR);
	close(r->errpipe[0]);
	return got == (ssize_t)sizeof exec_errno ? exec_errno : 0;
}

bool kt_run_traced(struct kt_launch *launch, const char *resolved_path, const char *shim)
{
	struct run r = {.launch = launch, .path = resolved_path, .shim = shim, .go = {-1, -1}};
	launch->exit_code = 1;
	/* Orphaned descendants come back to us, so we can reap them and learn
	 * how they ended. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		kt_warn("cannot become a child subreaper: %s", strerror(errno));
	if (pipe2(r.errpipe, O_CLOEXEC) != 0) {
		kt_warn("pipe: %s", strerror(errno));
		return false;
	}
	kt_signals_take(&r.signals);
	kt_trace_reserve(launch->trace_dir, KT_LAUNCHER_RESERVE);
	kt_watch_start(&r.watch, launch->trace_dir, shim, launch->watch);
	int image = open(resolved_path, O_RDONLY | O_CLOEXEC);
	if (image >= 0) {
		r.untraced = kt_image_untraced(image);
		close(image);
	}
	if (r.untraced != NULL && strcmp(r.untraced, KT_UNTRACED_STATIC) == 0 &&
	    r.watch.signal_fd >= 0 && pipe2(r.go, O_CLOEXEC) != 0)
		r.go[0] = r.go[1] = -1;
	fflush(NULL);
	pid_t child = fork();
	if (child == 0)
		exec_command(&r);
	if (child < 0) {
		kt_warn("fork: %s", strerror(errno));
		close_pair(r.errpipe);
		close_pair(r.go);
		kt_watch_stop(&r.watch);
		kt_trace_release(launch->trace_dir, !launch->temporary);
		free(r.watch.ended);
		kt_signals_close(&r.signals);
		return false;
	}
	close(r.errpipe[1]);
	if (r.untraced != NULL)
		start_untraced_command(&r, child);
	close_pair(r.go); /* the command goes on */
	int status = wait_for_tree(&r, child);
	kt_watch_stop(&r.watch);
	kt_trace_release(launch->trace_dir, !launch->temporary);
	for (size_t i = 0; i < r.watch.nended; i++)
		record_reaped(launch, r.watch.ended[i].pid, r.watch.ended[i].status);
	free(r.watch.ended);
	kt_signals_close(&r.signals);
	int err = exec_error(&r);
	if (err != 0) {
		kt_warn("cannot run '%s': %s", launch->argv[0], strerror(err));
		launch->exit_code = err == ENOENT ? 127 : 126;
		return false;
	}
	/* How each ended is the trace's, for every later rendering of it;
	 * first the records of fork children only their parents' tables
	 * name (unrecorded.h), so that those we reaped get their end too. */
	kt_trace_collect_unrecorded(launch->trace_dir);
	kt_outlive_record_untraced(launch->trace_dir);
	kt_trace_append_ends(launch->trace_dir, launch->reaped, launch->nreaped);
	if (WIFEXITED(status))
		launch->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		launch->exit_code = 128 + WTERMSIG(status);
	return true;
}

void kt_launch_free(struct kt_launch *launch)
{
	free(launch->trace_dir);
	free(launch->reaped);
	launch->trace_dir = NULL;
	launch->reaped = NULL;
}
