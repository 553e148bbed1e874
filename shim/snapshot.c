/* The snapshot a process takes of its descriptors when it ends or execs:
 * each open descriptor with its origin, and kcmp's verdict on which of them
 * share an open file description with each other and with the descriptors
 * of every other live traced process. Written as one record (record.h). */
#include "snapshot_impl.h"
#include "sockaddr.h"
#include "sys.h"
#include "tracedir.h"

#include <dirent.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>


/* Room left before each record for the longest line: a stack of sites,
 * each escaped. The buffer starts at what the descriptors need, about, in
 * the arena, and doubles (a larger piece of the arena, the text copied).
 * When it cannot, the record overflows, all or nothing. */
#define LINE_ROOM ((size_t)(KT_STACK_MAX + 2) * 4 * KT_SITE_TEXT + 4096)

struct kt_buf *kt_snap_out(struct snapshot *s)
{
	struct kt_buf *b = &s->out;
	if (b->overflow || b->cap - b->len >= LINE_ROOM)
		return b;
	size_t cap = b->cap * 2;
	while (cap - b->len < LINE_ROOM)
		cap *= 2;
	char *p = kt_arena_alloc(&s->arena, cap);
	if (p) {
		memcpy(p, b->data, b->len);
		b->data = p;
		b->cap = cap;
	}
	return b;
}

static char *arena_strdup(struct kt_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = kt_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* The addresses of socket f (record.h "addr"), asked of the kernel here,
 * at snapshot time only; false when out of memory. A socket whose calls
 * fail (a sandbox, closed meanwhile) has none. */
static bool take_address(struct snapshot *s, struct snap_fd *f, struct kt_sock_address **scratch)
{
	if (!*scratch && !(*scratch = kt_arena_alloc(&s->arena, sizeof **scratch)))
		return false;
	struct kt_sock_address *a = *scratch;
	if (kt_sock_address(f->fd, a) < 0)
		return true;
	f->has_addr = true;
	f->listening = a->listening;
	f->local = a->has_local ? arena_strdup(&s->arena, a->local) : NULL;
	f->peer = a->has_peer ? arena_strdup(&s->arena, a->peer) : NULL;
	return (!a->has_local || f->local) && (!a->has_peer || f->peer);
}

/* Describe our descriptor fd, its access mode taken from its entry e when
 * the entry knows the file it holds (its inode) and how it was opened:
 * one F_GETFL fewer per descriptor. */
KT_RACY static int describe_own(int fd, struct kt_fd_info *info, const struct kt_fd_entry *e,
			       struct kt_fd_known *known)
{
	uint32_t gen = e ? atomic_load(&e->gen) : 0;
	if (!e || !gen || (gen & 1u) || atomic_load(&e->ino_gen) != gen || e->made_access < 1 ||
	    e->made_access > 4)
		return kt_fd_describe(0, fd, info);
	/* The path kept whole, when it is a target read before. */
	const char *target = e->made_path_is_target && e->path_len > 0 && e->path_len < KT_ENTRY_PATH
				     ? e->path
				     : NULL;
	*known = (struct kt_fd_known){e->dev, e->ino, e->made_access - 1, target};
	return kt_fd_describe_known(0, fd, info, known);
}

KT_RACY static int collect(struct snapshot *s)
{
	struct kt_fd_list own = KT_ARENA_FD_LIST(&s->arena);
	long listed = kt_proc_list_all(0, &own);
	if (listed < 0)
		return (int)listed;
	size_t n = (size_t)listed;
	const int *fds = own.fds;
	kt_fd_numbers_of(&s->listed, fds, n);
	s->fds = kt_arena_alloc(&s->arena, (n + 1) * sizeof *s->fds);
	s->sorted = kt_arena_alloc(&s->arena, (n + 1) * sizeof *s->sorted);
	if (!s->fds || !s->sorted)
		return -ENOMEM;
	/* 4 KiB: in the arena, not on the stack of an exit path, and not a
	 * static that two threads' exec snapshots would share. */
	struct kt_fd_info *info = kt_arena_alloc(&s->arena, sizeof *info);
	char site[KT_SITE_TEXT];
	struct kt_sock_address *address = NULL; /* taken at the first socket */
	if (!info)
		return -ENOMEM;
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i];
		struct kt_fd_entry *e = kt_table_entry(fd);
		struct kt_fd_known known;
		if (describe_own(fd, info, e, &known) < 0 || info->access == KT_ACCESS_UNKNOWN)
			continue; /* closed meanwhile by another thread */
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
		f->has_addr = false;
		if (info->type == KT_FD_SOCKET && !take_address(s, f, &address))
			return -ENOMEM;
		s->sorted[s->n] = (struct kt_desc){.pid = kt_self.pid, .fd = fd, .dev = info->dev,
						   .ino = info->ino, .gen = gen, .index = (uint32_t)s->n};
		s->n++;
	}
	return 0;
}

