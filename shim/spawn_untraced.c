/* posix_spawn of an image the shim cannot follow (a static binary, a set-id
 * program): glibc clones and execs inside posix_spawn, so no shim ever runs
 * in the child, and nobody would put it in the trace. Its parent does, as a
 * fork child that exec'd that image would have: its table (written before
 * the spawn as a fork's, then cut to what crossed the exec, each entry
 * checked by kcmp against the child), its record (the image, "spawned",
 * the descriptors the image started with as the snapshot of that exec, and
 * "untraced"), the mark that makes other processes observe it from
 * outside, and the launcher's watch until its exit. */
#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "image.h"
#include "sys.h"
#include "tracedir.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

void kt_spawn_untraced_before(struct kt_spawn_untraced *su, const char *path, int search)
{
	su->why = NULL;
	su->prep.table = NULL;
	if (!kt_on() || !path)
		return;
	kt_own_fds_begin();
	su->why = kt_spawn_image_untraced(path, search);
	kt_own_fds_end();
	if (!su->why)
		return;
	su->path = path;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	kt_own_fds_begin_signals_blocked();
	kt_table_prepare_fork(&su->prep);
	kt_own_fds_end();
	su->prep.time = kt_now_ns(); /* the clone copies the descriptors after it */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The child's fd and our src: the same description (kcmp), or, where kcmp
 * is refused, the same file. */
static int same_description(pid_t child, int fd, int src, int *kcmp_err)
{
	int r = kt_kcmp_file(child, fd, kt_self.pid, src);
	if (r >= 0)
		return r == 0;
	if (r == -ENOSYS || r == -EPERM || r == -EACCES)
		*kcmp_err = -r;
	uint64_t d1, i1, d2, i2;
	return r != -EBADF && r != -ESRCH && kt_fd_inode(child, fd, &d1, &i1) == 0 &&
	       kt_fd_inode(0, src, &d2, &i2) == 0 && d1 == d2 && i1 == i2;
}

static void clear(struct kt_fd_entry *e)
{
	atomic_store_explicit(&e->gen, 0, memory_order_relaxed);
}

/* The entry of a number a dup2 action placed: our src's, copied. */
static void placed_copy(struct kt_fd_entry *e, struct kt_fd_entry *old, uint32_t old_cap, int src)
{
	clear(e);
	if (src < 0 || (uint32_t)src >= old_cap)
		return;
	uint32_t g = atomic_load_explicit(&old[src].gen, memory_order_acquire);
	if (!g || (g & 1u))
		return;
	kt_table_copy_made(e, &old[src]);
	e->cloexec = 0;
	e->how = KT_HOW_INHERITED;
	e->call = KT_CALL_POSIX_SPAWN;
	e->src_pid = kt_self.pid;
	e->src_start = kt_self.start;
	e->src_fd = src;
	e->src_gen = g;
	e->site = 0;
	e->peer_plus1 = 0;
	old[src].flags |= KT_ENTRY_COPIED;
	atomic_store_explicit(&e->gen, 2, memory_order_relaxed);
}

/* The child's table, a copy of ours before the spawn: keep what crossed
 * its exec, as the file actions left it, and only where the child holds
 * that very description now (its image may have run a little already). */
static int cut_to_child(struct kt_spawn_untraced *su, pid_t child, const struct kt_spawn_act *acts,
			int nacts)
{
	struct kt_fd_entry *t = su->prep.table;
	struct kt_table_header *h = kt_header_of(t);
	uint32_t old_cap;
	struct kt_fd_entry *old = kt_table_now(&old_cap);
	size_t max_fd = atomic_load(&h->max_fd_plus_one);
	int kcmp_err = 0;
	for (int a = 0; a < nacts; a++) {
		if (acts[a].fd < 0 || (uint32_t)acts[a].fd >= su->prep.cap)
			continue;
		struct kt_fd_entry *e = &t[acts[a].fd];
		if (acts[a].kind == 'd') {
			placed_copy(e, old, old_cap, acts[a].src);
		} else {
			memset(e, 0, sizeof *e);
			e->how = KT_HOW_OPEN;
			e->call = KT_CALL_POSIX_SPAWN;
			e->src_fd = -1;
			e->cloexec = acts[a].kind == 'O';
			atomic_store_explicit(&e->gen, acts[a].kind == 'c' ? 0 : 2, memory_order_relaxed);
		}
		kt_table_mark_block(h, (size_t)acts[a].fd);
		if ((size_t)acts[a].fd >= max_fd)
			max_fd = (size_t)acts[a].fd + 1;
	}
	atomic_store(&h->max_fd_plus_one, (uint32_t)max_fd);
	for (size_t fd = kt_table_next_used(h, 0, max_fd); fd < max_fd;
	     fd = kt_table_next_used(h, fd + 1, max_fd)) {
		struct kt_fd_entry *e = &t[fd];
		uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
		if (!gen)
			continue;
		uint64_t dev, ino;
		int holds = !e->cloexec && kt_fd_inode(child, (int)fd, &dev, &ino) == 0;
		if (holds && e->how == KT_HOW_INHERITED)
			holds = same_description(child, (int)fd, e->src_fd, &kcmp_err);
		if (!holds) {
			clear(e);
			continue;
		}
		if (e->call == KT_CALL_FORK)
			e->call = KT_CALL_NONE; /* inherited across the spawn, as a traced child says */
		e->flags = 0;
		e->dev = dev;
		e->ino = ino;
		atomic_store_explicit(&e->ino_gen, gen, memory_order_relaxed);
	}
	return kcmp_err;
}

/* The child's record: image, spawned, the exec snapshot of what its image
 * started with, untraced. */
static void write_record(struct kt_spawn_untraced *su, pid_t child, unsigned long long start,
			 char *const argv[], int kcmp_err)
{
	struct kt_fd_entry *t = su->prep.table;
	struct kt_table_header *h = kt_header_of(t);
	size_t max_fd = atomic_load(&h->max_fd_plus_one);
	char exe[PATH_MAX], link[64];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)child);
	ssize_t n = kt_sys_readlinkat(AT_FDCWD, link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	int argc = 0;
	size_t cap = 8192 + 8 * strlen(exe) + 8 * strlen(su->path);
	while (argv && argv[argc])
		cap += 4 * strlen(argv[argc++]) + 4;
	size_t nfds = 0;
	for (size_t fd = kt_table_next_used(h, 0, max_fd); fd < max_fd;
	     fd = kt_table_next_used(h, fd + 1, max_fd))
		nfds += atomic_load_explicit(&t[fd].gen, memory_order_relaxed) != 0;
	cap += nfds * (4 * sizeof ((struct kt_fd_info *)0)->target + 512);
	char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kt_fd_info *info = mmap(NULL, sizeof *info, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf != MAP_FAILED && info != MAP_FAILED) {
		struct kt_buf b = {buf, 0, cap, 0};
		kt_rec_put_magic(&b);
		kt_rec_put_image(&b, &(struct kt_rec_image){child, kt_self.pid, kt_self.start, start,
							     *exe ? exe : su->path, argc,
							     (const char *const *)argv});
		kt_rec_put_spawned(&b, "posix_spawn", su->prep.time);
		kt_rec_put_snap(&b, &(struct kt_rec_snap){KT_WHY_EXEC, -1, kcmp_err, kt_now_ns()});
		for (size_t fd = kt_table_next_used(h, 0, max_fd); fd < max_fd;
		     fd = kt_table_next_used(h, fd + 1, max_fd)) {
			const struct kt_fd_entry *e = &t[fd];
			uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
			if (!gen || kt_fd_describe(child, (int)fd, info) != 0)
				continue;
			bool inherited = e->how == KT_HOW_INHERITED;
			kt_rec_put_fd(&b, &(struct kt_rec_fd){
				.fd = (int)fd, .gen = gen, .type = info->type, .target = info->target,
				.access = info->access, .cloexec = false, .how = e->how, .call = e->call,
				.src_pid = inherited ? kt_self.pid : 0,
				.src_start = inherited ? kt_self.start : 0,
				.src_fd = inherited ? e->src_fd : -1, .src_gen = inherited ? e->src_gen : 0,
				.site = NULL});
		}
		kt_rec_put_end(&b);
		/* the program found, not the bare name posix_spawnp searched for */
		kt_rec_put_untraced(&b, &(struct kt_rec_untraced){*exe ? exe : su->path, su->why});
		if (!b.overflow)
			kt_write_record_of(child, start, buf, b.len);
	}
	if (buf != MAP_FAILED)
		munmap(buf, cap);
	if (info != MAP_FAILED)
		munmap(info, sizeof *info);
}

