/* The launcher watches the images the shim cannot follow (static binaries)
 * until their exit, so that their last descriptors are seen and compared
 * with kcmp even when no traced process outlives them. */
#ifndef KT_WATCH_H
#define KT_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct kt_watch {
	const char *dir;
	const char *shim; /* the library's path, as LD_PRELOAD names it */
	char *sock_path;
	int listen_fd, signal_fd; /* -1 when not watching */
	sigset_t old_mask;
	struct kt_watched *pids; /* attached, not yet ended */
	size_t npids, pids_cap;
	/* Ends that kt_watch_stop waited for: the caller records them. */
	struct kt_watch_end {
		pid_t pid;
		int status;
	} *ended;
	size_t nended, ended_cap;
};

struct kt_watched {
	pid_t pid;
	bool ours; /* records written by the launcher (no table of its own) */
};

/* Listen on DIR/watch.sock and take SIGCHLD through a signalfd. Returns
 * false (nothing to undo; waiting still works) when asked not to (wanted
 * false), when we lack CAP_SYS_PTRACE, or when it cannot be done. */
bool kt_watch_start(struct kt_watch *w, const char *dir, const char *shim, bool wanted);

/* Watch the command itself (a static binary), forked and not yet exec'd:
 * it waits until this returns. Returns false if it cannot be watched. */
bool kt_watch_command(struct kt_watch *w, pid_t child);

/* Append to DIR/PID-START.rec (made with its first line when new) an image
 * line for EXE ARGV and an untraced line with reason WHY: how the launcher
 * lists a process the shim is not in. Returns false with a message. */
bool kt_record_untraced_image(const char *dir, pid_t pid, unsigned long long start,
			      pid_t ppid, const char *exe, int argc, char *const *argv, const char *why);

/* The same for what PID runs now, read from /proc. */
void kt_record_untraced_now(const char *dir, pid_t pid, unsigned long long start, const char *why);

/* In the forked command, before exec: the signal mask it would have had. */
void kt_watch_child_reset(const struct kt_watch *w);

/* Like waitpid(-1, status, block ? 0 : WNOHANG) for children and watched
 * processes, serving watch requests and the watched processes' stops
 * meanwhile. Returns the pid that ended, 0 (not blocking, none ended), -1
 * with errno (ECHILD: nothing left to wait for), or KT_WATCH_WOKEN when
 * blocking and wake_fd (-1: none) became readable or timeout_ms (-1: no
 * limit) passed. wake_fd is left unread. */
#define KT_WATCH_WOKEN (-2)
pid_t kt_watch_wait(struct kt_watch *w, int *status, bool block, int wake_fd, int timeout_ms);

/* Stop listening, restore the signal mask, let go of any watched process
 * (after --wait=command); ends seen meanwhile go to w->ended. */
void kt_watch_stop(struct kt_watch *w);

/* The process asking on connection conn (watch_peer.c), in *cred: a pidfd
 * of it when it runs as our user and descends from this launcher, else -1.
 * kt_watch_peer_alive(pidfd): it has not exited, so its pid is still its
 * own (check after attaching by pid). */
struct ucred;
int kt_watch_peer(int conn, struct ucred *cred);
bool kt_watch_peer_alive(int pidfd);

#endif