void kt_snap_note(struct snapshot *s, const char *a, long num, const char *c)
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
	kt_rec_put_note(kt_snap_out(s), text);
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

/* Closed records (record.h "closed") are the one part a snapshot can do
 * without: when the buffer cannot grow for one, they stop there. */
static bool put_optional_closed(struct snapshot *s, const struct kt_rec_fd *r)
{
	if (s->closed_stopped)
		return false;
	size_t len = s->out.len;
	kt_rec_put_closed(kt_snap_out(s), r);
	if (s->out.overflow) {
		s->out.overflow = 0;
		s->out.len = len;
		s->closed_stopped = true;
	}
	return !s->closed_stopped;
}

/* The descriptor a dup's chain of dups started from, opened in this image
 * (table.h root_*), as a closed record when it is closed now: the one link
 * a reused number would otherwise lose. A root the table writes itself
 * (its number's last generation, closed) is left to emit_closed. */
KT_RACY static void put_root(struct snapshot *s, const struct kt_fd_entry *e)
{
	uint32_t cap;
	const struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t || e->how != KT_HOW_DUP || e->root_fd_plus1 <= 0 || (uint32_t)e->root_fd_plus1 > cap)
		return;
	int fd = e->root_fd_plus1 - 1;
	uint32_t now = atomic_load_explicit(&t[fd].gen, memory_order_acquire);
	if ((now & ~1u) == e->root_gen)
		return; /* open, or the table's closed generation */
	char site[KT_SITE_TEXT];
	kt_site_format(e->root_site, site, sizeof site);
	put_optional_closed(s, &(struct kt_rec_fd){
		.fd = fd, .gen = e->root_gen, .type = KT_FD_UNKNOWN, .access = KT_ACCESS_UNKNOWN,
		.how = KT_HOW_OPEN, .call = (int)e->root_call, .src_fd = -1, .site = site});
}

/* The file of a descriptor passed over a socket, sent or received with no
 * sender's descriptor found (record.h "ino"), when the entry has it. */
static void put_ino(struct snapshot *s, int fd, uint32_t gen, const struct kt_fd_entry *e)
{
	bool sent = e->flags & KT_ENTRY_SENT;
	bool unmatched = e->how == KT_HOW_RECEIVED && e->src_fd < 0;
	if ((sent || unmatched) && atomic_load_explicit(&e->ino_gen, memory_order_relaxed) == gen)
		kt_rec_put_ino(kt_snap_out(s), &(struct kt_rec_ino){fd, gen, e->dev, e->ino, sent});
}

static void emit_fd(struct snapshot *s, const struct snap_fd *f)
{
	const struct kt_fd_entry *e = &f->entry;
	struct kt_rec_fd r;
	kt_table_record_fd(&r, f->fd, f->gen, f->type, f->target, f->access, f->cloexec, e, f->site);
	if (e->how == KT_HOW_EXEC)
		origin_before_exec(&r);
	kt_rec_put_fd(kt_snap_out(s), &r);
	if (f->has_addr)
		kt_rec_put_addr(kt_snap_out(s), &(struct kt_rec_addr){f->fd, f->gen, f->local, f->peer,
								      f->listening});
	put_ino(s, f->fd, f->gen, e);
	put_root(s, e);
	/* Callers of the creating call, for descriptors made in this image. */
	if (e->how != KT_HOW_EXEC && e->how != KT_HOW_INHERITED && e->site && e->stack[0] &&
	    s->stack_text) {
		int n = 0;
		while (n < KT_STACK_MAX && e->stack[n]) {
			kt_site_format(e->stack[n], s->stack_text[n], KT_SITE_TEXT);
			n++;
		}
		kt_rec_put_stack(kt_snap_out(s), &(struct kt_rec_stack){f->fd, f->gen, n,
							    (const char *const *)s->stack_sites});
	}
}

/* A closed descriptor worth a record: a copy of another (a dup, an
 * inheritance, one kept across exec or received), or made here and copied
 * since (the call that made what its copies hold). */
