/* The wait-for graph (see waitfor.h). */
#include "waitfor.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "blocked.h"
#include "findings_impl.h"
#include "procfs.h"
#include "sysscan.h"
#include "util.h"

struct build {
	const struct kt_model *m;
	struct kt_waitfor *g;
};

static bool live(const struct kt_model *m, int proc)
{
	return m->procs[proc].end == KT_END_RUNNING;
}

static const struct kt_sys *sys_of(struct kt_waitfor *g)
{
	if (!g->scanned)
		kt_sys_scan(&g->sys);
	g->scanned = true;
	return &g->sys;
}

static void check_outside(struct kt_wait *w, const char *target, int access)
{
	*KT_PUSH(w->checks, w->nchecks, w->checks_cap) = (struct kt_outside_check){target, access};
}

static void set_free(struct kt_wait *w, const char *fmt, const char *arg)
{
	if (w->free_why != NULL)
		return;
	snprintf(w->why_buf, sizeof w->why_buf, fmt, arg);
	w->free_why = w->why_buf;
}

static void add_waker(struct kt_wait *w, int proc, int fd)
{
	for (size_t i = 0; i < w->nwakers; i++)
		if (w->wakers[i].proc == proc && w->wakers[i].fd == fd)
			return;
	*KT_PUSH(w->wakers, w->nwakers, w->wakers_cap) = (struct kt_waker){proc, fd};
}

bool kt_wait_names(const struct kt_wait *w, int proc)
{
	for (size_t i = 0; i < w->nwakers; i++)
		if (w->wakers[i].proc == proc)
			return true;
	return false;
}

static const struct kt_mfd *fd_of(const struct kt_mproc *mp, int fd)
{
	for (size_t i = 0; i < mp->nfds; i++)
		if (mp->fds[i].fd->rec.fd == fd)
			return &mp->fds[i];
	return NULL;
}

static bool is_pipe(const struct kt_rec_fd *r)
{
	return (r->type == KT_FD_PIPE || r->type == KT_FD_FIFO) && r->target != NULL;
}

/* Every live holder of target opened for access (or read-write): they can
 * wake a process waiting on the other end. Then whoever outside may. */
static void pipe_wakers(struct build *b, struct kt_wait *w, const char *target, int access)
{
	const struct kt_model *m = b->m;
	for (size_t o = 0; o < m->nofds; o++) {
		const struct kt_ofd *ofd = &m->ofds[o];
		const struct kt_rec_fd *r = &ofd->first->rec;
		if (!is_pipe(r) || strcmp(r->target, target) != 0 ||
		    (r->access != access && r->access != O_RDWR))
			continue;
		for (size_t h = 0; h < ofd->nholders; h++)
			if (live(m, ofd->holders[h].proc))
				add_waker(w, ofd->holders[h].proc, ofd->holders[h].fd);
	}
	check_outside(w, target, access);
}

/* A UNIX socket (a socketpair's end, a connection): whoever holds its
 * peer can send to it, read from it or close it. */
static bool socket_wakers(struct build *b, struct kt_wait *w, const char *target)
{
	unsigned long ino;
	if (sscanf(target, "socket:[%lu]", &ino) != 1)
		return false;
	if (!b->g->peers_read)
		kt_unix_peers_load(&b->g->peers);
	b->g->peers_read = true;
	uint32_t peer = kt_unix_peer_of(&b->g->peers, (uint32_t)ino);
	char want[64];
	snprintf(want, sizeof want, "socket:[%u]", peer);
	const struct kt_model *m = b->m;
	for (size_t o = 0; peer != 0 && o < m->nofds; o++) {
		const struct kt_ofd *ofd = &m->ofds[o];
		const struct kt_rec_fd *r = &ofd->first->rec;
		if (r->type != KT_FD_SOCKET || r->target == NULL || strcmp(r->target, want) != 0)
			continue;
		for (size_t h = 0; h < ofd->nholders; h++)
			if (live(m, ofd->holders[h].proc))
				add_waker(w, ofd->holders[h].proc, ofd->holders[h].fd);
		if (w->peer == NULL)
			w->peer = r->target;
		check_outside(w, r->target, -1);
	}
	return w->peer != NULL;
}

/* fd of process proc, waited on for reading (in) or writing. */
static void fd_wakers(struct build *b, int proc, struct kt_wait *w, int fd, bool in)
{
	const struct kt_mfd *mfd = fd_of(&b->m->procs[proc], fd);
	if (mfd == NULL) {
		set_free(w, "%s", "waits on a descriptor the snapshot does not list");
		return;
	}
	const struct kt_rec_fd *r = &b->m->ofds[mfd->ofd - 1].first->rec;
	if (r->type == KT_FD_SOCKET && r->target != NULL && socket_wakers(b, w, r->target))
		return;
	if (!is_pipe(r)) {
		/* A terminal, a socket, a file: input or room from outside. */
		set_free(w, "waits on %s, which something outside can serve", kt_target_of(r));
		return;
	}
	pipe_wakers(b, w, r->target, in ? O_WRONLY : O_RDONLY);
}

