/* The per-process descriptor table: an array indexed by descriptor number in
 * a shared file (live/PID-START.tbl; its life: table_file.c), so that other
 * traced processes can read generations at their exit. Hooks update it with
 * plain stores and atomics: no lock, no malloc, safe from signal handlers
 * (a growth to a higher number than the table holds takes a lock and
 * system calls, once per doubling). */
#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"
#include "tracedir.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

struct kt_fd_entry *kt_table_entry(int fd)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t || fd < 0 || (unsigned)fd >= cap)
		return NULL;
	return &t[fd];
}

/* The table, grown if needed so that it holds fd (NULL when it cannot). */
static struct kt_fd_entry *table_for(int fd, uint32_t *cap)
{
	struct kt_fd_entry *t = kt_table_now(cap);
	if (!t || fd < 0)
		return NULL;
	if ((unsigned)fd < *cap)
		return t;
	if (kt_table_grow(fd) != 0)
		return NULL;
	t = kt_table_now(cap);
	return t && (unsigned)fd < *cap ? t : NULL;
}

void kt_table_mark_block(struct kt_table_header *h, size_t fd)
{
	size_t block = fd >> h->block_shift;
	uint8_t bit = (uint8_t)(1u << (block & 7));
	_Atomic uint8_t *used = kt_table_blocks_used(h);
	if (block < KT_TABLE_BLOCK_BITS && !(atomic_load_explicit(&used[block / 8], memory_order_relaxed) & bit))
		atomic_fetch_or(&used[block / 8], bit);
}

static void mark_used(struct kt_fd_entry *t, int fd)
{
	struct kt_table_header *h = kt_header_of(t);
	kt_table_mark_block(h, (size_t)fd);
	uint32_t want = (uint32_t)fd + 1, have = atomic_load_explicit(&h->max_fd_plus_one, memory_order_relaxed);
	while (have < want &&
	       !atomic_compare_exchange_weak(&h->max_fd_plus_one, &have, want))
		;
}

/* A dup's root (table.h): its source when opened here, else the
 * source's own root when the source is a dup. */
KT_RACY static void note_root(struct kt_fd_entry *e, const struct kt_fd_entry *src, int src_fd)
{
	if (src->how == KT_HOW_OPEN) {
		e->root_fd_plus1 = src_fd + 1;
		e->root_gen = e->src_gen;
		e->root_call = src->call;
		e->root_site = src->site;
	} else if (src->how == KT_HOW_DUP && src->root_fd_plus1 > 0) {
		e->root_fd_plus1 = src->root_fd_plus1;
		e->root_gen = src->root_gen;
		e->root_call = src->root_call;
		e->root_site = src->root_site;
	}
}

/* What the making call knew (shim.h kt_made), or a dup's source's. */
KT_RACY void kt_entry_note_made(struct kt_fd_entry *e, const struct kt_made *m)
{
	e->made_type = (uint8_t)m->type;
	e->made_access = m->access >= 0 && m->access <= 3 ? (uint8_t)(m->access + 1) : 0;
	e->made_path_is_target = m->path_is_target;
	size_t len = 0;
	if (m->path != NULL) {
		/* The bytes kept are copied as they are counted: one pass, no
		 * second read of a long path. */
		while (m->path[len] != '\0' && len < KT_ENTRY_PATH - 1) {
			e->path[len] = m->path[len];
			len++;
		}
		e->path[len] = '\0';
		if (m->path[len] != '\0')
			len += strlen(m->path + len);
	}
	e->path_len = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
}

KT_RACY void kt_table_copy_made(struct kt_fd_entry *e, const struct kt_fd_entry *src)
{
	e->made_type = src->made_type;
	e->made_access = src->made_access;
	e->made_path_is_target = src->made_path_is_target;
	e->path_len = src->path_len;
	/* Byte by byte, not memcpy: a dup in another thread may rewrite src
	 * meanwhile (the generations settle which copy is right), and a
	 * sanitizer's memcpy would report what the entry's design allows. */
	size_t n = src->path_len < sizeof e->path ? (size_t)src->path_len + 1 : sizeof e->path;
	for (size_t i = 0; src->path_len && i < n; i++)
		e->path[i] = src->path[i];
}

/* Whether a descriptor was made or closed since kt_table_changes_reset:
 * when not, the real end is the exit snapshot and needs no listing of its
 * own (real_end.c). Loaded before stored, so that only the first change
 * writes the shared line. */
static atomic_int table_changed;

