/* Process trees that hang, for the live snapshot and deadlock tests.
 *
 *   hang MODE
 *
 *   pipe_wait   the parent writes a line to its child through a pipe, then
 *               waits for it without closing the write end; the child reads
 *               to end of file (deadlock)
 *   self_read   one process reads a pipe whose only write end it holds
 *               itself (deadlock)
 *   full_pipes  parent and child each write 1 MiB into a pipe the other
 *               should read, before reading any (deadlock)
 *   chain3      the parent waits for child A; A reads a pipe whose only
 *               write end child B holds; B reads a pipe whose only write
 *               end the parent holds (deadlock of three)
 *   socketpair_wait  the same as pipe_wait through a socketpair: the
 *               parent keeps its end open while it waits (deadlock)
 *   reader      reads its stdin to end of file, then prints how much
 *   flock_self  takes flock on a file through one descriptor, then again
 *               through a second one (deadlock)
 *
 *   fifo_open   makes the FIFO FILE and opens it for reading: no writer
 *               ever opens it (blocked in openat, no deadlock: anyone may)
 *   splice_self splices from a pipe whose only write end it holds into
 *               another pipe (deadlock)
 *   thread_read a thread reads a pipe whose only write end the process
 *               holds; the main thread waits for it in pthread_join
 *               (deadlock)
 *
 * stdout, once every process is set up (before the last one blocks):
 * mode=MODE pids=PID,PID... (fds of interest as name=N)
 */
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "scenario.h"

static void ready(const char *mode, const char *extra)
{
	printf("mode=%s pid=%d %s\n", mode, (int)getpid(), extra);
	fflush(stdout);
}

static void read_to_eof(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

static int pipe_wait(void)
{
	int p[2];
	xpipe(p);
	pid_t child = xfork();
	if (child == 0) {
		close(p[1]);
		read_to_eof(p[0]);
		exit(0);
	}
	close(p[0]);
	write_all(p[1], "hello\n", 6);
	char extra[64];
	snprintf(extra, sizeof extra, "child=%d write_fd=%d", (int)child, p[1]);
	ready("pipe_wait", extra);
	/* The bug: p[1] is still open here. */
	waitpid(child, NULL, 0);
	return 0;
}

static int socketpair_wait(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair");
	pid_t child = xfork();
	if (child == 0) {
		close(sv[0]);
		read_to_eof(sv[1]);
		exit(0);
	}
	close(sv[1]);
	write_all(sv[0], "hello\n", 6);
	char extra[64];
	snprintf(extra, sizeof extra, "child=%d end=%d", (int)child, sv[0]);
	ready("socketpair_wait", extra);
	waitpid(child, NULL, 0);
	return 0;
}

static int self_read(void)
{
	int p[2];
	xpipe(p);
	char extra[64];
	snprintf(extra, sizeof extra, "read_fd=%d write_fd=%d", p[0], p[1]);
	ready("self_read", extra);
	read_to_eof(p[0]);
	return 0;
}

static void write_mib(int fd)
{
	static char buf[1 << 16];
	for (int i = 0; i < 16; i++)
		write_all(fd, buf, sizeof buf);
}

static int full_pipes(void)
{
	int to_child[2], to_parent[2];
	xpipe(to_child);
	xpipe(to_parent);
	pid_t child = xfork();
	if (child == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		write_mib(to_parent[1]);
		read_to_eof(to_child[0]);
		exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	char extra[64];
	snprintf(extra, sizeof extra, "child=%d", (int)child);
	ready("full_pipes", extra);
	write_mib(to_child[1]);
	read_to_eof(to_parent[0]);
	waitpid(child, NULL, 0);
	return 0;
}

static int chain3(void)
{
	int a[2], b[2];
	xpipe(a);
	xpipe(b);
	pid_t ca = xfork();
	if (ca == 0) {
		close(a[1]);
		close(b[0]);
		close(b[1]);
		read_to_eof(a[0]);
		exit(0);
	}
	pid_t cb = xfork();
	if (cb == 0) {
		close(a[0]);
		close(b[1]);
		read_to_eof(b[0]);
		exit(0);
	}
	close(a[0]);
	close(a[1]);
	close(b[0]);
	char extra[64];
	snprintf(extra, sizeof extra, "a=%d b=%d a_write=%d", (int)ca, (int)cb, a[1]);
	ready("chain3", extra);
	waitpid(ca, NULL, 0);
	return 0;
}

static int reader(void)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	ready("reader", "");
	while ((n = read(0, buf, sizeof buf)) > 0)
		total += n;
	printf("read=%ld\n", total);
	return 0;
}

static int flock_self(const char *path)
{
	int one = xopen(path, O_RDWR | O_CREAT), two = xopen(path, O_RDWR);
	if (flock(one, LOCK_EX) != 0)
		die("flock");
	char extra[64];
	snprintf(extra, sizeof extra, "first=%d second=%d", one, two);
	ready("flock_self", extra);
	flock(two, LOCK_EX);
	return 0;
}

static int fifo_open(const char *path)
{
	if (mkfifo(path, 0600) != 0)
		die("mkfifo %s", path);
	ready("fifo_open", "");
	xopen(path, O_RDONLY);
	return 0;
}

static int splice_self(void)
{
	int in[2], out[2];
	xpipe(in);
	xpipe(out);
	char extra[64];
	snprintf(extra, sizeof extra, "in=%d out=%d", in[0], out[1]);
	ready("splice_self", extra);
	if (splice(in[0], NULL, out[1], NULL, 4096, 0) < 0)
		die("splice");
	return 0;
}

static void *read_thread(void *arg)
{
	read_to_eof(*(int *)arg);
	return NULL;
}

static int thread_read(void)
{
	static int p[2];
	xpipe(p);
	pthread_t t;
	if (pthread_create(&t, NULL, read_thread, &p[0]) != 0)
		die("pthread_create");
	char extra[64];
	snprintf(extra, sizeof extra, "read=%d write=%d", p[0], p[1]);
	ready("thread_read", extra);
	pthread_join(t, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "pipe_wait") == 0)
		return pipe_wait();
	if (strcmp(mode, "socketpair_wait") == 0)
		return socketpair_wait();
	if (strcmp(mode, "self_read") == 0)
		return self_read();
	if (strcmp(mode, "full_pipes") == 0)
		return full_pipes();
	if (strcmp(mode, "chain3") == 0)
		return chain3();
	if (strcmp(mode, "reader") == 0)
		return reader();
	if (strcmp(mode, "flock_self") == 0 && argc > 2)
		return flock_self(argv[2]);
	if (strcmp(mode, "fifo_open") == 0 && argc > 2)
		return fifo_open(argv[2]);
	if (strcmp(mode, "splice_self") == 0)
		return splice_self();
	if (strcmp(mode, "thread_read") == 0)
		return thread_read();
	die("usage: hang pipe_wait|socketpair_wait|self_read|full_pipes|chain3|reader|thread_read|\n"
	    "splice_self|flock_self FILE|fifo_open FILE");
}