static bool closed_worth(const struct kt_rec_fd *r, const struct kt_fd_entry *e)
{
	return kt_rec_fd_source(r) || (e->how == KT_HOW_OPEN && (e->flags & KT_ENTRY_COPIED)) ||
	       (e->flags & KT_ENTRY_SENT);
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
	if (s->closed_stopped)
		return false;
	if (e->how != KT_HOW_EXEC) /* else the earlier image's site */
		kt_site_format(e->site, site, sizeof site);
	if (!put_optional_closed(s, &r))
		return false;
	size_t len = s->out.len;
	put_ino(s, fd, gen, e);
	if (s->out.overflow) { /* optional as the closed record is */
		s->out.overflow = 0;
		s->out.len = len;
		s->closed_stopped = true;
		return false;
	}
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
	for (size_t j = i + 1, used = kt_closed_ring_used(); j < used; j++)
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
	uint32_t cap;
	const struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t)
		return;
	const struct kt_table_header *h = kt_table_header_of(t);
	size_t end = kt_table_used_end(h, cap), skipped = 0;
	for (size_t fd = kt_table_next_used(h, 0, end); fd < end; fd = kt_table_next_used(h, fd + 1, end)) {
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
	for (size_t i = 0, used = kt_closed_ring_used(); i < used; i++) {
		struct kt_fd_entry e;
		int fd;
		uint32_t gen;
		if (kt_closed_get(i, &fd, &gen, &e) && !ring_repeats(t, cap, i, fd, gen))
			skipped += !put_closed(s, fd, gen, &e);
	}
	/* The log of copied generations (closed_ring.c). */
	for (size_t i = 0, n = kt_closed_log_count(); i < n; i++) {
		struct kt_fd_entry e;
		int fd;
		uint32_t gen;
		if (kt_closed_log_get(i, &fd, &gen, &e) &&
		    !((size_t)fd < cap && (atomic_load(&t[fd].gen) & ~1u) == gen))
			skipped += !put_closed(s, fd, gen, &e);
	}
	unsigned dropped = kt_closed_log_dropped();
	if (dropped)
		kt_snap_note(s, "and", (long)dropped,
			     " more closed descriptors that others were copied from were not kept "
			     "(too many closes): links through them, if any were still needed, are "
			     "unknown");
	if (skipped)
		kt_snap_note(s, "and", (long)skipped, " more closed descriptors not written (no room)");
}

static void event_line(struct kt_buf *b, enum kt_event_kind kind, int fd, uint32_t gen, long long a1,
		       long long a2, uint64_t site)
{
	char where[KT_SITE_TEXT];
	kt_site_format(site, where, sizeof where);
	kt_rec_put_event(b, &(struct kt_rec_event){.kind = kind, .fd = fd, .gen = gen, .arg1 = a1,
						   .arg2 = a2, .site = where});
}

