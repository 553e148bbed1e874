/* Benchmark: the exit grouping of many descriptors held by many processes.
 *
 *   bench_group DIR [FILES [PROCS [files|devnull [hold]]]]
 *                         defaults: 500 files, 20 processes, "files"
 *
 * The parent opens FILES descriptors: with "files", FILES distinct files
 * DIR/f0..f{FILES-1} (created if missing, each its own inode); with
 * "devnull", FILES separate open()s of /dev/null (distinct open file
 * descriptions of one inode: the worst case for a tracer that buckets by
 * inode before calling kcmp). It forks PROCS-1 children that inherit them
 * all, so PROCS processes hold FILES*PROCS descriptors together. Each child
 * says it is ready and blocks on a "go" pipe; the parent then closes that
 * pipe (the release), every child exits at once, the parent reaps them all
 * and exits. The tracer's snapshots of these exits are what is measured.
 *
 * The parent's own exit snapshot comes after main returns, so the time it
 * prints, from the release to the last child reaped, is only part of the
 * cost: scripts/bench also times the whole run from outside.
 *
 * With "hold", the tree stays as it is once every child is ready, for a
 * live snapshot to be measured (scripts/bench-snapshot): the parent prints
 * "holding pids=PID,PID,..." (itself first) and releases the children
 * only when its standard input reaches end of file.
 *
 * stdout: group files=N procs=K mode=M setup_ns=T release_to_reaped_ns=T
 */
#include "bench.h"

#include <limits.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_group DIR [FILES [PROCS [files|devnull]]]\n");
		return 2;
	}
	const char *dir = argv[1];
	long files = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
	long procs = argc > 3 ? strtol(argv[3], NULL, 10) : 20;
	const char *mode = argc > 4 ? argv[4] : "files";
	int devnull = strcmp(mode, "devnull") == 0;
	int hold = argc > 5 && strcmp(argv[5], "hold") == 0;
	if (files < 1 || files > 100000 || procs < 1 || procs > 1000 ||
	    (!devnull && strcmp(mode, "files") != 0) || (argc > 5 && !hold)) {
		fprintf(stderr, "usage: bench_group DIR [FILES>=1 [PROCS>=1 [files|devnull [hold]]]]\n");
		return 2;
	}

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)files + 64) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)files + 64)
			die("RLIMIT_NOFILE too low for %ld descriptors", files);
	}

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < files; i++) {
		char path[PATH_MAX];
		if (devnull) {
			xopen("/dev/null", O_RDONLY);
		} else {
			if (snprintf(path, sizeof path, "%s/f%ld", dir, i) >= (int)sizeof path)
				die("path too long");
			xopen(path, O_RDWR | O_CREAT);
		}
	}

	int ready[2], go[2];
	xpipe(ready);
	xpipe(go);
	pid_t *pids = calloc((size_t)procs, sizeof *pids);
	if (pids == NULL)
		die("calloc");
	pids[0] = getpid();
	for (long c = 1; c < procs; c++) {
		pid_t pid = pids[c] = xfork();
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			signal_go(ready[1]);
			close(ready[1]);
			wait_eof(go[0]);
			exit(0);
		}
	}
	close(ready[1]);
	for (long c = 1; c < procs; c++)
		wait_go(ready[0]);
	close(ready[0]);
	if (hold) {
		printf("holding pids=");
		for (long c = 0; c < procs; c++)
			printf("%s%d", c ? "," : "", (int)pids[c]);
		printf("\n");
		fflush(stdout);
		wait_eof(0);
	}
	free(pids);
	uint64_t t1 = bench_now_ns();

	close(go[1]); /* the release */
	close(go[0]);
	for (long c = 1; c < procs; c++)
		reap(-1, "child");
	uint64_t t2 = bench_now_ns();

	printf("group files=%ld procs=%ld mode=%s setup_ns=%llu release_to_reaped_ns=%llu\n",
	       files, procs, devnull ? "devnull" : "files", (unsigned long long)(t1 - t0),
	       (unsigned long long)(t2 - t1));
	return 0;
}
