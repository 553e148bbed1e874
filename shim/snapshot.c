/* The snapshot a process takes of its descriptors when it ends or execs:
 * each open descriptor with its origin, and kcmp's verdict on which of them
 * share an open file description with each other and with the descriptors
 * of every other live traced process. Written as one record (record.h). */
#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"
#include "tracedir.h"

#include <dirent.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct snap_fd {
	int fd;
	uint32_t gen;
	enum kt_fd_type type;
	int access, cloexec;
	char *target;
	char *site;
	struct kt_fd_entry entry;
};

struct snapshot {
	struct kt_arena arena;
	struct snap_fd *fds;
	size_t n;
	struct kt_desc *sorted; /* this process's descriptors in kcmp order */
	size_t *sorted_pos;     /* fds[i] is sorted[sorted_pos[i]] */
	/* One description of ours needs one `same` line to one other live
	 * holder: that holder ends later, and its own snapshot links it on
	 * (each holder links to one that outlives it, so all are joined). */
	size_t *group_of;       /* sorted[j]'s description: its first index */
	unsigned char *linked;  /* by first index: linked to another process */
	size_t unlinked;        /* descriptions not linked yet */
	struct kt_group_stats stats;
	struct kt_buf out;
	struct kt_fd_list others; /* room to list other processes' descriptors */
	/* The callers of a creating call, as "stack" writes them. */
	char (*stack_text)[KT_SITE_TEXT];
	char *stack_sites[KT_STACK_MAX];
	unsigned long live;
	int kcmp_error; /* 0 when kcmp works */
};

static char *arena_strdup(struct kt_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = kt_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

KT_RACY static int collect(struct snapshot *s)
{
	struct kt_fd_list own = KT_ARENA_FD_LIST(&s->arena);
	long listed = kt_proc_list_all(0, &own);
	if (listed < 0)
		return (int)listed;
	size_t n = (size_t)listed;
	const int *fds = own.fds;
	s->fds = kt_arena_alloc(&s->arena, (n + 1) * sizeof *s->fds);
	s->sorted = kt_arena_alloc(&s->arena, (n + 1) * sizeof *s->sorted);
	if (!s->fds || !s->sorted)
		return -ENOMEM;
	/* 4 KiB: in the arena, not on the stack of an exit path, and not a
	 * static that two threads' exec snapshots would share. */
	struct kt_fd_info *info = kt_arena_alloc(&s->arena, sizeof *info);
	char site[KT_SITE_TEXT];
	if (!info)
		return -ENOMEM;
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i];
		if (kt_fd_describe(0, fd, info) < 0)
			continue; /* closed meanwhile by another thread */
		struct kt_fd_entry *e = kt_table_entry(fd);
		uint32_t gen = e ? atomic_load(&e->gen) : 0;
		if (e && !kt_entry_current(e, gen, info->dev, info->ino)) {
			/* Open, but the shim never saw it made. */
			struct kt_fd_entry v;
			memset(&v, 0, sizeof v);
			v.how = KT_HOW_UNKNOWN;
			v.src_fd = -1;
			v.cloexec = info->cloexec > 0;
			gen = (gen + 2) & ~1u;
			kt_table_adopt(fd, &v, gen);
		}
		struct snap_fd *f = &s->fds[s->n];
		f->fd = fd;
		f->gen = gen;
		f->type = info->type;
		f->access = info->access;
		f->cloexec = info->cloexec;
		f->target = arena_strdup(&s->arena, info->target);
		if (e)
			memcpy(&f->entry, e, sizeof f->entry);
		else {
			memset(&f->entry, 0, sizeof f->entry);
			f->entry.how = KT_HOW_UNKNOWN;
			f->entry.src_fd = -1;
		}
		kt_site_format(f->entry.site, site, sizeof site);
		f->site = arena_strdup(&s->arena, site);
		if (!f->target || !f->site)
			return -ENOMEM;
		s->sorted[s->n] = (struct kt_desc){.pid = kt_self.pid, .fd = fd, .dev = info->dev,
						   .ino = info->ino, .gen = gen, .index = (uint32_t)s->n};
		s->n++;
	}
	return 0;
}