void kt_spawn_untraced_after(struct kt_spawn_untraced *su, pid_t child, char *const argv[],
			     const struct kt_spawn_act *acts, int nacts)
{
	if (!su->why || !su->prep.table)
		return;
	int saved = errno;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	kt_own_fds_begin_signals_blocked();
	unsigned long long start;
	char path[4200];
	if (child > 0 && kt_proc_stat(child, &start, NULL, NULL) == 0 &&
	    kt_trace_table_path(path, sizeof path, kt_self.dir, child, start)) {
		int kcmp_err = cut_to_child(su, child, acts, nacts);
		struct kt_table_header *h = kt_header_of(su->prep.table);
		h->pid = child;
		h->start = start;
		atomic_store(&h->untraced, 1);
		write_record(su, child, start, argv, kcmp_err);
		/* Before the table is seen: a fork child whose parent holds all it
		 * holds lists the live tables only when this mark is there. */
		kt_trace_mark_untraced_seen(kt_self.dir);
		kt_sys_renameat(AT_FDCWD, su->prep.tmp, AT_FDCWD, path);
		/* Without its mark, a process that ends with all it holds linked
		 * would not look at this table (fdtable.c). */
		char mark[4200];
		int fd = -1;
		if (kt_trace_untraced_path(mark, sizeof mark, kt_self.dir, child, start))
			fd = kt_sys_open_high(AT_FDCWD, mark, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600);
		if (fd >= 0)
			kt_sys_close(fd);
		if (strcmp(su->why, KT_UNTRACED_STATIC) == 0)
			kt_watch_ask_child(child);
	} else {
		kt_sys_unlinkat(AT_FDCWD, su->prep.tmp, 0);
	}
	munmap(kt_header_of(su->prep.table), kt_table_file_size(su->prep.cap));
	su->prep.table = NULL;
	kt_own_fds_end();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}