static void mark_changed(void)
{
	if (!atomic_load_explicit(&table_changed, memory_order_relaxed))
		atomic_store_explicit(&table_changed, 1, memory_order_relaxed);
}

void kt_table_changes_reset(void)
{
	atomic_store(&table_changed, 0);
}

int kt_table_changed(void)
{
	return atomic_load(&table_changed);
}

KT_RACY static void note(int fd, enum kt_how how, enum kt_call call, int cloexec, int src_fd, void *site,
			 const struct kt_made *m)
{
	uint32_t cap;
	mark_changed();
	struct kt_fd_entry *t = table_for(fd, &cap);
	if (!t)
		return;
	struct kt_fd_entry *e = &t[fd];
	uint32_t old = atomic_load_explicit(&e->gen, memory_order_relaxed);
	e->how = (uint8_t)how;
	e->call = (uint8_t)call;
	e->cloexec = (uint8_t)(cloexec != 0);
	e->flags = 0;
	e->root_fd_plus1 = 0;
	e->src_fd = src_fd;
	e->src_gen = 0;
	e->src_pid = 0;
	e->src_start = 0;
	uint32_t new_gen = (old + 2) & ~1u;
	uint32_t ino_gen = 0;
	e->made_type = 0;
	e->made_access = 0;
	e->path_len = 0;
	if (src_fd >= 0 && (unsigned)src_fd < cap) {
		struct kt_fd_entry *src = &t[src_fd];
		e->src_gen = atomic_load_explicit(&src->gen, memory_order_relaxed);
		src->flags |= KT_ENTRY_COPIED;
		note_root(e, src, src_fd);
		e->src_pid = kt_self.pid;
		e->src_start = kt_self.start;
		if (how == KT_HOW_DUP)
			kt_table_copy_made(e, src);
		if (atomic_load_explicit(&src->ino_gen, memory_order_relaxed) == e->src_gen) {
			e->dev = src->dev;
			e->ino = src->ino;
			ino_gen = new_gen;
		}
	} else if (m != NULL) {
		kt_entry_note_made(e, m);
		if (m->ino != 0) {
			e->dev = m->dev;
			e->ino = m->ino;
			ino_gen = new_gen;
		}
	}
	atomic_store_explicit(&e->ino_gen, ino_gen, memory_order_relaxed);
	e->site = (uint64_t)(uintptr_t)site;
	e->peer_plus1 = 0;
	if (kt_stack_depth > 1)
		kt_stack_capture(e->stack, e->site);
	else
		e->stack[0] = 0;
	/* A new generation, even: the descriptor is open. */
	atomic_store_explicit(&e->gen, new_gen, memory_order_release);
	mark_used(t, fd);
}

void kt_note_new(int fd, enum kt_how how, enum kt_call call, int cloexec, int src_fd, void *site)
{
	note(fd, how, call, cloexec, src_fd, site, NULL);
}

void kt_note_made(int fd, enum kt_call call, int cloexec, void *site, const struct kt_made *m)
{
	note(fd, KT_HOW_OPEN, call, cloexec, -1, site, m);
}

void kt_note_made_pair(const int fds[2], enum kt_call call, int cloexec, void *site, enum kt_fd_type type)
{
	/* One fstat per pipe (both ends are one inode), one per socket: these
	 * calls are rare next to open, and a pipe's inode is what ties its
	 * ends together in a report made after the process was killed. */
	struct stat st;
	for (int i = 0; i < 2; i++) {
		struct kt_made m = {.type = type, .access = type == KT_FD_PIPE ? (i ? O_WRONLY : O_RDONLY) : O_RDWR};
		if ((i == 0 || type != KT_FD_PIPE) && kt_sys_fstat(fds[i], &st) != 0)
			st.st_ino = 0;
		m.dev = st.st_dev;
		m.ino = st.st_ino;
		note(fds[i], KT_HOW_OPEN, call, cloexec, -1, site, &m);
	}
	if (type == KT_FD_SOCKET)
		kt_note_pair(fds[0], fds[1]);
}

KT_RACY void kt_table_adopt(int fd, const struct kt_fd_entry *v, uint32_t gen)
{
	uint32_t cap;
	struct kt_fd_entry *t = table_for(fd, &cap);
	if (!t)
		return;
	struct kt_fd_entry *e = &t[fd];
	e->how = v->how;
	e->call = v->call;
	e->cloexec = v->cloexec;
	e->flags = v->flags;
	e->root_fd_plus1 = 0; /* the earlier image's exec snapshot wrote it */
	e->src_fd = v->src_fd;
	e->src_gen = v->src_gen;
	e->src_pid = v->src_pid;
	e->src_start = v->src_start;
	e->site = v->site;
	e->dev = v->dev;
	e->ino = v->ino;
	kt_table_copy_made(e, v);
	atomic_store_explicit(&e->ino_gen, atomic_load(&v->ino_gen) == gen ? gen : 0, memory_order_relaxed);
	atomic_store_explicit(&e->gen, gen, memory_order_release);
	mark_used(t, fd);
}