/* wait4/waitid: the children it waits for, found system-wide. */
static void child_wakers(struct build *b, int proc, struct kt_wait *w, const struct kt_blocked *bl)
{
	const struct kt_sys *s = sys_of(b->g);
	int pid = b->m->procs[proc].proc->pid, want = bl->pid;
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct kt_sys_proc *c = &s->procs[i];
		if (c->ppid != pid || (want > 0 && c->pid != want) || (want < -1 && c->pgrp != -want))
			continue;
		n++;
		int child = -1;
		for (size_t k = 0; k < b->m->nprocs && child < 0; k++)
			if (live(b->m, (int)k) && b->m->procs[k].proc->pid == c->pid)
				child = (int)k;
		if (child < 0) {
			char who[64];
			snprintf(who, sizeof who, "%d (%.32s)", c->pid, c->name);
			set_free(w, "waits for a child outside the processes looked at: %s", who);
		} else
			add_waker(w, child, -1);
	}
	if (n == 0)
		set_free(w, "%s", "waits for a child that is not there");
}

/* A lock: its holders in /proc/locks (by device and inode), and for a
 * lock of a description (flock, OFD) everyone holding the file. */
static void lock_wakers(struct build *b, int proc, struct kt_wait *w, int fd)
{
	const struct kt_model *m = b->m;
	uint64_t dev, ino;
	if (kt_fd_inode(m->procs[proc].proc->pid, fd, &dev, &ino) != 0) {
		set_free(w, "%s", "waits for a lock on a file that could not be read");
		return;
	}
	char want[64], line[512];
	snprintf(want, sizeof want, "%02x:%02x:%llu", major(dev), minor(dev), (unsigned long long)ino);
	FILE *f = fopen("/proc/locks", "re");
	while (f != NULL && fgets(line, sizeof line, f)) {
		char kind[16], mode[16], rw[16], id[64];
		int pid;
		if (strstr(line, "->") != NULL ||
		    sscanf(line, "%*d: %15s %15s %15s %d %63s", kind, mode, rw, &pid, id) != 5 ||
		    strcmp(id, want) != 0)
			continue;
		int holder = -1;
		for (size_t k = 0; k < m->nprocs && holder < 0; k++)
			if (live(m, (int)k) && m->procs[k].proc->pid == pid)
				holder = (int)k;
		if (holder < 0)
			set_free(w, "%s", "the lock is held outside the processes looked at");
		else
			add_waker(w, holder, -1);
	}
	if (f != NULL)
		fclose(f);
	if (w->target != NULL)
		for (size_t k = 0; k < m->nprocs; k++)
			for (size_t i = 0; live(m, (int)k) && i < m->procs[k].nfds; i++) {
				const struct kt_rec_fd *r = &m->procs[k].fds[i].fd->rec;
				if (r->target != NULL && strcmp(r->target, w->target) == 0)
					add_waker(w, (int)k, r->fd);
			}
	if (w->target != NULL)
		check_outside(w, w->target, -1);
}

static void set_wakers(struct build *b, int proc, struct kt_wait *w, const struct kt_blocked *bl)
{
	if (!bl->fds_known) {
		set_free(w, "%s", "its descriptor set could not be read");
		return;
	}
	for (size_t i = 0; i < bl->nfds; i++) {
		const struct kt_blocked_fd *x = &bl->fds[i];
		if (x->in)
			fd_wakers(b, proc, w, x->fd, true);
		if (x->out)
			fd_wakers(b, proc, w, x->fd, false);
	}
}

/* The wakers of one thread's call on descriptors, a child or a lock. */
static void follow(struct build *b, int proc, struct kt_wait *w, const struct kt_blocked *bl)
{
	switch (bl->kind) {
	case KT_BLOCK_FD:
		fd_wakers(b, proc, w, bl->fd, bl->in);
		break;
	case KT_BLOCK_FDS:
		set_wakers(b, proc, w, bl);
		break;
	case KT_BLOCK_WAIT:
		child_wakers(b, proc, w, bl);
		break;
	case KT_BLOCK_LOCK:
		lock_wakers(b, proc, w, bl->fd);
		break;
	default:
		break;
	}
}

/* Another thread of a blocked process: the process is stuck only if that
 * one is too. A futex wait on private memory waits for the process's own
 * threads (pthread_join, a mutex): stuck when they all are. */
