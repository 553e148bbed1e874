/* A fork's table: the parent writes the child's before the fork (a copy
 * taken after it would race with the parent's next close), names it once
 * fork returned, and the child takes it, checking what another thread of
 * the parent changed meanwhile. */
#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "sys.h"
#include "tracedir.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

/* One inherited entry of the child's table t, from the parent's old. */
KT_RACY static void copy_inherited(struct kt_fd_entry *t, struct kt_fd_entry *old, size_t fd, uint32_t gen)
{
	/* Learn (dev, ino) once per descriptor: the child inherits it and
	 * every process comparing with either skips a stat. */
	struct stat st;
	if (atomic_load_explicit(&old[fd].ino_gen, memory_order_relaxed) != gen &&
	    kt_sys_fstat((int)fd, &st) == 0) {
		old[fd].dev = st.st_dev;
		old[fd].ino = st.st_ino;
		atomic_store_explicit(&old[fd].ino_gen, gen, memory_order_release);
	}
	struct kt_fd_entry *e = &t[fd];
	e->dev = old[fd].dev;
	e->ino = old[fd].ino;
	atomic_store_explicit(&e->ino_gen,
			      atomic_load_explicit(&old[fd].ino_gen, memory_order_acquire) == gen ? gen : 0,
			      memory_order_relaxed);
	kt_table_copy_made(e, &old[fd]);
	e->how = KT_HOW_INHERITED;
	e->call = KT_CALL_FORK;
	e->cloexec = old[fd].cloexec;
	e->flags = 0;
	e->root_fd_plus1 = 0; /* the parent's to write */
	old[fd].flags |= KT_ENTRY_COPIED;
	e->src_pid = kt_self.pid;
	e->src_start = kt_self.start;
	e->src_fd = (int32_t)fd;
	e->src_gen = gen;
	e->site = 0;
	e->peer_plus1 = old[fd].peer_plus1;
	atomic_store_explicit(&e->gen, gen, memory_order_relaxed);
	kt_table_mark_block(kt_header_of(t), fd);
}

/* Before fork, the parent writes the child's table: a copy made after fork
 * would race with the parent's other changes (a close right after fork).
 * It is as large as the parent's now. */
KT_RACY int kt_table_prepare_fork(struct kt_fork_prep *prep)
{
	static atomic_uint counter;
	uint32_t cap;
	struct kt_fd_entry *old = kt_table_now(&cap);
	char suffix[48] = ".fork";
	struct kt_buf b = {suffix + 5, 0, sizeof suffix - 16, 0};
	kt_buf_unum(&b, atomic_fetch_add(&counter, 1));
	suffix[5] = '-';
	memcpy(suffix + 5 + b.len, ".tbl", 5);
	kt_trace_path(prep->tmp, sizeof prep->tmp, KT_TRACE_LIVE "/.", suffix);
	prep->err = -ENOENT;
	prep->cap = cap;
	prep->table = old ? kt_table_make_file(prep->tmp, cap, &prep->st, &prep->err) : NULL;
	if (!prep->table) {
		prep->err = prep->err < 0 ? -prep->err : prep->err;
		return -prep->err;
	}
	struct kt_fd_entry *t = prep->table;
	struct kt_table_header *oh = kt_header_of(old), *nh = kt_header_of(t);
	uint32_t max_fd = (uint32_t)kt_table_used_end(oh, cap);
	for (size_t fd = kt_table_next_used(oh, 0, max_fd); fd < max_fd;
	     fd = kt_table_next_used(oh, fd + 1, max_fd)) {
		uint32_t gen = atomic_load_explicit(&old[fd].gen, memory_order_acquire);
		if (gen != 0 && !(gen & 1u))
			copy_inherited(t, old, fd, gen);
	}
	atomic_store(&nh->max_fd_plus_one, max_fd);
	return 0;
}

/* In our own table's header: a child we just forked (table.h). */
static void note_recent_child(pid_t child, unsigned long long start)
{
	uint32_t cap;
	struct kt_fd_entry *own = kt_table_now(&cap);
	if (!own)
		return;
	struct kt_table_header *h = kt_header_of(own);
	uint32_t slot = atomic_fetch_add(&h->nrecent_children, 1) % KT_TABLE_RECENT_CHILDREN;
	atomic_store_explicit(&h->recent_children[slot].pid, 0, memory_order_relaxed);
	atomic_store_explicit(&h->recent_children[slot].start, start, memory_order_relaxed);
	atomic_store_explicit(&h->recent_children[slot].pid, child, memory_order_release);
}

/* In the parent once fork returned: name the child's table (so that a
 * snapshot taken now already sees the child), or drop it if fork failed. */