uint32_t kt_note_retire(int fd)
{
	mark_changed();
	struct kt_fd_entry *e = kt_on() ? kt_table_entry(fd) : NULL;
	uint32_t before = e ? atomic_fetch_or(&e->gen, 1u) : 1u;
	if (e)
		kt_closed_remember(fd, e, before);
	return before;
}

void kt_note_unretire(int fd, uint32_t before)
{
	struct kt_fd_entry *e = kt_table_entry(fd);
	uint32_t expected = before | 1u;
	if (e && !(before & 1u))
		atomic_compare_exchange_strong(&e->gen, &expected, before);
}

KT_RACY uint32_t kt_note_close(int fd, enum kt_close_call call, void *site)
{
	mark_changed();
	struct kt_fd_entry *e = kt_table_entry(fd);
	uint32_t gen = e ? atomic_load_explicit(&e->gen, memory_order_relaxed) : 0;
	/* Generation 0 (never seen) stays 0: closing it is news to nobody. A
	 * closed one keeps the close that closed it, for a double close. */
	if (gen && !(gen & 1u)) {
		e->close_call = (uint8_t)call;
		e->close_site = (uint64_t)(uintptr_t)site;
		gen = atomic_fetch_or_explicit(&e->gen, 1u, memory_order_release);
		kt_closed_remember(fd, e, gen);
	}
	return gen;
}

/* Events start afresh with each generation of a descriptor. */
KT_RACY static struct kt_fd_entry *event_entry(int fd)
{
	struct kt_fd_entry *e = kt_table_entry(fd);
	if (!e)
		return NULL;
	uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
	if (gen == 0 || (gen & 1u))
		return NULL;
	if (e->event_gen != gen) {
		e->setfl_site = 0;
		e->setfd_site = 0;
		e->lock_op = 0;
		e->lock_site = 0;
		e->event_gen = gen;
	}
	return e;
}

KT_RACY void kt_note_setfl(int fd, uint32_t before, uint32_t after, void *site, uint64_t time)
{
	struct kt_fd_entry *e = event_entry(fd);
	if (!e)
		return;
	if (!e->setfl_site)
		e->setfl_before = before;
	e->setfl_after = after;
	e->setfl_time = time;
	e->setfl_site = (uint64_t)(uintptr_t)site;
}

KT_RACY void kt_note_pair(int a, int b)
{
	struct kt_fd_entry *ea = kt_table_entry(a), *eb = kt_table_entry(b);
	if (ea && eb) {
		ea->peer_plus1 = b + 1;
		eb->peer_plus1 = a + 1;
	}
}

KT_RACY void kt_note_inheritable(int fd, void *site)
{
	struct kt_fd_entry *e = event_entry(fd);
	if (e)
		e->setfd_site = (uint64_t)(uintptr_t)site;
}

KT_RACY void kt_note_lock(int fd, int op, void *site)
{
	struct kt_fd_entry *e = event_entry(fd);
	if (!e)
		return;
	e->lock_op = op;
	e->lock_site = op ? (uint64_t)(uintptr_t)site : 0;
}

struct kt_bad_close kt_bad_closes[KT_BAD_CLOSE_RING];
atomic_uint kt_bad_close_count;

struct kt_unopened_closes kt_unopened_closes;

static void note_unopened(int fd, void *site)
{
	struct kt_unopened_closes *u = &kt_unopened_closes;
	if (atomic_fetch_add(&u->count, 1) == 0) {
		atomic_store(&u->lowest, fd);
		atomic_store(&u->highest, fd);
		atomic_store(&u->site, (uint64_t)(uintptr_t)site);
		return;
	}
	int lo = atomic_load(&u->lowest), hi = atomic_load(&u->highest);
	while (fd < lo && !atomic_compare_exchange_weak(&u->lowest, &lo, fd))
		;
	while (fd > hi && !atomic_compare_exchange_weak(&u->highest, &hi, fd))
		;
}