static void other_thread(struct build *b, int proc, struct kt_wait *w, const struct kt_blocked *t)
{
	char what[160];
	switch (t->kind) {
	case KT_BLOCK_FD:
	case KT_BLOCK_FDS:
	case KT_BLOCK_WAIT:
	case KT_BLOCK_LOCK:
		follow(b, proc, w, t);
		break;
	default:
		if (t->kind == KT_BLOCK_OTHER && t->futex_own && t->error == 0)
			break;
		kt_blocked_describe(t, what, sizeof what);
		snprintf(w->why_buf, sizeof w->why_buf, "another thread is in %s", what);
		if (w->free_why == NULL)
			w->free_why = w->why_buf;
	}
	if (t->timeout)
		set_free(w, "%s", "a timer wakes one of its threads");
}

static void build_one(struct build *b, int proc)
{
	const struct kt_mproc *mp = &b->m->procs[proc];
	struct kt_wait *w = &b->g->w[proc];
	w->fd = -1;
	w->b = live(b->m, proc) && mp->snap != NULL ? mp->snap->blocked : NULL;
	if (w->b == NULL) {
		set_free(w, "%s", live(b->m, proc) ? "not looked at" : "ended");
		return;
	}
	const struct kt_blocked *bl = w->b;
	if (bl->fd >= 0) {
		const struct kt_mfd *mfd = fd_of(mp, bl->fd);
		w->fd = bl->fd;
		w->ofd = mfd != NULL ? mfd->ofd : 0;
		w->target = mfd != NULL ? b->m->ofds[mfd->ofd - 1].first->rec.target : NULL;
	}
	switch (bl->kind) {
	case KT_BLOCK_FD:
	case KT_BLOCK_FDS:
	case KT_BLOCK_WAIT:
	case KT_BLOCK_LOCK:
		w->on = bl->kind == KT_BLOCK_FD	   ? (bl->in ? KT_WAIT_READ : KT_WAIT_WRITE)
			: bl->kind == KT_BLOCK_FDS  ? KT_WAIT_SET
			: bl->kind == KT_BLOCK_WAIT ? KT_WAIT_CHILD
						    : KT_WAIT_LOCK;
		follow(b, proc, w, bl);
		break;
	case KT_BLOCK_RUNNING:
		set_free(w, "%s", "running");
		break;
	case KT_BLOCK_STOPPED:
		set_free(w, "%s", "stopped: a SIGCONT from outside resumes it");
		break;
	case KT_BLOCK_SLEEP:
		set_free(w, "%s", "sleeps: a timer wakes it");
		break;
	case KT_BLOCK_FIFO_OPEN:
		set_free(w, "%s", "opens a FIFO: any process may open its other end");
		break;
	default:
		set_free(w, "%s", "waits in a call not followed here");
	}
	if (bl->kind != KT_BLOCK_RUNNING)
		b->g->any_blocked = true;
	if (bl->timeout)
		set_free(w, "%s", "a timer wakes it");
	if (bl->threads > 1 && !bl->all_threads)
		set_free(w, "%s", "has other threads, which could not all be read");
	for (size_t i = 0; i < bl->nothers; i++)
		other_thread(b, proc, w, &bl->others[i]);
	if (w->free_why == NULL && w->nwakers == 0)
		set_free(w, "%s", "nothing it waits for was seen");
}

void kt_waitfor_build(const struct kt_model *m, struct kt_waitfor *g)
{
	*g = (struct kt_waitfor){.w = kt_xcalloc(m->nprocs + 1, sizeof *g->w), .n = m->nprocs};
	struct build b = {.m = m, .g = g};
	size_t cap = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		if (live(m, (int)i))
			*KT_PUSH(g->live, g->nlive, cap) = m->procs[i].proc->pid;
	for (size_t i = 0; i < m->nprocs; i++)
		build_one(&b, (int)i);
}

bool kt_waitfor_outside(struct kt_waitfor *g, int proc)
{
	struct kt_wait *w = &g->w[proc];
	char unknown[200] = "";
	for (size_t i = 0; i < w->nchecks && w->free_why == NULL; i++) {
		char why[200];
		int r = kt_sys_holds(sys_of(g), g->live, g->nlive, w->checks[i].target,
				     w->checks[i].access, why, sizeof why);
		if (r > 0)
			set_free(w, "%s can also wake it", why);
		else if (r < 0 && !unknown[0])
			snprintf(unknown, sizeof unknown, "%s", why);
	}
	if (w->free_why == NULL && unknown[0]) {
		set_free(w, "%s", unknown);
		w->unknown = true;
	}
	return w->free_why != NULL;
}

void kt_waitfor_free(struct kt_waitfor *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->w[i].wakers);
		free(g->w[i].checks);
	}
	free(g->w);
	kt_sys_free(&g->sys);
	kt_unix_peers_free(&g->peers);
	free(g->live);
	*g = (struct kt_waitfor){0};
}
