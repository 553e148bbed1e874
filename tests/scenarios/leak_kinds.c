/* One leak of each kind valgrind --track-fds checks (the facts its
 * fdleak_* tests check, on a program of our own): every descriptor made
 * here is still open when the program ends.
 *
 *   leak_kinds open FILE        open(FILE)
 *   leak_kinds creat DIR        creat(DIR/leak_kinds.creat)
 *   leak_kinds dup FILE         open(FILE) and a dup() of it
 *   leak_kinds dup2 FILE        open(FILE) and a dup2() of it onto fd 20
 *   leak_kinds fcntl FILE       open(FILE), F_DUPFD to 30, F_DUPFD_CLOEXEC to 40
 *   leak_kinds pipe             pipe()
 *   leak_kinds socketpair       socketpair(AF_UNIX, SOCK_STREAM)
 *   leak_kinds ipv4             a TCP listener on 127.0.0.1 and the end it
 *                               accepted; a child connects to it and ends
 *                               first, keeping its connected socket and
 *                               the listener it inherited
 *   leak_kinds exec FILE        open(FILE) twice, the second O_CLOEXEC; a
 *                               child execs this program (by its path, not
 *                               /proc/self/exe) as "exec-child KEPT", which
 *                               ends holding KEPT; the parent waits for it
 *
 * stdout: fds=N,N,... (in the order made); for ipv4 first the child's
 *         child_fds=LISTENER,CONNECTED, then fds=LISTENER,ACCEPTED port=P;
 *         for exec the new image's kept=N kept_open=1, then fds=KEPT,CLOEXEC
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static int ipv4(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0)
		die("listen on 127.0.0.1");
	pid_t child = xfork();
	if (child == 0) {
		/* the child keeps the listener it inherited too, as valgrind's
		 * test's client does */
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0)
			die("connect");
		printf("child_fds=%d,%d\n", l, c);
		exit(0);
	}
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	reap(child, "client");
	printf("fds=%d,%d port=%d\n", l, s, ntohs(a.sin_port));
	return 0;
}

/* The child keeps the first descriptor across exec; the second is
 * close-on-exec. */
static int exec_child(const char *file)
{
	int kept = xopen(file, O_RDONLY);
	int cloexec = xopen(file, O_RDONLY | O_CLOEXEC);
	char self[4096], num[16];
	scenario_path(self, sizeof self, NULL);
	snprintf(num, sizeof num, "%d", kept);
	pid_t child = xfork();
	if (child == 0) {
		execl(self, "leak_kinds", "exec-child", num, (char *)NULL);
		die("exec %s", self);
	}
	reap(child, "exec'd child");
	printf("fds=%d,%d\n", kept, cloexec);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec-child") == 0) {
		int kept = atoi(argv[2]);
		printf("kept=%d kept_open=%d\n", kept, fcntl(kept, F_GETFD) >= 0);
		return 0;
	}
	const char *mode = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : NULL;
	int needs_arg = strcmp(mode, "pipe") != 0 && strcmp(mode, "socketpair") != 0 &&
			strcmp(mode, "ipv4") != 0;
	if (needs_arg && !arg)
		die("usage: leak_kinds open|creat|dup|dup2|fcntl FILE, or pipe|socketpair|ipv4, or exec FILE");
	int a = -1, b = -1, c = -1;
	if (strcmp(mode, "open") == 0) {
		a = xopen(arg, O_RDONLY);
	} else if (strcmp(mode, "creat") == 0) {
		char path[4096];
		snprintf(path, sizeof path, "%s/leak_kinds.creat", arg);
		a = creat(path, 0600);
		if (a < 0)
			die("creat %s", path);
		unlink(path);
	} else if (strcmp(mode, "dup") == 0) {
		a = xopen(arg, O_RDONLY);
		b = dup(a);
	} else if (strcmp(mode, "dup2") == 0) {
		a = xopen(arg, O_RDONLY);
		b = dup2(a, 20);
	} else if (strcmp(mode, "fcntl") == 0) {
		a = xopen(arg, O_RDONLY);
		b = fcntl(a, F_DUPFD, 30);
		c = fcntl(a, F_DUPFD_CLOEXEC, 40);
	} else if (strcmp(mode, "pipe") == 0) {
		int p[2];
		xpipe(p);
		a = p[0], b = p[1];
	} else if (strcmp(mode, "socketpair") == 0) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
			die("socketpair");
		a = sv[0], b = sv[1];
	} else if (strcmp(mode, "ipv4") == 0) {
		return ipv4();
	} else if (strcmp(mode, "exec") == 0) {
		return exec_child(arg);
	} else {
		die("unknown mode %s", mode);
	}
	if (a < 0 || (strcmp(mode, "open") && strcmp(mode, "creat") && b < 0) ||
	    (strcmp(mode, "fcntl") == 0 && c < 0))
		die("%s", mode);
	printf("fds=%d", a);
	if (b >= 0)
		printf(",%d", b);
	if (c >= 0)
		printf(",%d", c);
	printf("\n");
	return 0;
}