void kt_table_parent_after_fork(struct kt_fork_prep *prep, pid_t child)
{
	unsigned long long start;
	if (!prep->table)
		return;
	if (child > 0 && (kt_start_between(prep->boot_before, kt_boot_ns(), &start) ||
			  kt_proc_stat(child, &start, NULL, NULL) == 0)) {
		char path[4200];
		if (kt_trace_table_path(path, sizeof path, kt_self.dir, child, start)) {
			kt_header_of(prep->table)->pid = child;
			kt_header_of(prep->table)->start = start;
			if (kt_sys_renameat(AT_FDCWD, prep->tmp, AT_FDCWD, path) == 0)
				atomic_store_explicit(&kt_header_of(prep->table)->named, 1, memory_order_release);
			note_recent_child(child, start);
		}
	} else if (child < 0) {
		kt_sys_unlinkat(AT_FDCWD, prep->tmp, 0);
	}
	munmap(kt_header_of(prep->table), kt_table_file_size(prep->cap));
}

/* The parent wrote our table just before the fork; another of its threads
 * may have changed a descriptor between that copy and the fork itself (or
 * the parent right after it). An entry whose generation moved in the
 * parent is checked: kcmp against the parent's descriptor of that number
 * (the same description now: link to its new generation), else the
 * inode the copy cached (the same file: the change came after the fork,
 * keep the copy's link), else the link is dropped: never a false one. */
KT_RACY static void check_inherited(struct kt_fd_entry *mine, const struct kt_fd_entry *parent,
				    uint32_t parent_cap, pid_t ppid)
{
	struct kt_table_header *h = kt_header_of(mine);
	size_t max_fd = kt_table_used_end(h, parent_cap);
	for (size_t fd = kt_table_next_used(h, 0, max_fd); fd < max_fd;
	     fd = kt_table_next_used(h, fd + 1, max_fd)) {
		struct kt_fd_entry *e = &mine[fd];
		uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
		if (!gen || (gen & 1u) || e->how != KT_HOW_INHERITED)
			continue;
		uint32_t now = atomic_load_explicit(&parent[fd].gen, memory_order_acquire);
		if (now == e->src_gen)
			continue; /* unchanged since the copy: what we hold */
		if (now && !(now & 1u) && kt_kcmp_file(kt_self.pid, (int)fd, ppid, (int)fd) == 0 &&
		    atomic_load(&parent[fd].gen) == now) {
			e->src_gen = now;
			e->ino_gen = 0;
			continue;
		}
		struct stat st;
		if (atomic_load(&e->ino_gen) == gen && kt_sys_fstat((int)fd, &st) == 0 &&
		    st.st_dev == e->dev && st.st_ino == e->ino)
			continue;
		e->how = KT_HOW_UNKNOWN;
		e->call = KT_CALL_NONE;
		e->src_pid = 0;
		e->src_start = 0;
		e->src_fd = -1;
		e->src_gen = 0;
	}
}

/* No table for us: say so in the parent's, the one place the report will
 * look that we can still write (no system call needed). */
static void note_lost_child(struct kt_fd_entry *parent, int err)
{
	struct kt_table_header *h = kt_header_of(parent);
	uint32_t slot = atomic_fetch_add(&h->nlost_children, 1);
	if (slot >= KT_TABLE_LOST_CHILDREN)
		return; /* counted */
	struct kt_table_lost_child *c = &h->lost_children[slot];
	c->err = err;
	c->start = kt_self.start;
	c->seccomp = (uint32_t)kt_lost_seccomp();
	atomic_store_explicit(&c->pid, kt_self.pid, memory_order_release);
}

/* The parent's newest mapping at the fork, kept by the child: its
 * snapshots compare with the parent through it, with no open, map and
 * unmap of the parent's table each time. */
static struct kt_table_view parent_view;

int kt_table_fork_child(struct kt_fork_prep *prep)
{
	uint32_t cap;
	struct kt_fd_entry *old = kt_table_now(&cap);
	kt_table_fork_child_reset();
	/* Alone, with signals blocked and no hook run inside the fork,
	 * nothing changed between the copy and the fork: no check (it would
	 * fault in the pages of both tables). */
	if (old && prep->table && prep->recheck)
		check_inherited(prep->table, old, cap, kt_self.ppid);
	if (old && !prep->table)
		note_lost_child(old, prep->err);
	/* A grandparent's, kept by the parent: not ours to compare with. */
	kt_table_fork_release();
	int now = atomic_load(&kt_table_view_now);
	if (now >= 0) {
		parent_view = kt_table_views[now];
		kt_table_views[now] = (struct kt_table_view){0};
		atomic_store(&kt_table_view_now, now - 1);
	}
	kt_table_drop_all(); /* the parent's older ones */
	if (!prep->table)
		return -prep->err;
	kt_table_set_owner(prep->table);
	kt_table_install(prep->table, prep->cap, &prep->st);
	/* The parent may have named it already; else either rename wins. */
	char path[4200];
	if (!atomic_load_explicit(&kt_header_of(prep->table)->named, memory_order_acquire) &&
	    kt_trace_table_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start))
		kt_sys_renameat(AT_FDCWD, prep->tmp, AT_FDCWD, path);
	return 0;
}