void kt_forget_bad_closes(void)
{
	atomic_store(&kt_minus_one_closes.count, 0);
	atomic_store(&kt_bad_close_count, 0);
	atomic_store(&kt_unopened_closes.count, 0);
	atomic_store(&kt_bad_use_count, 0);
}

struct kt_minus_one_closes kt_minus_one_closes;

static void ring_bad_close(const struct kt_bad_close *bad)
{
	unsigned slot = atomic_fetch_add(&kt_bad_close_count, 1);
	if (slot < KT_BAD_CLOSE_RING)
		kt_bad_closes[slot] = *bad;
	/* else counted: the snapshot says how many more there were */
}

/* Negative, or not below the soft RLIMIT_NOFILE: no descriptor's number. */
static int invalid_number(int fd)
{
	struct rlimit lim;
	if (fd < 0)
		return 1;
	return kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &lim) == 0 &&
	       lim.rlim_cur != RLIM_INFINITY && (rlim_t)fd >= lim.rlim_cur;
}

KT_RACY void kt_note_bad_close(int fd, uint32_t before, void *site)
{
	if (fd == -1) { /* an unset descriptor: counted apart (an idiom) */
		if (atomic_fetch_add(&kt_minus_one_closes.count, 1) == 0)
			atomic_store(&kt_minus_one_closes.site, (uint64_t)(uintptr_t)site);
		return;
	}
	struct kt_bad_close bad = {.fd = fd, .site = (uint64_t)(uintptr_t)site};
	if (invalid_number(fd)) {
		bad.flags = KT_BAD_CLOSE_INVALID;
		ring_bad_close(&bad);
		return;
	}
	struct kt_fd_entry *e = kt_table_entry(fd);
	/* Never open in this image: not seen made (generation 0), or closed
	 * before it (an earlier image's number, kept closed: how NONE). */
	if (before == 0 || e == NULL || e->how == KT_HOW_NONE) {
		note_unopened(fd, site);
		return;
	}
	bad.gen = before;
	bad.opened_site = e->site;
	if (before & 1u) { /* closed by a close the shim saw: that one */
		bad.closed_call = e->close_call;
		bad.closed_site = e->close_site;
	} else { /* open by the table: closed behind the shim's back */
		e->close_call = KT_CLOSE_NONE;
		e->close_site = 0;
	}
	ring_bad_close(&bad);
}

struct kt_bad_use kt_bad_uses[KT_BAD_USE_RING];
atomic_uint kt_bad_use_count;

KT_RACY void kt_note_bad_use(int fd, enum kt_use_call call, void *site)
{
	struct kt_bad_use bad = {.fd = fd, .call = (uint8_t)call, .site = (uint64_t)(uintptr_t)site};
	struct kt_fd_entry *e = kt_table_entry(fd);
	uint32_t gen = e ? atomic_load_explicit(&e->gen, memory_order_relaxed) : 0;
	/* Known to this image (an earlier image's closed number is NONE). */
	if (gen != 0 && e->how != KT_HOW_NONE) {
		bad.gen = gen;
		bad.opened_site = e->site;
		if (gen & 1u) { /* closed by a close the shim saw: that one */
			bad.closed_call = e->close_call;
			bad.closed_site = e->close_site;
		}
	}
	unsigned slot = atomic_fetch_add(&kt_bad_use_count, 1);
	if (slot < KT_BAD_USE_RING)
		kt_bad_uses[slot] = bad;
	/* else counted: the snapshot says how many more there were */
}

KT_RACY static void range_closed_before(struct kt_fd_entry *e, int fd, uint32_t gen, void *site)
{
	/* Closed by a tracked close, and not open again behind our back. */
	if (e->how == KT_HOW_NONE || e->close_call == KT_CLOSE_NONE ||
	    kt_sys_fcntl(fd, F_GETFD, 0) != -EBADF)
		return;
	ring_bad_close(&(struct kt_bad_close){fd, gen, KT_BAD_CLOSE_RANGE, (uint64_t)(uintptr_t)site,
					       e->site, e->close_site, e->close_call});
}

KT_RACY void kt_note_cloexec(int fd, int cloexec)
{
	struct kt_fd_entry *e = kt_table_entry(fd);
	if (e && !(atomic_load_explicit(&e->gen, memory_order_relaxed) & 1u))
		e->cloexec = (uint8_t)(cloexec != 0);
}

void kt_table_set_owner(struct kt_fd_entry *t)
{
	struct kt_table_header *h = kt_header_of(t);
	h->pid = kt_self.pid;
	h->start = kt_self.start;
}

