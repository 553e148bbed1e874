/* The grouping part of a snapshot (snapshot_impl.h): which descriptors
 * share an open file description, within this process (a kcmp sort) and
 * with the other live traced processes (each description linked once). */
#include "snapshot_impl.h"
#include "sys.h"
#include "tracedir.h"

#include <string.h>
#include <time.h>

static void emit_same(struct snapshot *s, const struct kt_desc *mine, pid_t pid,
		      unsigned long long start, int fd2, uint32_t gen2)
{
	kt_rec_put_same(kt_snap_out(s), &(struct kt_rec_same){mine->fd, mine->gen, pid, start, fd2, gen2});
}

/* Number the descriptions of the sorted descriptors (adjacent equal ones
 * share one), all not linked yet. */
static void number_groups(struct snapshot *s, const unsigned char *equal_to_previous)
{
	s->group_of = kt_arena_alloc(&s->arena, (s->n + 1) * sizeof *s->group_of);
	s->linked = kt_arena_alloc(&s->arena, s->n + 1);
	if (!s->group_of || !s->linked) {
		s->group_of = NULL; /* compare with everyone, as before */
		return;
	}
	memset(s->linked, 0, s->n + 1);
	for (size_t j = 0; j < s->n; j++) {
		bool same = j > 0 && equal_to_previous[j];
		s->group_of[j] = same ? s->group_of[j - 1] : j;
		s->unlinked += !same;
	}
}

static bool is_linked(const struct snapshot *s, size_t j)
{
	return s->group_of && s->linked[s->group_of[j]];
}

static void mark_linked(struct snapshot *s, size_t j)
{
	if (s->group_of && !s->linked[s->group_of[j]]) {
		s->linked[s->group_of[j]] = 1;
		s->unlinked--;
	}
}


static void inode_range(const struct snapshot *s, uint64_t dev, uint64_t ino, size_t *lo, size_t *hi);

/* Within this process: sort, then adjacent equal descriptors share. */
void kt_snap_group_own(struct snapshot *s)
{
	struct kt_desc *scratch = kt_arena_alloc(&s->arena, (s->n + 1) * sizeof *scratch);
	if (!scratch)
		return;
	if (s->kcmp_error) {
		/* Without kcmp only (dev, ino) order: no verdicts are drawn from it. */
		for (size_t i = 0; i < s->n; i++)
			s->sorted[i].pid = 0;
		kt_desc_sort(s->sorted, s->n, scratch, &s->stats);
		return;
	}
	unsigned char *starts = kt_arena_alloc(&s->arena, s->n + 1);
	if (!starts)
		return;
	kt_desc_group(s->sorted, s->n, scratch, starts, &s->stats);
	s->sorted_pos = kt_arena_alloc(&s->arena, (s->n + 1) * sizeof *s->sorted_pos);
	if (s->sorted_pos)
		for (size_t j = 0; j < s->n; j++)
			s->sorted_pos[s->sorted[j].index] = j;
	/* starts becomes "equal to the previous one" in place. */
	for (size_t i = 1; i < s->n; i++) {
		const struct kt_desc *a = &s->sorted[i - 1], *b = &s->sorted[i];
		starts[i] = !starts[i];
		if (starts[i])
			emit_same(s, b, kt_self.pid, kt_self.start, a->fd, a->gen);
	}
	number_groups(s, starts);
}

/* Every description of ours with this (dev, ino) is linked already. */
static bool inode_linked(const struct snapshot *s, uint64_t dev, uint64_t ino)
{
	size_t lo, hi;
	if (!s->group_of)
		return false;
	inode_range(s, dev, ino, &lo, &hi);
	for (size_t j = lo; j < hi; j++)
		if (!is_linked(s, j))
			return false;
	return true;
}

