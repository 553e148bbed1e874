/* Threads against the shim: descriptors made and closed concurrently in
 * many threads, forks from a non-main thread while the others are inside
 * hooks, and close() from a signal handler. It must neither hang nor lose a
 * descriptor, and its output must be the same traced and untraced.
 *
 *   threads_stress [THREADS [ITERATIONS [FORKS]]]
 *
 * Each worker loops open/dup/pipe/socketpair/close. One thread forks FORKS
 * children (each exits at once, checked by waitpid). A timer signal's
 * handler closes a descriptor that the main thread keeps reopening, or else
 * a copy it makes: a timer of each worker's own interrupts it, often inside
 * its own close(), while the forker's fork holds the shim's section (the
 * nested close once deadlocked there). At the
 * end every worker keeps exactly one descriptor open (kept_fd lines), so the
 * report can be checked.
 *
 * stdout: threads=N forks=N signals_handled=>0 kept=N
 */
#include "scenario.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#ifndef sigev_notify_thread_id /* glibc before 2.35 does not name it */
#define sigev_notify_thread_id _sigev_un._tid
#endif

static int iterations = 2000, forks = 50;
static atomic_int signal_fd = -1, signals_handled, errors;
static int kept[64];

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	int fd = atomic_exchange(&signal_fd, -1);
	if (fd >= 0) {
		close(fd);
		atomic_fetch_add(&signals_handled, 1);
	} else if ((fd = fcntl(2, F_DUPFD_CLOEXEC, 0)) >= 0) {
		close(fd);
	}
	errno = saved;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	/* A timer aimed at this thread: its handler runs inside this loop's
	 * close() calls, not only in the main thread. */
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
	ev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	timer_t timer;
	int timing = timer_create(CLOCK_MONOTONIC, &ev, &timer) == 0;
	struct itimerspec every = {{0, 300000}, {0, 300000}};
	if (timing)
		timer_settime(timer, 0, &every, NULL);
	for (int i = 0; i < iterations; i++) {
		int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int b = a >= 0 ? dup(a) : -1;
		int p[2], sp[2];
		if (a < 0 || b < 0 || pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) {
			atomic_fetch_add(&errors, 1);
			break;
		}
		close(a);
		close(b);
		close(p[0]);
		close(p[1]);
		close(sp[0]);
		close(sp[1]);
	}
	if (timing)
		timer_delete(timer);
	kept[id] = open("/dev/null", O_RDONLY);
	return NULL;
}

static void *forker(void *unused)
{
	(void)unused;
	for (int i = 0; i < forks; i++) {
		pid_t c = fork();
		if (c < 0) {
			atomic_fetch_add(&errors, 1);
			break;
		}
		if (c == 0)
			_exit(7);
		int st;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
			atomic_fetch_add(&errors, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 8;
	if (argc > 2)
		iterations = atoi(argv[2]);
	if (argc > 3)
		forks = atoi(argv[3]);
	if (nthreads < 1 || nthreads > 64)
		die("1..64 threads");
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 500}, {0, 500}};
	setitimer(ITIMER_REAL, &it, NULL);

	pthread_t t[65];
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0)
			die("pthread_create");
	if (pthread_create(&t[nthreads], NULL, forker, NULL) != 0)
		die("pthread_create");
	/* Reopen the descriptor the signal handler closes until all are done. */
	int joined[65] = {0};
	for (int done = 0; !done;) {
		if (atomic_load(&signal_fd) < 0) {
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd >= 0 && atomic_exchange(&signal_fd, fd) >= 0)
				close(fd); /* cannot happen: only we set it */
		}
		done = 1;
		for (int i = 0; i <= nthreads; i++) {
			if (!joined[i] && pthread_tryjoin_np(t[i], NULL) == 0)
				joined[i] = 1;
			done = done && joined[i];
		}
		usleep(200);
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	int fd = atomic_exchange(&signal_fd, -1);
	if (fd >= 0)
		close(fd);
	int kept_ok = 0;
	for (int i = 0; i < nthreads; i++)
		kept_ok += fcntl(kept[i], F_GETFD) >= 0;
	printf("threads=%d forks=%d signals_handled=%s kept=%d errors=%d\n", nthreads, forks,
	       atomic_load(&signals_handled) > 0 ? ">0" : "0", kept_ok, atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}