int kt_table_create(void)
{
	char path[4200], tmp[4300];
	kt_trace_table_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start);
	kt_trace_path(tmp, sizeof tmp, KT_TRACE_LIVE "/.", KT_TRACE_TBL ".tmp");
	int err;
	struct stat st;
	struct kt_fd_entry *t = kt_table_make_file(tmp, KT_TABLE_FIRST_CAPACITY, &st, &err);
	if (!t)
		return err;
	kt_table_set_owner(t);
	/* Readers that still map an older file (an exec's) keep their mapping. */
	if ((err = kt_sys_renameat(AT_FDCWD, tmp, AT_FDCWD, path)) != 0) {
		munmap(kt_header_of(t), kt_table_file_size(KT_TABLE_FIRST_CAPACITY));
		kt_sys_unlinkat(AT_FDCWD, tmp, 0);
		return err;
	}
	kt_table_install(t, KT_TABLE_FIRST_CAPACITY, &st);
	return 0;
}

void kt_table_remove(void)
{
	char path[4200];
	if (kt_trace_table_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start))
		kt_sys_unlinkat(AT_FDCWD, path, 0);
}

void kt_table_note_lost(const struct kt_rec_unrecorded *u)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t)
		return;
	struct kt_table_lost *l = &kt_header_of(t)->lost;
	l->err = u->err;
	l->seccomp = u->seccomp;
	size_t n = u->path ? strnlen(u->path, sizeof l->path - 1) : 0;
	memcpy(l->path, u->path ? u->path : "", n);
	l->path[n] = '\0';
	atomic_store_explicit(&l->what_plus1, (uint32_t)u->what + 1, memory_order_release);
}

int kt_table_keeps_losses(void)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	return t && (atomic_load(&kt_header_of(t)->nlost_children) > 0 ||
		     atomic_load(&kt_header_of(t)->lost.what_plus1) != 0);
}

const struct kt_fd_entry *kt_table_map_other(pid_t pid, unsigned long long start, size_t *capacity)
{
	char path[4200];
	if (!kt_trace_table_path(path, sizeof path, kt_self.dir, pid, start))
		return NULL;
	return kt_table_map_path(path, capacity);
}

const struct kt_fd_entry *kt_table_map_replaced(size_t *capacity)
{
	char path[4200];
	if (!kt_trace_table_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start))
		return NULL;
	const struct kt_fd_entry *t = kt_table_map_path_as(path, capacity, true);
	if (!t)
		return kt_table_map_path(path, capacity);
	/* An exec that passed no hook (a raw system call) set no execing:
	 * a fork child that kept this table mapped must not go on reading
	 * it once this image's replaces it. */
	atomic_store(&((struct kt_table_header *)(uintptr_t)kt_table_header_of(t))->execing, 1);
	return t;
}

/* A close_range() of a few numbers each opened in this image, not a sweep
 * to the limit nor over numbers never opened (close-unopened tells those):
 * the program means each number of it. A range that stops just below a
 * descriptor it leaves open is one piece of a close-all-but-these sweep
 * (Python's subprocess closes [3, keep - 1], then [keep + 1, ~0] in the
 * child): it means the gap, whatever is still open in it. */
#define NAMED_RANGE_MAX 64
KT_RACY static int names_its_numbers(const struct kt_fd_entry *t, uint32_t cap, unsigned first,
				     unsigned last)
{
	struct rlimit lim;
	if (last - first >= NAMED_RANGE_MAX || last >= cap ||
	    kt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &lim) != 0 ||
	    (lim.rlim_cur != RLIM_INFINITY && last >= lim.rlim_cur - 1) ||
	    kt_sys_fcntl((int)last + 1, F_GETFD, 0) >= 0)
		return 0;
	for (unsigned fd = first; fd <= last; fd++)
		if (atomic_load_explicit(&t[fd].gen, memory_order_relaxed) == 0 ||
		    t[fd].how == KT_HOW_NONE)
			return 0;
	return 1;
}

/* close_range, closefrom: every entry of [first, last] that the table ever
 * used (its used blocks, up to max_fd_plus_one), retired before the real call, or
 * made close-on-exec after it (cloexec_only). Plain stores and atomics. */
