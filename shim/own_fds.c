/* The shim's own short-lived descriptors against the application's other
 * threads (shim.h: kt_own_fds_begin...).
 *
 * The shim opens files for itself (its record, its table, /proc) and uses
 * them for a moment. A thread of the application that dup2()s onto, or
 * closes, that number meanwhile would make the shim truncate or write the
 * application's file. So the calls that replace or close a descriptor by
 * number (close, close_range, closefrom, dup2, dup3, and syscall() for
 * them) and the shim's sections that hold descriptors exclude each other,
 * Dekker-style on two counters: a section waits for the replacing calls in
 * progress to finish; a replacing call that meets a section steps back and
 * waits for it to end. Sections are short (open, use, close) and never
 * wait for the application, so the wait is short and cannot deadlock.
 * The thread's own counts are left out of both checks: a signal handler
 * that interrupts its own thread in one must not wait for itself, and a
 * replacing call nested in the handler of one shares the outer one's turn.
 * A process with one thread has no one to race with: its replacing calls
 * skip all this (two atomic operations less on the hot path) until a
 * second thread may exist (kt_threads_possible). */
#include "shim.h"
#include "sys.h"

#include "procfs.h"

#include <signal.h>
#include <sys/syscall.h>

static _Atomic unsigned own_sections;  /* threads in a section */
static _Atomic unsigned app_replacing; /* threads in a replacing call */
static KT_TLS unsigned my_sections;    /* this thread's section depth */
/* 1 while this thread's unit may be in app_replacing: set before the add,
 * cleared after the subtraction, so a signal handler never believes it
 * holds less than it does (it would wait for itself). */
static KT_TLS unsigned my_unit;
static _Atomic int threads_possible;

void kt_threads_possible(void)
{
	atomic_store(&threads_possible, 1);
}

bool kt_threads_may_exist(void)
{
	return atomic_load_explicit(&threads_possible, memory_order_relaxed) != 0;
}

static void pause_briefly(void)
{
	kt_syscall(SYS_sched_yield);
}

/* With one thread and no signal handler able to run, a descriptor the
 * shim opens and closes within the section takes no number from anyone:
 * it may stay where open put it, saving a move up and a close for each
 * (procfs.h). Blocking signals costs two calls per section, saved by the
 * first descriptor; a caller that blocked them already says so. */
static KT_TLS sigset_t my_saved_mask;
static KT_TLS bool my_masked;

static void section_enter(bool signals_blocked)
{
	if (my_sections++ > 0)
		return;
	atomic_fetch_add(&own_sections, 1);
	while (atomic_load(&app_replacing) > my_unit)
		pause_briefly();
	if (atomic_load_explicit(&threads_possible, memory_order_relaxed))
		return;
	if (!signals_blocked) {
		sigset_t all;
		sigfillset(&all);
		if (kt_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &my_saved_mask, _NSIG / 8) != 0)
			return;
		my_masked = true;
	}
	kt_fds_may_stay_low = 1;
}

void kt_own_fds_begin(void)
{
	section_enter(false);
}

void kt_own_fds_begin_signals_blocked(void)
{
	section_enter(true);
}

void kt_own_fds_end(void)
{
	if (my_sections > 1) {
		my_sections--;
		return;
	}
	kt_fds_may_stay_low = 0;
	/* The count first, the thread's own depth last: a signal handler in
	 * between must never see itself outside while the count still holds
	 * this thread (its close would wait for itself for ever). */
	atomic_fetch_sub(&own_sections, 1);
	if (my_masked) {
		my_masked = false;
		kt_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &my_saved_mask, NULL, _NSIG / 8);
	}
	my_sections = 0;
}

enum kt_gate kt_app_replace_begin(void)
{
	/* Set before any second thread starts (pthread_create's clone orders
	 * it): a single thread reads its own store. */
	if (!atomic_load_explicit(&threads_possible, memory_order_relaxed))
		return KT_GATE_OPEN;
	/* A signal handler interrupting this thread's own replacing call
	 * shares its unit: taking a second one and backing off before a
	 * section would leave the first blocking that section for ever. */
	if (my_unit)
		return KT_GATE_SHARED;
	unsigned mine = my_sections ? 1u : 0u;
	for (;;) {
		my_unit = 1;
		atomic_fetch_add(&app_replacing, 1);
		if (atomic_load(&own_sections) <= mine)
			return KT_GATE_HELD;
		atomic_fetch_sub(&app_replacing, 1);
		my_unit = 0;
		while (atomic_load(&own_sections) > mine)
			pause_briefly();
	}
}

void kt_app_replace_end(enum kt_gate gate)
{
	if (gate != KT_GATE_HELD)
		return;
	atomic_fetch_sub(&app_replacing, 1);
	my_unit = 0;
}

void kt_own_fds_fork_child(void)
{
	/* Only the forking thread lives on: only its counts remain. */
	atomic_store(&own_sections, my_sections ? 1u : 0u);
	atomic_store(&app_replacing, my_unit);
	atomic_store(&threads_possible, 0);
}