/* Where this process's descriptor number fd stands in sorted order, or -1. */
static long sorted_index_of_fd(const struct snapshot *s, int fd)
{
	size_t lo = 0, hi = s->n;
	if (!s->sorted_pos)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->fds[mid].fd == fd)
			return (long)s->sorted_pos[mid];
		if (s->fds[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* [lo, hi) of the sorted descriptors with this (dev, ino). */
static void inode_range(const struct snapshot *s, uint64_t dev, uint64_t ino, size_t *lo, size_t *hi)
{
	size_t l = 0, h = s->n;
	while (l < h) {
		size_t m = l + (h - l) / 2;
		const struct kt_desc *d = &s->sorted[m];
		if (d->dev < dev || (d->dev == dev && d->ino < ino))
			l = m + 1;
		else
			h = m;
	}
	*lo = l;
	while (l < s->n && s->sorted[l].dev == dev && s->sorted[l].ino == ino)
		l++;
	*hi = l;
}

/* Our descriptor of the same description as *key, by the inode's bucket. */
static long find_same(struct snapshot *s, const struct kt_desc *key)
{
	size_t lo, hi;
	inode_range(s, key->dev, key->ino, &lo, &hi);
	if (lo == hi)
		return -1;
	long at = kt_desc_find(s->sorted + lo, hi - lo, key, &s->stats);
	return at < 0 ? -1 : at + (long)lo;
}

/* One descriptor of a process that runs an untraced image (record.h
 * "observed"). */
static void observe(struct snapshot *s, pid_t pid, unsigned long long start, int fd, uint32_t gen)
{
	struct kt_fd_info *info = kt_arena_alloc(&s->arena, sizeof *info);
	struct timespec now;
	/* No access mode: its fdinfo was gone (the process or the
	 * descriptor ended meanwhile), nothing to say of it. */
	if (!info || kt_fd_describe(pid, fd, info) != 0 || info->access == KT_ACCESS_UNKNOWN)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	kt_rec_put_observed(kt_snap_out(s), &(struct kt_rec_observed){
		.pid = pid, .start = start, .fd = fd, .gen = gen, .type = info->type,
		.target = info->target, .access = info->access, .cloexec = info->cloexec > 0,
		.time = (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec});
}

/* Whether process (pid, start) is alive. Our parent is while we are its
 * child (its pid cannot be reused before we are reparented): getppid
 * tells it in one call, where /proc/PID/stat takes three. */
static bool other_alive(const struct snapshot *s, pid_t pid, unsigned long long start)
{
	if (pid == kt_self.ppid && start == kt_self.parent_start && start != 0 && s->parent_now == pid)
		return true;
	return kt_proc_alive(pid, start);
}

/* Link what of ours shares a description with descriptor fd of process
 * (pid, start), whose table is table (cap entries). Returns 0, or the
 * -errno (EACCES, EPERM) of a look at its file that was refused. */
static int link_one(struct snapshot *s, pid_t pid, unsigned long long start, const struct kt_fd_entry *table,
		     bool untraced, int fd)
{
	uint32_t g1 = atomic_load_explicit(&table[fd].gen, memory_order_acquire);
	struct kt_desc key = {.pid = pid, .fd = fd};
	int have_inode = 0;
	if (untraced) {
		/* Its image writes no snapshot: say what we see of it. A kept
		 * entry for another file than the one there now was closed by
		 * the image and its number reused. */
		have_inode = kt_fd_inode(pid, fd, &key.dev, &key.ino) == 0;
		if (have_inode && kt_entry_replaced(&table[fd], g1, key.dev, key.ino))
			g1 = 0;
		if (g1 == 0 || (g1 & 1u))
			g1 = KT_GEN_OBSERVED | (uint32_t)kt_self.pid;
		observe(s, pid, start, fd, g1);
	} else if (g1 == 0 || (g1 & 1u)) {
		return 0; /* closed, changing, or made where the shim could not see */
	}
	int r;
	if (have_inode) {
		/* read above */
	} else if (!(g1 & KT_GEN_OBSERVED) &&
		   atomic_load_explicit(&table[fd].ino_gen, memory_order_acquire) == g1) {
		key.dev = table[fd].dev;
		key.ino = table[fd].ino;
	} else if ((r = kt_fd_inode(pid, fd, &key.dev, &key.ino)) < 0) {
		return r == -EACCES || r == -EPERM ? r : 0;
	}
	if (!untraced && inode_linked(s, key.dev, key.ino))
		return 0; /* nothing of ours to link (or none of this inode) */
	/* Inheritance keeps numbers: try our descriptor of the same number
	 * first (one kcmp), then search the inode's bucket (log n). */
	long at = sorted_index_of_fd(s, fd);
	if (at < 0 || s->sorted[at].dev != key.dev || s->sorted[at].ino != key.ino ||
	    kt_desc_compare(&key, &s->sorted[at], &s->stats) != 0)
		at = find_same(s, &key);
	/* Same generation after the comparison: it was that descriptor we
	 * compared (an observed one is named for this moment only). */
	if (at >= 0 && ((g1 & KT_GEN_OBSERVED) ||
			atomic_load_explicit(&table[fd].gen, memory_order_acquire) == g1)) {
		emit_same(s, &s->sorted[at], pid, start, fd, g1);
		mark_linked(s, (size_t)at);
	}
	return 0;
}

static void note_denied(struct snapshot *s, pid_t pid)
{
	kt_snap_note(s, "cannot compare with process", pid, ": permission denied");
}

/* Link what of ours shares a description with what process (pid, start)
 * holds, by its table (cap entries). A traced image's table names every
 * descriptor the shim saw it make, the only ones compared: walked without
 * listing /proc/PID/fd (four calls). An untraced image's descriptors are
 * listed: it is observed from outside. */
static void compare_table(struct snapshot *s, pid_t pid, unsigned long long start,
			  const struct kt_fd_entry *table, size_t cap)
{
	bool untraced = kt_table_is_untraced(table);
	if (!untraced && s->group_of && s->unlinked == 0)
		return; /* nothing of ours left to link */
	long n = 0;
	if (untraced) {
		n = kt_proc_list_all(pid, &s->others);
		if (n == -EACCES || n == -EPERM)
			note_denied(s, pid);
	}
	if ((untraced && n <= 0) || !other_alive(s, pid, start))
		return;
	s->live++;
	if (untraced) {
		for (long i = 0; i < n; i++)
			if ((size_t)s->others.fds[i] < cap)
				link_one(s, pid, start, table, true, s->others.fds[i]);
		return;
	}
	/* kcmp refused for that process (set-id, another user's): said as
	 * a permission the report explains, not as failed comparisons. */
	struct kt_group_stats before = s->stats;
	const struct kt_table_header *h = kt_table_header_of(table);
	size_t end = kt_table_used_end(h, cap);
	for (size_t fd = kt_table_next_used(h, 0, end); fd < end; fd = kt_table_next_used(h, fd + 1, end)) {
		struct kt_group_stats was = s->stats;
		/* Its file unknown to its table and /proc/PID/fd closed to us: as
		 * denied as kcmp would be. */
		if (link_one(s, pid, start, table, false, (int)fd) < 0) {
			note_denied(s, pid);
			break;
		}
		if (s->stats.kcmp_errors == was.kcmp_errors)
			continue;
		int err = s->stats.last_error;
		if (err == -EBADF || err == -EPERM || err == -EACCES) {
			/* EBADF: closed where the shim could not see (or meanwhile),
			 * nothing to compare, as if it had not been listed. */
			unsigned long calls = s->stats.kcmp_calls;
			s->stats = err == -EBADF ? was : before;
			s->stats.kcmp_calls = calls;
		}
		if (err == -EPERM || err == -EACCES) {
			note_denied(s, pid);
			break;
		}
	}
}

/* Compare with one other live traced process: our parent's table through
 * the mapping kept since our fork, any other's mapped by its name. */
static void compare_with(struct snapshot *s, pid_t pid, unsigned long long start)
{
	size_t cap = 0;
	const struct kt_fd_entry *table = kt_table_parent_view(pid, start, &cap);
	if (table) {
		compare_table(s, pid, start, table, cap);
		return;
	}
	if ((table = kt_table_map_other(pid, start, &cap))) {
		compare_table(s, pid, start, table, cap);
		kt_table_unmap(table, cap);
	}
}

/* The other live tables, listed once: the parent's is compared first,
 * the likeliest holder of what we hold, so that most of the others need
 * no comparison at all (cost linear, not quadratic, in the processes alive
 * at once). The tables marked untraced (tracedir.h) are looked at in any
 * case: their images' descriptors are observed from outside. */
struct live_table {
	pid_t pid;
	unsigned long long start;
	bool marked;
};

struct live_list {
	struct kt_arena *arena;
	struct live_table *t, marks[32];
	size_t n, cap, n_marks;
	bool incomplete; /* a table or a mark could not be kept */
};

static int list_live(pid_t pid, unsigned long long start, bool untraced_mark, void *ctx)
{
	struct live_list *l = ctx;
	if (untraced_mark) {
		if (l->n_marks == sizeof l->marks / sizeof l->marks[0])
			return l->incomplete = true, 0;
		l->marks[l->n_marks++] = (struct live_table){pid, start, true};
		return 0;
	}
	if (pid == kt_self.pid && start == kt_self.start)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct live_table *t = kt_arena_alloc(l->arena, cap * sizeof *t);
		if (!t)
			return l->incomplete = true, 1;
		if (l->n)
			memcpy(t, l->t, l->n * sizeof *t);
		l->t = t;
		l->cap = cap;
	}
	l->t[l->n++] = (struct live_table){pid, start, false};
	return 0;
}

static void apply_marks(struct live_list *l)
{
	for (size_t m = 0; m < l->n_marks; m++)
		for (size_t i = 0; i < l->n; i++)
			if (l->t[i].pid == l->marks[m].pid && l->t[i].start == l->marks[m].start)
				l->t[i].marked = true;
}

void kt_snap_group_across(struct snapshot *s)
{
	s->others = KT_ARENA_FD_LIST(&s->arena);
	s->others.cap = 1024;
	pid_t parent = s->parent_now = (pid_t)kt_syscall(SYS_getppid);
	/* Our parent by the name its table has, before any listing: when it
	 * holds all we hold and no image of the trace ever ran untraced,
	 * there is nobody else to look at (four calls fewer per snapshot). */
	bool parent_done = false;
	if (s->group_of && parent == kt_self.ppid && kt_self.parent_start != 0) {
		compare_with(s, parent, kt_self.parent_start);
		parent_done = true;
		/* What the parent let go, its latest other children may still
		 * hold (the same inheritance): one of them links it, and no
		 * listing of thousands of live siblings is needed. */
		struct kt_pid_start_pair sib[KT_TABLE_RECENT_CHILDREN];
		size_t nsib = s->unlinked > 0 ? kt_table_parent_recent_children(parent, kt_self.parent_start, sib,
										  KT_TABLE_RECENT_CHILDREN)
					       : 0;
		for (size_t i = 0; i < nsib && s->unlinked > 0; i++)
			if (sib[i].pid != kt_self.pid || sib[i].start != kt_self.start)
				compare_with(s, sib[i].pid, sib[i].start);
		if (s->unlinked == 0 && !kt_trace_untraced_seen(kt_self.dir))
			return;
	}
	struct live_list l = {.arena = &s->arena};
	kt_trace_each_live(kt_self.dir, list_live, &l);
	apply_marks(&l);
	if (l.incomplete)
		s->group_of = NULL; /* no early end: look at every table listed */
	for (size_t i = 0; i < l.n && !parent_done; i++)
		if (l.t[i].pid == parent)
			compare_with(s, l.t[i].pid, l.t[i].start);
	for (size_t i = 0; i < l.n; i++)
		if (l.t[i].pid != parent && (l.t[i].marked || !s->group_of || s->unlinked > 0))
			compare_with(s, l.t[i].pid, l.t[i].start);
}

