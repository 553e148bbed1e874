/* kt_blocked_read on real children, each blocked in one call: the call,
 * its descriptor or pid, and the descriptor sets of poll, select and
 * epoll_wait read from the child's memory or fdinfo. */
#include "blocked.h"
#include "blocked_record.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
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

/* Whether a and b say the same, field by field (others included). */
static bool same_blocked(const struct kt_blocked *a, const struct kt_blocked *b)
{
	bool same = a->kind == b->kind && (a->call == NULL) == (b->call == NULL) &&
		    (a->call == NULL || strcmp(a->call, b->call) == 0) && a->nr == b->nr &&
		    a->fd == b->fd && a->in == b->in && a->out == b->out && a->pid == b->pid &&
		    a->timeout == b->timeout && a->fds_known == b->fds_known && a->nfds == b->nfds &&
		    (a->path == NULL) == (b->path == NULL) &&
		    (a->path == NULL || strcmp(a->path, b->path) == 0) && a->threads == b->threads &&
		    a->tid == b->tid && a->futex_own == b->futex_own &&
		    a->all_threads == b->all_threads && a->state == b->state && a->cpu == b->cpu &&
		    strcmp(a->wchan, b->wchan) == 0 && a->error == b->error &&
		    a->nothers == b->nothers;
	for (size_t i = 0; same && i < a->nfds; i++)
		same = a->fds[i].fd == b->fds[i].fd && a->fds[i].in == b->fds[i].in &&
		       a->fds[i].out == b->fds[i].out;
	for (size_t i = 0; same && i < a->nothers; i++)
		same = same_blocked(&a->others[i], &b->others[i]);
	return same;
}

/* b written as "blocked" lines and read back: the same. */
static void round_trip(const struct kt_blocked *b)
{
	size_t cap = kt_blocked_record_size(b);
	struct kt_buf buf = {malloc(cap + 1), 0, cap, 0};
	kt_blocked_put(&buf, b);
	CHECK(!buf.overflow);
	buf.data[buf.len] = '\0';
	struct kt_blocked *back = NULL;
	char *save = NULL;
	for (char *line = strtok_r(buf.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[64];
		struct kt_rec_line l;
		struct kt_rec_error e;
		struct kt_rec_blocked r;
		struct kt_rec_blocked_fd fds[64];
		const char *why = NULL;
		CHECK(kt_record_count_fields(line) <= 64);
		CHECK(kt_rec_line_split(line, f, 64, &l, &e) && l.kind == KT_REC_BLOCKED);
		CHECK(kt_rec_parse_blocked(&l, &r, fds, &e));
		CHECK(kt_blocked_take(&back, &r, &why));
	}
	/* (the calls' names point into buf, still here) */
	CHECK(back != NULL && same_blocked(b, back));
	if (back != NULL)
		kt_blocked_free(back);
	free(back);
	free(buf.data);
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
	round_trip(&b);
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
	round_trip(&b);
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
	/* what no look above gives: a FIFO's path to escape, an error, an
	 * unreadable set, another thread */
	struct kt_blocked other = {.kind = KT_BLOCK_OTHER, .call = "futex", .nr = 202, .fd = -1,
				   .tid = 7, .futex_own = true, .state = 'S'};
	b = (struct kt_blocked){.kind = KT_BLOCK_FIFO_OPEN, .call = "openat", .nr = 257, .fd = -1,
				.path = strdup("/tmp/a\tfifo:-"), .threads = 2, .all_threads = true,
				.state = 'S', .cpu = 12, .error = EACCES, .others = &other, .nothers = 1};
	snprintf(b.wchan, sizeof b.wchan, "fifo_open");
	round_trip(&b);
	free(b.path);
	b = (struct kt_blocked){.kind = KT_BLOCK_FDS, .call = "poll", .nr = 7, .fd = -1,
				.timeout = true, .state = '?'};
	round_trip(&b);
	fprintf(stderr, "%d checks, %d failures\n", checks, failures);
	return failures != 0;
}
