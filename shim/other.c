/* Another traced process's descriptors, seen through its table and /proc:
 * which of them one of ours is a copy of (found by kcmp), for a child that
 * starts and for a descriptor received from a sender. Not a hot path. */
#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "sys.h"

#include <string.h>
#include <time.h>

int kt_other_open(struct kt_other_view *v, pid_t pid, unsigned long long start)
{
	memset(v, 0, sizeof *v);
	v->pid = pid;
	v->start = start;
	v->table = kt_table_map_other(pid, start, &v->cap);
	return v->table ? 0 : -1;
}

void kt_other_close(struct kt_other_view *v)
{
	kt_table_unmap(v->table, v->cap);
	v->table = NULL;
}

/* Its descriptor's generation when open, else 0. */
static uint32_t other_gen(const struct kt_other_view *v, int ofd)
{
	if (!v->table || ofd < 0 || (size_t)ofd >= v->cap)
		return 0;
	uint32_t g = atomic_load(&v->table[ofd].gen);
	return g && !(g & 1u) ? g : 0;
}

/* A received descriptor's sender, when the call names it (pidfd_getfd):
 * the other process's descriptor, at the generation its table gives (0 when
 * that process is not traced). Not a hot path: reads /proc. */
KT_RACY void kt_note_source(int fd, pid_t pid, int src_fd)
{
	struct kt_fd_entry *e = kt_table_entry(fd);
	unsigned long long start = 0;
	if (!e || pid <= 0 || kt_proc_stat(pid, &start, NULL, NULL) != 0)
		return;
	struct kt_other_view v;
	kt_other_open(&v, pid, start);
	e->src_pid = pid;
	e->src_start = start;
	e->src_fd = src_fd;
	e->src_gen = other_gen(&v, src_fd);
	kt_other_close(&v);
}

static int other_list(struct kt_other_view *v, struct kt_arena *arena)
{
	if (v->listed)
		return v->nfds >= 0;
	v->listed = 1;
	struct kt_fd_list list = KT_ARENA_FD_LIST(arena);
	v->nfds = kt_proc_list_all(v->pid, &list);
	v->fds = list.fds;
	return v->nfds >= 0;
}

static int other_inode(const struct kt_other_view *v, int ofd, uint32_t gen, uint64_t *dev, uint64_t *ino)
{
	const struct kt_fd_entry *e = &v->table[ofd];
	if (atomic_load(&e->ino_gen) == gen) {
		*dev = e->dev;
		*ino = e->ino;
		return 0;
	}
	return kt_fd_inode(v->pid, ofd, dev, ino);
}

int kt_other_find(struct kt_other_view *v, struct kt_arena *arena, int fd, uint32_t *gen)
{
	/* The same number first: plain inheritance keeps it (one kcmp). */
	*gen = other_gen(v, fd);
	if (*gen && kt_kcmp_file(kt_self.pid, fd, v->pid, fd) == 0 && atomic_load(&v->table[fd].gen) == *gen)
		return fd;
	struct stat st;
	if (kt_sys_fstat(fd, &st) != 0 || !other_list(v, arena))
		return -1;
	for (long i = 0; i < v->nfds; i++) {
		int ofd = v->fds[i];
		uint64_t dev, ino;
		*gen = other_gen(v, ofd);
		if (!*gen || ofd == fd || other_inode(v, ofd, *gen, &dev, &ino) != 0)
			continue;
		if (dev == st.st_dev && ino == st.st_ino && kt_kcmp_file(kt_self.pid, fd, v->pid, ofd) == 0 &&
		    atomic_load(&v->table[ofd].gen) == *gen)
			return ofd;
	}
	return -1;
}

static int popen_end_noted(struct kt_other_view *v, const struct stat *st)
{
	for (long i = 0; i < v->nfds; i++) {
		int ofd = v->fds[i];
		uint32_t gen = other_gen(v, ofd);
		uint64_t dev, ino;
		if (gen && v->table[ofd].call == KT_CALL_POPEN &&
		    other_inode(v, ofd, gen, &dev, &ino) == 0 && dev == st->st_dev && ino == st->st_ino)
			return 1;
	}
	return 0;
}

int kt_other_popen_end(struct kt_other_view *v, struct kt_arena *arena, int fd)
{
	struct stat st;
	if (kt_sys_fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) || !other_list(v, arena))
		return 0;
	/* The parent's popen returns once we have exec'd: its hook may not
	 * have noted its end yet. It will within moments; wait a bounded time
	 * (then the origin stays unknown, as it is for any pipe not seen). */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (popen_end_noted(v, &st))
			return 1;
		if (atomic_load(&kt_table_header_of(v->table)->in_popen) == 0)
			return popen_end_noted(v, &st);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) > 200000000L)
			return 0; /* 0.2 s: a parent stopped, or far behind */
		kt_syscall(SYS_sched_yield);
	}
}

/* The file of fd cached in its entry (ino_gen), once per generation. */
KT_RACY static void note_file(struct kt_fd_entry *e, int fd)
{
	uint32_t gen = atomic_load_explicit(&e->gen, memory_order_acquire);
	struct stat st;
	if (atomic_load_explicit(&e->ino_gen, memory_order_acquire) == gen || kt_sys_fstat(fd, &st) != 0)
		return;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	atomic_store_explicit(&e->ino_gen, gen, memory_order_release);
}

KT_RACY void kt_note_sender(int fd, pid_t pid)
{
	unsigned long long start;
	struct kt_fd_entry *e = kt_table_entry(fd);
	if (!e)
		return;
	if (pid <= 0 || pid == kt_self.pid || kt_proc_stat(pid, &start, NULL, NULL) != 0) {
		/* The sender is not known, or gone (start 0): what it sent may
		 * tell (record.h "ino"). */
		if (pid > 0 && pid != kt_self.pid) {
			e->src_pid = pid;
			e->src_start = 0;
		}
		note_file(e, fd);
		return;
	}
	struct kt_other_view v;
	struct kt_arena arena = {0};
	uint32_t gen;
	int src;
	e->src_pid = pid;
	e->src_start = start;
	if (kt_other_open(&v, pid, start) == 0 && (src = kt_other_find(&v, &arena, fd, &gen)) >= 0) {
		e->src_fd = src;
		e->src_gen = gen;
	} else {
		/* The sender's copy is gone (closed, or it ended): what it sent
		 * names the file, and so does ours (record.h "ino"). */
		note_file(e, fd);
	}
	kt_other_close(&v);
	kt_arena_release(&arena);
}

KT_RACY void kt_note_sent(int fd)
{
	struct kt_fd_entry *e = kt_table_entry(fd);
	uint32_t gen = e ? atomic_load_explicit(&e->gen, memory_order_acquire) : 0;
	if (!gen || (gen & 1u))
		return;
	note_file(e, fd);
	e->flags |= KT_ENTRY_SENT | KT_ENTRY_COPIED; /* kept as a closed record once closed */
}

