/* The launcher's signals (launch_signals.h). */
#include "launch_signals.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int run_enders[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};

bool kt_signal_ends_run(int sig)
{
	for (size_t i = 0; i < sizeof run_enders / sizeof run_enders[0]; i++)
		if (run_enders[i] == sig)
			return true;
	return false;
}

/* Whether the caller left sig ignored (an exec keeps SIG_IGN, a
 * background job of a non-interactive shell gets SIGINT and SIGQUIT so). */
static bool ignored(int sig, struct sigaction *old)
{
	struct sigaction tmp;
	if (old == NULL)
		old = &tmp;
	return sigaction(sig, NULL, old) == 0 && old->sa_handler == SIG_IGN;
}

bool kt_signals_take(struct kt_launch_signals *s)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	/* SIGCHLD ignored (inherited from our caller) would reap children out
	 * of our sight: take the default for us, give the command what we
	 * were given. */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &s->old_chld);
	sigaction(SIGINT, NULL, &s->old_int);
	sigaction(SIGQUIT, NULL, &s->old_quit);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof run_enders / sizeof run_enders[0]; i++)
		if (!ignored(run_enders[i], NULL))
			sigaddset(&set, run_enders[i]);
	if (!ignored(SIGUSR1, NULL))
		sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, &s->old_mask) != 0)
		return false;
	s->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->fd < 0) {
		/* As time(1) does: Ctrl-C and Ctrl-\ are the command's alone. */
		struct sigaction ign = {.sa_handler = SIG_IGN};
		sigemptyset(&ign.sa_mask);
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
		sigaction(SIGINT, &ign, NULL);
		sigaction(SIGQUIT, &ign, NULL);
		return false;
	}
	return true;
}

void kt_signals_child_reset(const struct kt_launch_signals *s)
{
	sigaction(SIGCHLD, &s->old_chld, NULL);
	sigaction(SIGINT, &s->old_int, NULL);
	sigaction(SIGQUIT, &s->old_quit, NULL);
	if (s->fd >= 0)
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}

int kt_signals_next(struct kt_launch_signals *s, bool *from_terminal)
{
	struct signalfd_siginfo si;
	*from_terminal = false;
	if (s->fd < 0)
		return 0;
	ssize_t n;
	do
		n = read(s->fd, &si, sizeof si);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof si)
		return 0;
	*from_terminal = si.ssi_code == SI_KERNEL;
	return (int)si.ssi_signo;
}

void kt_signals_close(struct kt_launch_signals *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
