/* Thousands of descriptors in a few processes alive together.
 *
 *   many_fds [N [K [ORDER]]]     N descriptors (default 3000), K children
 *                                (default 3), ORDER forward|reverse (default
 *                                forward): the order the children exit in
 *
 * The parent first closes whatever descriptors above 2 it inherited (with
 * close(), as daemons do), so that the numbers it then gets are predictable;
 * it raises its soft RLIMIT_NOFILE to the hard limit if N needs it, then
 * opens N descriptors numbered first_fd..last_fd without gaps: for i in
 * 0..N-1, descriptor first_fd+i is
 *   i % 3 == 0: open() of this program (a new description)
 *   i % 3 == 1: dup() of the one before (the same description)
 *   i % 3 == 2: open() of /dev/null (a new description)
 * It forks K children; each dup()s child_dups of the inherited descriptors
 * (first_fd, first_fd+7, first_fd+14, ...) and open()s child_opens of its own.
 * Once all are ready, the parent releases and reaps them one at a time in
 * ORDER (the others stay alive), then exits.
 *
 * stdout: first_fd=N last_fd=N fds=N children=K child_dups=N child_opens=N order=ORDER
 */
#include "scenario.h"

#include <dirent.h>
#include <sys/resource.h>

/* Close every inherited descriptor above 2. */
static void close_strays(void)
{
	int fds[1024], n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		die("opendir /proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 1024) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd > 2 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

#define CHILD_DUPS 10
#define CHILD_OPENS 10

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 3000;
	int k = argc > 2 ? atoi(argv[2]) : 3;
	const char *order = argc > 3 ? argv[3] : "forward";
	int reverse = strcmp(order, "reverse") == 0;
	if (n < 1 || k < 1 || k > 64 || (!reverse && strcmp(order, "forward") != 0)) {
		fprintf(stderr, "usage: many_fds [N>=1 [1<=K<=64 [forward|reverse]]]\n");
		return 2;
	}

	close_strays();

	struct rlimit rl;
	rlim_t need = (rlim_t)n + 3 * (rlim_t)k + 64 + CHILD_DUPS + CHILD_OPENS;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit");
	if (rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			errno = 0;
			die("RLIMIT_NOFILE hard limit %llu is below the %llu needed",
			    (unsigned long long)rl.rlim_max, (unsigned long long)need);
		}
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("setrlimit");
	}

	int first = -1, last = -1;
	for (long i = 0; i < n; i++) {
		int fd;
		switch (i % 3) {
		case 0:
			fd = xopen("/proc/self/exe", O_RDONLY);
			break;
		case 1:
			fd = dup(last);
			if (fd < 0)
				die("dup");
			break;
		default:
			fd = xopen("/dev/null", O_RDWR);
			break;
		}
		if (first < 0)
			first = fd;
		else if (fd != last + 1) {
			errno = 0;
			die("descriptor numbers not contiguous: got %d after %d", fd, last);
		}
		last = fd;
	}

	int ready[2];
	int go[64][2];
	pid_t kids[64];
	xpipe(ready);
	for (int c = 0; c < k; c++)
		xpipe(go[c]);

	for (int c = 0; c < k; c++) {
		kids[c] = xfork();
		if (kids[c] == 0) {
			close(ready[0]);
			for (int j = 0; j < CHILD_DUPS; j++) {
				int src = first + (int)((7L * j) % n);
				if (dup(src) < 0)
					die("dup in child");
			}
			for (int j = 0; j < CHILD_OPENS; j++)
				xopen("/proc/self/exe", O_RDONLY);
			signal_go(ready[1]);
			wait_go(go[c][0]);
			exit(0);
		}
	}
	close(ready[1]);
	for (int c = 0; c < k; c++) {
		errno = 0;
		wait_go(ready[0]);
	}

	printf("first_fd=%d last_fd=%d fds=%ld children=%d child_dups=%d child_opens=%d order=%s\n",
	       first, last, n, k, CHILD_DUPS, CHILD_OPENS, order);
	fflush(stdout);

	for (int i = 0; i < k; i++) {
		int c = reverse ? k - 1 - i : i;
		signal_go(go[c][1]);
		reap(kids[c], "child");
	}
	return 0;
}
