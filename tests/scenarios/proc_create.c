/* Every way to make a process, each child holding the parent's shared_fd
 * until the parent has printed its line (so kcmp sees both alive).
 *
 *   proc_create MODE FILE      MODE: vfork | clone | _Fork | syscall-fork |
 *                                    daemon | raw-dup
 *
 * vfork, clone (without CLONE_VM), _Fork and syscall(SYS_fork) make a child
 * that holds shared_fd and exits 0 after reading one byte from a "go" pipe.
 * daemon: the daemon (grandchild, after daemon(1, 1)) holds shared_fd; it
 * writes its pid into FILE.pid and waits for the go byte read from a FIFO
 * path FILE.go. raw-dup: syscall(SYS_dup, shared_fd) in one process.
 *
 * stdout: shared_fd=N child=PID [dup_fd=N]
 */
#include "scenario.h"

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int go[2];

static int child_body(void *unused)
{
	(void)unused;
	close(go[1]);
	wait_go(go[0]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: proc_create MODE FILE");
	const char *mode = argv[1];
	int shared = xopen(argv[2], O_RDONLY);
	xpipe(go);
	pid_t child = -1;
	if (strcmp(mode, "raw-dup") == 0) {
		long d = syscall(SYS_dup, shared);
		if (d < 0)
			die("syscall(SYS_dup)");
		printf("shared_fd=%d child=0 dup_fd=%ld\n", shared, d);
		return 0;
	}
	fflush(NULL);
	if (strcmp(mode, "vfork") == 0) {
		child = vfork();
		if (child == 0) {
			/* only async-signal-safe calls after vfork, then exec or _exit */
			char b;
			while (read(go[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	} else if (strcmp(mode, "clone") == 0) {
		static char stack[64 * 1024] __attribute__((aligned(16)));
		child = clone(child_body, stack + sizeof stack, SIGCHLD, NULL);
	} else if (strcmp(mode, "_Fork") == 0) {
		child = _Fork();
		if (child == 0)
			_exit(child_body(NULL));
	} else if (strcmp(mode, "syscall-fork") == 0) {
		child = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (child == 0)
			_exit(child_body(NULL));
	} else if (strcmp(mode, "daemon") == 0) {
		char fifo[4096], pidfile[4096];
		snprintf(fifo, sizeof fifo, "%s.go", argv[2]);
		snprintf(pidfile, sizeof pidfile, "%s.pid", argv[2]);
		if (mkfifo(fifo, 0600) != 0)
			die("mkfifo");
		pid_t mid = xfork();
		if (mid == 0) {
			if (daemon(1, 1) != 0)
				die("daemon");
			FILE *f = fopen(pidfile, "w");
			if (!f)
				die("fopen %s", pidfile);
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
			int g = open(fifo, O_RDONLY);
			wait_go(g);
			_exit(0);
		}
		reap(mid, "daemon's parent");
		/* the daemon waits on the FIFO until we have printed */
		int g = xopen(fifo, O_WRONLY);
		FILE *f = NULL;
		while (!(f = fopen(pidfile, "r")))
			usleep(1000);
		int dpid = 0;
		while (fscanf(f, "%d", &dpid) != 1) {
			rewind(f);
			usleep(1000);
		}
		fclose(f);
		printf("shared_fd=%d child=%d\n", shared, dpid);
		fflush(stdout);
		signal_go(g);
		return 0;
	} else {
		die("unknown mode %s", mode);
	}
	if (child < 0)
		die("%s", mode);
	close(go[0]);
	printf("shared_fd=%d child=%d\n", shared, (int)child);
	fflush(stdout);
	signal_go(go[1]);
	reap(child, mode);
	return 0;
}