int kt_table_fork_child_start(const struct kt_fork_prep *prep, unsigned long long *start)
{
	const struct kt_table_header *h = prep->table ? kt_header_of(prep->table) : NULL;
	if (!h || !atomic_load_explicit(&h->named, memory_order_acquire) || h->pid != kt_self.pid)
		return kt_start_between(prep->boot_before, kt_boot_ns(), start) ? 0
										 : kt_proc_stat(0, start, NULL, NULL);
	*start = h->start;
	return 0;
}

void kt_table_fork_lost(int err)
{
	if (parent_view.t)
		note_lost_child(parent_view.t, err);
	kt_table_drop_all();
	kt_table_remove();
}

const struct kt_fd_entry *kt_table_parent_view(pid_t pid, unsigned long long start, size_t *cap)
{
	if (!parent_view.t)
		return NULL;
	const struct kt_table_header *h = kt_header_of(parent_view.t);
	/* Not once its image began to exec (the next image's table replaces
	 * this file), nor once it grew past what we map. */
	if (h->pid != pid || h->start != start || atomic_load(&h->execing) ||
	    atomic_load(&h->capacity) > parent_view.cap)
		return NULL;
	*cap = parent_view.cap;
	return parent_view.t;
}

/* Entries of a parent's table a child keeps mapped for its life (about
 * 330 KB): a daemon that outlives its parent keeps the file in /dev/shm
 * as long; a larger table is mapped by name at each snapshot instead. */
#define PARENT_VIEW_KEPT_MAX 1024u

void kt_table_fork_settle(void)
{
	if (parent_view.t && parent_view.cap > PARENT_VIEW_KEPT_MAX)
		kt_table_fork_release();
}

/* The latest children in header h's ring (table.h), newest first (the
 * likeliest alive; an older child with the same pid was forked, and
 * reaped, before a newer one): at most n into out, slots being written
 * left out. */
static size_t recent_children(const struct kt_table_header *h, struct kt_pid_start_pair *out, size_t n)
{
	size_t got = 0;
	uint32_t total = atomic_load(&h->nrecent_children);
	size_t have = total < KT_TABLE_RECENT_CHILDREN ? total : KT_TABLE_RECENT_CHILDREN;
	for (size_t k = 1; k <= have && got < n; k++) {
		size_t slot = (total - k) % KT_TABLE_RECENT_CHILDREN;
		pid_t child = atomic_load_explicit(&h->recent_children[slot].pid, memory_order_acquire);
		unsigned long long start = atomic_load_explicit(&h->recent_children[slot].start, memory_order_relaxed);
		if (child > 0 && atomic_load(&h->recent_children[slot].pid) == child)
			out[got++] = (struct kt_pid_start_pair){child, start};
	}
	return got;
}

bool kt_table_child_wrote_its_end(pid_t child)
{
	uint32_t cap;
	struct kt_fd_entry *own = kt_table_now(&cap);
	if (!own)
		return false;
	const struct kt_table_header *h = kt_table_header_of(own);
	/* A child that could not start its record removed its table too. */
	uint32_t nlost = atomic_load(&h->nlost_children);
	if (nlost >= KT_TABLE_LOST_CHILDREN)
		return false;
	for (uint32_t i = 0; i < nlost; i++)
		if (atomic_load(&h->lost_children[i].pid) == child)
			return false;
	struct kt_pid_start_pair recent[KT_TABLE_RECENT_CHILDREN];
	size_t n = recent_children(h, recent, KT_TABLE_RECENT_CHILDREN);
	for (size_t i = 0; i < n; i++) {
		if (recent[i].pid != child)
			continue;
		char path[4200];
		return kt_trace_table_path(path, sizeof path, kt_self.dir, child, recent[i].start) &&
		       kt_sys_faccessat(AT_FDCWD, path, F_OK) == -ENOENT;
	}
	return false;
}

size_t kt_table_parent_recent_children(pid_t pid, unsigned long long start, struct kt_pid_start_pair *out,
				       size_t n)
{
	size_t cap;
	const struct kt_fd_entry *t = kt_table_parent_view(pid, start, &cap);
	return t ? recent_children(kt_table_header_of(t), out, n) : 0;
}

void kt_table_fork_release(void)
{
	if (parent_view.t)
		munmap(kt_header_of(parent_view.t), kt_table_file_size(parent_view.cap));
	parent_view = (struct kt_table_view){0};
}