static void emit_same(struct snapshot *s, const struct kt_desc *mine, pid_t pid,
		      unsigned long long start, int fd2, uint32_t gen2)
{
	kt_rec_put_same(&s->out, &(struct kt_rec_same){mine->fd, mine->gen, pid, start, fd2, gen2});
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

static void note(struct snapshot *s, const char *a, long num, const char *c)
{
	char text[256];
	struct kt_buf t = {text, 0, sizeof text - 1, 0};
	kt_buf_str(&t, a);
	if (num >= 0)
		kt_buf_unum(&t, (unsigned long long)num); /* after a space: its TAB, below */
	kt_buf_str(&t, c);
	text[t.len] = '\0';
	for (char *p = text; *p; p++)
		if (*p == '\t')
			*p = ' ';
	kt_rec_put_note(&s->out, text);
}

static void inode_range(const struct snapshot *s, uint64_t dev, uint64_t ino, size_t *lo, size_t *hi);

/* Within this process: sort, then adjacent equal descriptors share. */
static void group_own(struct snapshot *s)
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
	kt_desc_sort(s->sorted, s->n, scratch, &s->stats);
	s->sorted_pos = kt_arena_alloc(&s->arena, (s->n + 1) * sizeof *s->sorted_pos);
	if (s->sorted_pos)
		for (size_t j = 0; j < s->n; j++)
			s->sorted_pos[s->sorted[j].index] = j;
	unsigned char *equal_to_previous = kt_arena_alloc(&s->arena, s->n + 1);
	for (size_t i = 1; i < s->n; i++) {
		const struct kt_desc *a = &s->sorted[i - 1], *b = &s->sorted[i];
		bool same = a->dev == b->dev && a->ino == b->ino && kt_desc_compare(a, b, &s->stats) == 0;
		if (same)
			emit_same(s, b, kt_self.pid, kt_self.start, a->fd, a->gen);
		if (equal_to_previous)
			equal_to_previous[i] = same;
	}
	if (equal_to_previous)
		number_groups(s, equal_to_previous);
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
	if (!info || kt_fd_describe(pid, fd, info) != 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	kt_rec_put_observed(&s->out, &(struct kt_rec_observed){
		.pid = pid, .start = start, .fd = fd, .gen = gen, .type = info->type,
		.target = info->target, .access = info->access, .cloexec = info->cloexec > 0,
		.time = (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec});
}

/* Compare with one other live traced process. */
static void compare_with(struct snapshot *s, pid_t pid, unsigned long long start)
{
	size_t cap = 0;
	const struct kt_fd_entry *table = kt_table_map_other(pid, start, &cap);
	if (!table)
		return;
	int untraced = kt_table_is_untraced(table);
	if (!untraced && s->group_of && s->unlinked == 0) {
		kt_table_unmap(table); /* nothing of ours left to link */
		return;
	}
	long n = kt_proc_list_all(pid, &s->others);
	if (n == -EACCES || n == -EPERM)
		note(s, "cannot compare with process", pid, ": permission denied");
	if (n <= 0 || !kt_proc_alive(pid, start)) {
		kt_table_unmap(table);
		return;
	}
	s->live++;
	for (long i = 0; i < n; i++) {
		int fd = s->others.fds[i];
		if ((size_t)fd >= cap)
			continue;
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
			continue; /* closed, changing, or made where the shim could not see */
		}
		if (have_inode) {
			/* read above */
		} else if (!(g1 & KT_GEN_OBSERVED) &&
			   atomic_load_explicit(&table[fd].ino_gen, memory_order_acquire) == g1) {
			key.dev = table[fd].dev;
			key.ino = table[fd].ino;
		} else if (kt_fd_inode(pid, fd, &key.dev, &key.ino) < 0) {
			continue;
		}
		if (!untraced && inode_linked(s, key.dev, key.ino))
			continue; /* nothing of ours to link (or none of this inode) */
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
	}
	kt_table_unmap(table);
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

static void group_across(struct snapshot *s)
{
	s->others = KT_ARENA_FD_LIST(&s->arena);
	s->others.cap = 1024;
	struct live_list l = {.arena = &s->arena};
	kt_trace_each_live(kt_self.dir, list_live, &l);
	apply_marks(&l);
	if (l.incomplete)
		s->group_of = NULL; /* no early end: look at every table listed */
	pid_t parent = (pid_t)kt_syscall(SYS_getppid);
	for (size_t i = 0; i < l.n; i++)
		if (l.t[i].pid == parent)
			compare_with(s, l.t[i].pid, l.t[i].start);
	for (size_t i = 0; i < l.n; i++)
		if (l.t[i].pid != parent && (l.t[i].marked || !s->group_of || s->unlinked > 0))
			compare_with(s, l.t[i].pid, l.t[i].start);
}

/* The prior image's record of a descriptor kept across the exec into this
 * one (same number and generation), or NULL. */
static const struct kt_rec_fd *prior_record(int fd, uint32_t gen)
{
	for (size_t i = 0; i < kt_prior_count; i++)
		if (kt_prior[i].fd == fd && kt_prior[i].gen == gen)
			return &kt_prior[i];
	return NULL;
}

/* A descriptor kept across the exec into this image: how it was made
 * before, as the earlier image wrote it. */
static void origin_before_exec(struct kt_rec_fd *r)
{
	const struct kt_rec_fd *before = prior_record(r->fd, (uint32_t)r->gen);
	r->call = before ? before->call : KT_CALL_NONE;
	r->site = before ? before->site : NULL;
	r->src_pid = before ? before->src_pid : 0;
	r->src_start = before ? before->src_start : 0;
	r->src_fd = before ? before->src_fd : -1;
	r->src_gen = before ? before->src_gen : 0;
}

/* Closed records (record.h "closed") stop when less than this is left of
 * the snapshot's buffer: what follows them must fit. */
#define CLOSED_ROOM_KEPT ((size_t)16 << 20)

/* The descriptor a dup's chain of dups started from, opened in this image
 * (table.h root_*), as a closed record when it is closed now: the one link
 * a reused number would otherwise lose. A root the table writes itself
 * (its number's last generation, closed) is left to emit_closed. */
KT_RACY static void put_root(struct snapshot *s, const struct kt_fd_entry *e)
{
	const struct kt_fd_entry *t = atomic_load_explicit(&kt_table, memory_order_acquire);
	if (!t || e->how != KT_HOW_DUP || e->root_fd_plus1 <= 0 ||
	    (uint32_t)e->root_fd_plus1 > kt_table_header_of(t)->capacity ||
	    s->out.cap - s->out.len < CLOSED_ROOM_KEPT)
		return;
	int fd = e->root_fd_plus1 - 1;
	uint32_t now = atomic_load_explicit(&t[fd].gen, memory_order_acquire);
	if ((now & ~1u) == e->root_gen)
		return; /* open, or the table's closed generation */
	char site[KT_SITE_TEXT];
	kt_site_format(e->root_site, site, sizeof site);
	kt_rec_put_closed(&s->out, &(struct kt_rec_fd){
		.fd = fd, .gen = e->root_gen, .type = KT_FD_UNKNOWN, .access = KT_ACCESS_UNKNOWN,
		.how = KT_HOW_OPEN, .call = (int)e->root_call, .src_fd = -1, .site = site});
}

static void emit_fd(struct snapshot *s, const struct snap_fd *f)
{
	const struct kt_fd_entry *e = &f->entry;
	struct kt_rec_fd r;
	kt_table_record_fd(&r, f->fd, f->gen, f->type, f->target, f->access, f->cloexec, e, f->site);
	if (e->how == KT_HOW_EXEC)
		origin_before_exec(&r);
	kt_rec_put_fd(&s->out, &r);
	put_root(s, e);
	/* Callers of the creating call, for descriptors made in this image. */
	if (e->how != KT_HOW_EXEC && e->how != KT_HOW_INHERITED && e->site && e->stack[0] &&
	    s->stack_text) {
		int n = 0;
		while (n < KT_STACK_MAX && e->stack[n]) {
			kt_site_format(e->stack[n], s->stack_text[n], KT_SITE_TEXT);
			n++;
		}
		kt_rec_put_stack(&s->out, &(struct kt_rec_stack){f->fd, f->gen, n,
							    (const char *const *)s->stack_sites});
	}
}

/* A closed descriptor worth a record: a copy of another (a dup, an
 * inheritance, one kept across exec or received), or made here and copied
 * since (the call that made what its copies hold). */
static bool closed_worth(const struct kt_rec_fd *r, const struct kt_fd_entry *e)
{
	return kt_rec_fd_source(r) || (e->how == KT_HOW_OPEN && (e->flags & KT_ENTRY_COPIED));
}

/* Write closed generation gen of fd as its entry e tells it; false when
 * there was no room. */
static bool put_closed(struct snapshot *s, int fd, uint32_t gen, const struct kt_fd_entry *e)
{
	char site[KT_SITE_TEXT] = "";
	struct kt_rec_fd r;
	kt_table_record_fd(&r, fd, gen, KT_FD_UNKNOWN, NULL, KT_ACCESS_UNKNOWN, 0, e, site);
	if (e->how == KT_HOW_EXEC)
		origin_before_exec(&r);
	if (!closed_worth(&r, e))
		return true;
	if (s->out.cap - s->out.len < CLOSED_ROOM_KEPT)
		return false;
	if (e->how != KT_HOW_EXEC) /* else the earlier image's site */
		kt_site_format(e->site, site, sizeof site);
	kt_rec_put_closed(&s->out, &r);
	put_root(s, e);
	return true;
}

/* Whether ring slot i names what the table still holds for its number
 * (written from the table, or open again after a failed dup2), or what a
 * later slot names too. */
KT_RACY static bool ring_repeats(const struct kt_fd_entry *t, size_t cap, size_t i, int fd,
				 uint32_t gen)
{
	if ((size_t)fd < cap && (atomic_load(&t[fd].gen) & ~1u) == gen)
		return true;
	for (size_t j = i + 1; j < KT_CLOSED_RING; j++)
		if (kt_closed_names(j, fd, gen))
			return true;
	return false;
}

/* The descriptors this process closed that are links of a chain (see
 * closed_worth): each number's last generation from the table, and earlier
 * generations of reused numbers from the ring of recent closes
 * (closed_ring.c). Each entry is read twice: one a hook is rewriting
 * meanwhile is not taken. */
KT_RACY static void emit_closed(struct snapshot *s)
{
	const struct kt_fd_entry *t = atomic_load_explicit(&kt_table, memory_order_acquire);
	if (!t)
		return;
	const struct kt_table_header *h = kt_table_header_of(t);
	size_t end = atomic_load(&h->max_fd_plus_one), skipped = 0;
	for (size_t fd = 0; fd < end && fd < h->capacity; fd++) {
		uint32_t gen = atomic_load_explicit(&t[fd].gen, memory_order_acquire);
		struct kt_fd_entry a, b;
		if (!(gen & 1u) || gen == 1u)
			continue;
		memcpy(&a, &t[fd], sizeof a);
		memcpy(&b, &t[fd], sizeof b);
		if (memcmp(&a, &b, sizeof a) != 0 || atomic_load(&t[fd].gen) != gen)
			continue;
		skipped += !put_closed(s, (int)fd, gen & ~1u, &a);
	}
	for (size_t i = 0; i < KT_CLOSED_RING; i++) {
		struct kt_fd_entry e;
		int fd;
		uint32_t gen;
		if (kt_closed_get(i, &fd, &gen, &e) && !ring_repeats(t, h->capacity, i, fd, gen))
			skipped += !put_closed(s, fd, gen, &e);
	}
	if (skipped)
		note(s, "and", (long)skipped, " more closed descriptors not written (no room)");
}

static void event_line(struct kt_buf *b, enum kt_event_kind kind, int fd, uint32_t gen, long long a1,
		       long long a2, uint64_t site)
{
	char where[KT_SITE_TEXT];
	kt_site_format(site, where, sizeof where);
	kt_rec_put_event(b, &(struct kt_rec_event){.kind = kind, .fd = fd, .gen = gen, .arg1 = a1,
						   .arg2 = a2, .site = where});
}

/* A close-ebadf event, with the sites of the open and of the close before. */
static void bad_close_line(struct kt_buf *b, const struct kt_bad_close *bad)
{
	char at[3][KT_SITE_TEXT];
	const uint64_t sites[3] = {bad->site, bad->opened_site, bad->closed_site};
	for (int i = 0; i < 3; i++)
		kt_site_format(sites[i], at[i], sizeof at[i]);
	kt_rec_put_event(b, &(struct kt_rec_event){
				    .kind = KT_EVENT_CLOSE_EBADF, .fd = bad->fd, .gen = 0,
				    .arg1 = bad->gen, .arg2 = bad->flags, .site = at[0],
				    .opened_site = bad->opened_site ? at[1] : NULL,
				    .closed_call = kt_close_call_name((enum kt_close_call)bad->closed_call),
				    .closed_site = bad->closed_site ? at[2] : NULL});
}

static const struct snap_fd *own_fd(const struct snapshot *s, int fd)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->fds[mid].fd == fd)
			return &s->fds[mid];
		if (s->fds[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Both ends of one socketpair still here: the report can tell a process
 * that keeps the end it handed to another (pipe-end-held). */
static void emit_peers(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_fd *a = &s->fds[i];
		const struct snap_fd *b = a->entry.peer_plus1 > 0 ? own_fd(s, a->entry.peer_plus1 - 1) : NULL;
		if (!b || b->fd <= a->fd || b->entry.peer_plus1 != a->fd + 1)
			continue;
		kt_rec_put_peer(&s->out, &(struct kt_rec_peer){a->fd, a->gen, b->fd, b->gen});
	}
}

/* What the hooks noted for findings since the last snapshot. */
static void emit_events(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct snap_fd *f = &s->fds[i];
		const struct kt_fd_entry *e = &f->entry;
		if (e->event_gen != f->gen)
			continue;
		if (e->setfl_site)
			event_line(&s->out, KT_EVENT_SETFL, f->fd, f->gen, e->setfl_before, e->setfl_after,
				   e->setfl_site);
		if (e->setfd_site)
			event_line(&s->out, KT_EVENT_SETFD, f->fd, f->gen, 0, 0, e->setfd_site);
		if (e->lock_op >= 100)
			event_line(&s->out, KT_EVENT_OFD_LOCK, f->fd, f->gen, e->lock_op - 100, 0, e->lock_site);
		else if (e->lock_op)
			event_line(&s->out, KT_EVENT_FLOCK, f->fd, f->gen, e->lock_op, 0, e->lock_site);
	}
	unsigned count = atomic_exchange(&kt_bad_close_count, 0);
	for (unsigned i = 0; i < count && i < KT_BAD_CLOSE_RING; i++)
		bad_close_line(&s->out, &kt_bad_closes[i]);
	if (count > KT_BAD_CLOSE_RING)
		note(s, "and", count - KT_BAD_CLOSE_RING, " more closes of descriptors already closed");
	struct kt_unopened_closes *u = &kt_unopened_closes;
	unsigned unopened = atomic_exchange(&u->count, 0);
	if (unopened)
		event_line(&s->out, KT_EVENT_CLOSE_UNOPENED, atomic_load(&u->lowest), 0, unopened,
			   atomic_load(&u->highest), atomic_load(&u->site));
	unsigned minus_one = atomic_exchange(&kt_minus_one_closes.count, 0);
	if (minus_one)
		event_line(&s->out, KT_EVENT_CLOSE_MINUS_ONE, -1, 0, minus_one, 0,
			   atomic_load(&kt_minus_one_closes.site));
}

static void stat_line(struct kt_buf *b, const char *name, unsigned long long v)
{
	kt_rec_put_stat(b, &(struct kt_rec_stat){name, v});
}

int kt_snapshot(enum kt_snap_why why, int status, const struct kt_rec_untraced *untraced)
{
	struct snapshot s;
	struct timespec t0, t1;
	memset(&s, 0, sizeof s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = collect(&s);
	if (r < 0) {
		kt_shim_warn("cannot take a snapshot of the descriptors;", "the trace of this process is incomplete", 0);
		kt_arena_release(&s.arena);
		return r;
	}
	size_t cap = ((size_t)64 << 20) + s.n * 2048;
	for (size_t i = 0; i < s.n; i++)
		cap += 4 * (strlen(s.fds[i].target) + strlen(s.fds[i].site));
	char *out = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (out == MAP_FAILED) {
		kt_arena_release(&s.arena);
		return -ENOMEM;
	}
	s.out = (struct kt_buf){out, 0, cap, 0};
	s.kcmp_error = kt_kcmp_probe(s.n ? s.fds[0].fd : -1);
	if (kt_stack_depth > 1 && (s.stack_text = kt_arena_alloc(&s.arena, sizeof(char[KT_STACK_MAX][KT_SITE_TEXT]))))
		for (int i = 0; i < KT_STACK_MAX; i++)
			s.stack_sites[i] = s.stack_text[i];

	kt_rec_put_snap(&s.out, &(struct kt_rec_snap){why, status, -s.kcmp_error});
	for (size_t i = 0; i < s.n; i++)
		emit_fd(&s, &s.fds[i]);
	emit_closed(&s);
	emit_peers(&s);
	group_own(&s);
	if (!s.kcmp_error)
		group_across(&s);
	if (s.stats.kcmp_errors)
		note(&s, "kcmp failed on some comparisons; errno", -s.stats.first_error, "");

	clock_gettime(CLOCK_MONOTONIC, &t1);
	stat_line(&s.out, "snapshot_us",
		  (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000));
	stat_line(&s.out, "kcmp_calls", s.stats.kcmp_calls);
	stat_line(&s.out, "live_processes", s.live);
	kt_rec_put_end(&s.out);
	emit_events(&s);
	if (untraced)
		kt_rec_put_untraced(&s.out, untraced);
	r = s.out.overflow ? -ENOMEM : kt_write_record(s.out.data, s.out.len);
	if (r < 0)
		kt_shim_warn("cannot write the trace in", kt_self.dir, -r);
	munmap(out, cap);
	kt_arena_release(&s.arena);
	return r;
}
