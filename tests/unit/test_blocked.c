/* kt_blocked_read on real children, each blocked in one call: the call,
 * its descriptor or pid, and the descriptor sets of poll, select and
 * epoll_wait read from the child's memory or fdinfo. */
#include "blocked.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

enum what { READ, WRITE_FULL, POLL, SELECT, EPOLL, WAIT, SLEEP, SPIN };

/* The child: blocks in one call on pipe p (read end p[0], write end p[1]). */
static void child(enum what what, int p[2])
{
	char buf[1 << 16] = {0};
	setpgid(0, 0); /* so that its own child is killed with it */
	switch (what) {
	case READ:
		read(p[0], buf, 1);
		break;
	case WRITE_FULL:
		for (;;)
			write(p[1], buf, sizeof buf);
	case POLL: {
		struct pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLIN, 0}};
		poll(fds, 2, -1);
		break;
	}
	case SELECT: {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		select(p[0] + 1, &r, NULL, NULL, NULL);
		break;
	}
	case EPOLL: {
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
		epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
		epoll_wait(ep, &ev, 1, -1);
		break;
	}
	case WAIT:
		if (fork() == 0) {
			pause();
			_exit(0);
		}
		wait(NULL);
		break;
	case SLEEP:
		sleep(60);
		break;
	case SPIN:
		for (volatile int i = 0;; i++)
			;
	}
	_exit(0);
}

/* Start a child blocked in what, wait until it sleeps, read it. */
static void look(enum what what, struct kt_blocked *b, int p[2])
{
	pipe(p);
	pid_t pid = fork();
	if (pid == 0)
		child(what, p);
	for (int i = 0; i < 200; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		CHECK(kt_blocked_read(pid, b) == 0);
		if (b->kind != KT_BLOCK_RUNNING && b->kind != KT_BLOCK_OTHER && what != SPIN)
			break;
		if (what == SPIN && b->kind == KT_BLOCK_RUNNING)
			break;
		kt_blocked_free(b);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	struct kt_blocked b;
	int p[2];
	look(READ, &b, p);
	CHECK(b.kind == KT_BLOCK_FD && b.in && b.fd == p[0] && strcmp(b.call, "read") == 0);
	kt_blocked_free(&b);
	look(WRITE_FULL, &b, p);
	CHECK(b.kind == KT_BLOCK_FD && b.out && b.fd == p[1] && strcmp(b.call, "write") == 0);
	kt_blocked_free(&b);
	look(POLL, &b, p);
	CHECK(b.kind == KT_BLOCK_FDS && b.fds_known && b.nfds == 2 && !b.timeout);
	CHECK(b.nfds == 2 && b.fds[0].fd == p[0] && b.fds[0].in && b.fds[1].fd == p[1]);
	kt_blocked_free(&b);
	look(SELECT, &b, p);
	CHECK(b.kind == KT_BLOCK_FDS && b.fds_known && b.nfds == 1 && b.fds[0].fd == p[0] &&
	      b.fds[0].in && !b.fds[0].out);
	kt_blocked_free(&b);
	look(EPOLL, &b, p);
	CHECK(b.kind == KT_BLOCK_FDS && b.fds_known && b.nfds == 1 && b.fds[0].fd == p[0]);
	kt_blocked_free(&b);
	look(WAIT, &b, p);
	CHECK(b.kind == KT_BLOCK_WAIT && b.pid == -1 && strcmp(b.call, "wait4") == 0);
	kt_blocked_free(&b);
	look(SLEEP, &b, p);
	CHECK(b.kind == KT_BLOCK_SLEEP && b.timeout);
	kt_blocked_free(&b);
	look(SPIN, &b, p);
	CHECK(b.kind == KT_BLOCK_RUNNING);
	kt_blocked_free(&b);
	CHECK(kt_blocked_read(0x7fffffff, &b) == ESRCH);
	char words[128];
	b = (struct kt_blocked){.kind = KT_BLOCK_WAIT, .call = "wait4", .pid = 42};
	kt_blocked_describe(&b, words, sizeof words);
	CHECK(strcmp(words, "wait4 for 42") == 0);
	fprintf(stderr, "%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
