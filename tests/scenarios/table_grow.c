/* Threads that make the shim's table grow while others use it: each of
 * THREADS threads dup2()s a file of its own onto higher and higher numbers
 * (every doubling the table may have to make, up to TOP), closing the one
 * before, while as many other threads open and close low numbers. Then a
 * fork child holds what each kept, and reports it.
 *
 *   table_grow [THREADS [TOP]]   (4 threads; TOP: 65535, or below the limit)
 *
 * stdout: threads=N top=N kept=FD,... (each thread's last number), then
 * child_sees=N (how many of them the child has open).
 */
#include "scenario.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#define MAX_THREADS 16

static int nthreads = 4, top = 65535;
static int kept[MAX_THREADS];
static atomic_int growers_left, errors;

static void *grower(void *arg)
{
	int id = (int)(intptr_t)arg, last = -1;
	int src = xopen("/dev/null", O_RDONLY);
	/* Numbers spread over every power of two, one thread's apart. */
	for (long n = 64; n + id <= top; n = n * 3 / 2) {
		int target = (int)n + id;
		if (dup2(src, target) != target) {
			atomic_fetch_add(&errors, 1);
			break;
		}
		if (last >= 0)
			close(last);
		last = target;
	}
	kept[id] = last;
	atomic_fetch_sub(&growers_left, 1);
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	while (atomic_load(&growers_left) > 0) {
		int a = open("/dev/null", O_RDONLY);
		int b = a >= 0 ? dup(a) : -1;
		if (a < 0 || b < 0) {
			atomic_fetch_add(&errors, 1);
			break;
		}
		close(a);
		close(b);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]) < MAX_THREADS ? atoi(argv[1]) : MAX_THREADS;
	if (argc > 2)
		top = atoi(argv[2]);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)top >= rl.rlim_cur)
		top = (int)rl.rlim_cur - 1 - MAX_THREADS;
	pthread_t g[MAX_THREADS], c[MAX_THREADS];
	atomic_store(&growers_left, nthreads);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&g[i], NULL, grower, (void *)(intptr_t)i) != 0 ||
		    pthread_create(&c[i], NULL, churner, NULL) != 0)
			die("pthread_create");
	for (int i = 0; i < nthreads; i++) {
		pthread_join(g[i], NULL);
		pthread_join(c[i], NULL);
	}
	if (atomic_load(&errors))
		die("%d calls failed", atomic_load(&errors));
	printf("threads=%d top=%d kept=", nthreads, top);
	for (int i = 0; i < nthreads; i++)
		printf("%s%d", i ? "," : "", kept[i]);
	printf("\n");
	fflush(stdout);
	pid_t child = xfork();
	if (child == 0) {
		int sees = 0;
		for (int i = 0; i < nthreads; i++)
			sees += fcntl(kept[i], F_GETFD) >= 0;
		printf("child_sees=%d\n", sees);
		fflush(stdout);
		_exit(0);
	}
	reap(child, "child");
	return 0;
}