/* A setfl event, with the time of the call (record.h). */
KT_RACY static void setfl_line(struct kt_buf *b, int fd, uint32_t gen, const struct kt_fd_entry *e)
{
	char where[KT_SITE_TEXT];
	kt_site_format(e->setfl_site, where, sizeof where);
	kt_rec_put_event(b, &(struct kt_rec_event){.kind = KT_EVENT_SETFL, .fd = fd, .gen = gen,
						   .arg1 = e->setfl_before, .arg2 = e->setfl_after,
						   .site = where, .time = e->setfl_time});
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

/* A bad-use event, with the sites of the open and of the close before. */
static void bad_use_line(struct kt_buf *b, const struct kt_bad_use *bad)
{
	char at[3][KT_SITE_TEXT];
	const uint64_t sites[3] = {bad->site, bad->opened_site, bad->closed_site};
	for (int i = 0; i < 3; i++)
		kt_site_format(sites[i], at[i], sizeof at[i]);
	kt_rec_put_event(b, &(struct kt_rec_event){
				    .kind = KT_EVENT_BAD_USE, .fd = bad->fd, .gen = 0, .arg1 = bad->gen,
				    .arg2 = bad->call, .site = at[0],
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
		kt_rec_put_peer(kt_snap_out(s), &(struct kt_rec_peer){a->fd, a->gen, b->fd, b->gen});
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
			setfl_line(kt_snap_out(s), f->fd, f->gen, e);
		if (e->setfd_site)
			event_line(kt_snap_out(s), KT_EVENT_SETFD, f->fd, f->gen, 0, 0, e->setfd_site);
		if (e->lock_op >= 100)
			event_line(kt_snap_out(s), KT_EVENT_OFD_LOCK, f->fd, f->gen, e->lock_op - 100, 0, e->lock_site);
		else if (e->lock_op)
			event_line(kt_snap_out(s), KT_EVENT_FLOCK, f->fd, f->gen, e->lock_op, 0, e->lock_site);
	}
	unsigned count = atomic_exchange(&kt_bad_close_count, 0);
	for (unsigned i = 0; i < count && i < KT_BAD_CLOSE_RING; i++)
		bad_close_line(kt_snap_out(s), &kt_bad_closes[i]);
	if (count > KT_BAD_CLOSE_RING)
		kt_snap_note(s, "and", count - KT_BAD_CLOSE_RING, " more closes of descriptors already closed");
	unsigned uses = atomic_exchange(&kt_bad_use_count, 0);
	for (unsigned i = 0; i < uses && i < KT_BAD_USE_RING; i++)
		bad_use_line(kt_snap_out(s), &kt_bad_uses[i]);
	if (uses > KT_BAD_USE_RING)
		kt_snap_note(s, "and", uses - KT_BAD_USE_RING, " more uses of descriptors not open");
	struct kt_unopened_closes *u = &kt_unopened_closes;
	unsigned unopened = atomic_exchange(&u->count, 0);
	if (unopened)
		event_line(kt_snap_out(s), KT_EVENT_CLOSE_UNOPENED, atomic_load(&u->lowest), 0, unopened,
			   atomic_load(&u->highest), atomic_load(&u->site));
	unsigned minus_one = atomic_exchange(&kt_minus_one_closes.count, 0);
	if (minus_one)
		event_line(kt_snap_out(s), KT_EVENT_CLOSE_MINUS_ONE, -1, 0, minus_one, 0,
			   atomic_load(&kt_minus_one_closes.site));
	kt_stdio_events(kt_snap_out(s));
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
	if (r == 0 && why == KT_WHY_EXIT)
		kt_real_end_numbers(&s.listed);
	if (r < 0) {
		kt_shim_warn("cannot take a snapshot of the descriptors;", "the trace of this process is incomplete", 0);
		kt_arena_release(&s.arena);
		return r;
	}
	/* What the descriptors' lines take, about; it grows if that is short. */
	size_t cap = 2 * LINE_ROOM + s.n * 1024;
	for (size_t i = 0; i < s.n; i++)
		cap += 4 * (strlen(s.fds[i].target) + strlen(s.fds[i].site));
	/* In the arena: no mapping of its own to make and unmap (two calls,
	 * and a page fault, per snapshot). */
	char *out = kt_arena_alloc(&s.arena, cap);
	if (!out) {
		kt_shim_warn("cannot take a snapshot of the descriptors (no memory);",
			     "the trace of this process is incomplete", ENOMEM);
		kt_arena_release(&s.arena);
		return -ENOMEM;
	}
	s.out = (struct kt_buf){out, 0, cap, 0};
	s.kcmp_error = kt_kcmp_probe_as(kt_self.pid, s.n ? s.fds[0].fd : -1);
	if (kt_stack_depth > 1 && (s.stack_text = kt_arena_alloc(&s.arena, sizeof(char[KT_STACK_MAX][KT_SITE_TEXT]))))
		for (int i = 0; i < KT_STACK_MAX; i++)
			s.stack_sites[i] = s.stack_text[i];

	kt_rec_put_snap(kt_snap_out(&s), &(struct kt_rec_snap){why, status, -s.kcmp_error,
			(unsigned long long)t0.tv_sec * 1000000000ULL + (unsigned long long)t0.tv_nsec});
	for (size_t i = 0; i < s.n; i++)
		emit_fd(&s, &s.fds[i]);
	emit_closed(&s);
	emit_peers(&s);
	kt_snap_group_own(&s);
	if (!s.kcmp_error)
		kt_snap_group_across(&s);
	if (s.stats.kcmp_errors)
		kt_snap_note(&s, "kcmp failed on some comparisons; errno", -s.stats.first_error, "");

	clock_gettime(CLOCK_MONOTONIC, &t1);
	stat_line(kt_snap_out(&s), "snapshot_us",
		  (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000));
	stat_line(kt_snap_out(&s), "kcmp_calls", s.stats.kcmp_calls);
	stat_line(kt_snap_out(&s), "live_processes", s.live);
	kt_rec_put_end(kt_snap_out(&s));
	emit_events(&s);
	if (untraced)
		kt_rec_put_untraced(kt_snap_out(&s), untraced);
	r = s.out.overflow ? -ENOMEM : kt_write_record(s.out.data, s.out.len, 0);
	if (r < 0)
		kt_shim_warn("cannot write the trace in", kt_self.dir, -r);
	if (!(why == KT_WHY_EXIT && kt_end_is_final))
		kt_arena_release(&s.arena);
	return r;
}