KT_RACY void kt_note_range(unsigned int first, unsigned int last, int cloexec_only,
			   enum kt_close_call call, void *site)
{
	mark_changed();
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t || first > last)
		return;
	struct kt_table_header *h = kt_header_of(t);
	size_t end = kt_table_used_end(h, cap);
	/* A range that names its numbers (not a sweep to the limit): those
	 * closed before are closed twice, as close() of them would be. */
	int report_closed = call == KT_CLOSE_CLOSE_RANGE && !cloexec_only &&
			    names_its_numbers(t, cap, first, last);
	if ((size_t)last + 1 < end)
		end = (size_t)last + 1;
	for (size_t fd = kt_table_next_used(h, first, end); fd < end; fd = kt_table_next_used(h, fd + 1, end)) {
		struct kt_fd_entry *e = &t[fd];
		uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
		if (gen & 1u && report_closed)
			range_closed_before(e, (int)fd, gen, site);
		if (gen == 0 || (gen & 1u))
			continue;
		if (cloexec_only) {
			e->cloexec = 1;
		} else {
			e->close_call = (uint8_t)call;
			e->close_site = (uint64_t)(uintptr_t)site;
			kt_closed_remember((int)fd, e,
					   atomic_fetch_or_explicit(&e->gen, 1u, memory_order_release));
		}
	}
}

KT_RACY void kt_table_popen(int delta)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (t)
		atomic_fetch_add(&kt_header_of(t)->in_popen, (uint32_t)delta);
}

KT_RACY void kt_table_system(int delta)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (t)
		atomic_fetch_add(&kt_header_of(t)->in_system, (uint32_t)delta);
}

void kt_table_set_execing(int on)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (t)
		atomic_store(&kt_header_of(t)->execing, (uint32_t)(on != 0));
}

/* An image the shim cannot follow: other processes observe it from
 * outside (its table's header says so), knowing what the exec closed. */
KT_RACY void kt_table_mark_untraced(int on)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t)
		return;
	kt_table_retire_cloexec(on);
	atomic_store(&kt_header_of(t)->untraced, (uint32_t)(on != 0));
	char mark[4200];
	if (!kt_trace_untraced_path(mark, sizeof mark, kt_self.dir, kt_self.pid, kt_self.start))
		return;
	if (!on) {
		kt_sys_unlinkat(AT_FDCWD, mark, 0);
		return;
	}
	/* Without its mark, a process that ends with all it holds linked
	 * would not look at this table: its image's descriptors would go
	 * unobserved. The header stays the truth; the mark only says "look". */
	kt_own_fds_begin();
	/* The trace-wide mark first: a process that sees the table's mark but
	 * not it could skip the listing that finds this table. */
	kt_trace_mark_untraced_seen(kt_self.dir);
	int fd = kt_sys_open_high(AT_FDCWD, mark, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600);
	if (fd >= 0)
		kt_sys_close(fd);
	kt_own_fds_end();
}

/* A new image that will not close its close-on-exec descriptors through
 * us (untraced, or unable to write its trace): the exec does. Retire them
 * first, so that an observer never names a number the new image reuses
 * after the generation of the one it lost; put back the ones still open
 * when the exec failed. The ones it keeps get their inode cached: an
 * observer that finds another file under that number knows the image
 * closed it and opened something else. */
KT_RACY void kt_table_retire_cloexec(int on)
{
	uint32_t cap;
	struct kt_fd_entry *t = kt_table_now(&cap);
	if (!t)
		return;
	struct kt_table_header *h = kt_header_of(t);
	size_t max_fd = kt_table_used_end(h, cap);
	for (size_t fd = kt_table_next_used(h, 0, max_fd); fd < max_fd;
	     fd = kt_table_next_used(h, fd + 1, max_fd)) {
		struct kt_fd_entry *e = &t[fd];
		uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
		struct stat st;
		if (on && gen && !(gen & 1u) && !e->cloexec &&
		    atomic_load_explicit(&e->ino_gen, memory_order_relaxed) != gen &&
		    kt_sys_fstat((int)fd, &st) == 0) {
			e->dev = st.st_dev;
			e->ino = st.st_ino;
			atomic_store_explicit(&e->ino_gen, gen, memory_order_release);
		}
		if (!gen || !e->cloexec)
			continue;
		if (on && !(gen & 1u))
			atomic_store(&e->gen, gen | 1u);
		else if (!on && (gen & 1u) && kt_sys_fcntl((int)fd, F_GETFD, 0) >= 0)
			atomic_store(&e->gen, gen & ~1u);
	}
}

int kt_table_is_untraced(const struct kt_fd_entry *other)
{
	const struct kt_table_header *h =
		(const struct kt_table_header *)((const char *)other - KT_TABLE_HEADER_SIZE);
	return atomic_load(&h->untraced) != 0;
}
