/* The signals the launcher takes while the command runs, read from a
 * signalfd in its wait loop (no work in signal handlers): SIGCHLD, the
 * ones that end a run (SIGTERM, SIGHUP, SIGINT, SIGQUIT) and SIGUSR1, a
 * request for a report. A signal the launcher's caller ignored stays
 * ignored, for the launcher and for the command. */
#ifndef KT_LAUNCH_SIGNALS_H
#define KT_LAUNCH_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct kt_launch_signals {
	int fd;            /* signalfd of the signals taken; -1 when none */
	sigset_t old_mask; /* the caller's, given to the command */
	struct sigaction old_chld, old_int, old_quit;
};

/* Block them and open the signalfd. Returns false (waiting still works,
 * signals act as before) when the signalfd cannot be made. */
bool kt_signals_take(struct kt_launch_signals *s);

/* In the forked command, before exec: the caller's mask and dispositions. */
void kt_signals_child_reset(const struct kt_launch_signals *s);

/* The next signal taken, 0 when none is pending; *from_terminal: sent by
 * the kernel (a terminal's Ctrl-C or Ctrl-\ reached the whole foreground
 * process group), not by kill(). */
int kt_signals_next(struct kt_launch_signals *s, bool *from_terminal);

/* Whether sig ends a run: SIGTERM, SIGHUP, SIGINT, SIGQUIT. */
bool kt_signal_ends_run(int sig);

/* Close the signalfd. The signals stay blocked: one arriving while the
 * report is written waits, unseen, until the launcher exits. */
void kt_signals_close(struct kt_launch_signals *s);

#endif
