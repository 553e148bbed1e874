/* Closed descriptors that are links in a chain: a copy (dup, inherited,
 * kept across exec, received) or the source of one. The table keeps only a
 * number's last generation, and shells reuse their numbers all the time
 * (bash opens a redirection's file at 3, dup2s it onto 7, closes 3, and
 * opens the next one at 3 again): without these the copy's origin would
 * end at a generation nobody wrote down, and how the descriptor was made
 * would depend on which number open() happened to return. The next
 * snapshot writes them as "closed" records.
 *
 * A generation something was copied from (KT_ENTRY_COPIED: a dup, or a fork
 * child, names it as its source) links its copies to each other and to
 * their origin: losing it splits one description in the report (bash saves
 * fd 1 to 10 around a redirection and restores it; its children before and
 * after hold the same description only through those links). Those go to a
 * log that never wraps (reserved address space, touched as it fills); when
 * it is full the snapshot says how many were dropped. The others, copies
 * nothing was copied from, only tell their own origin: a ring of the
 * latest KT_CLOSED_RING keeps them.
 *
 * Lock-free, no malloc: hooks and signal handlers push; a slot is taken by
 * its sequence number. */
#include "shim.h"

#include <string.h>
#include <sys/mman.h>

struct closed_slot {
	_Atomic uint32_t seq; /* 0: empty or being written; else the push number + 1 */
	/* Taken by the one writer of the slot: when the ring wraps while a
	 * push is slow, a second writer would tear it (it skips instead). */
	_Atomic uint32_t writing;
	int32_t fd;
	uint32_t gen; /* the generation it had while open (even) */
	struct kt_fd_entry entry;
};

static struct closed_slot ring[KT_CLOSED_RING];
static atomic_uint pushes;

/* The log of copied generations: mapped at its first push. */
static struct closed_slot *_Atomic log_slots;
static atomic_uint log_pushes;
static atomic_uint log_dropped; /* pushes that found no room (or no mapping) */

/* Worth keeping: a copy, or one made by a call here that was copied;
 * those present at start stay unknown. */
static bool worth(const struct kt_fd_entry *e)
{
	if (e->how == KT_HOW_OPEN)
		return (e->flags & KT_ENTRY_COPIED) != 0;
	return e->how != KT_HOW_NONE && e->how != KT_HOW_UNKNOWN;
}

/* Entries are copied word by word here: memcpy would reach TSan's
 * interceptor, which sees the copy but not this file's atomics (KT_RACY
 * leaves them uninstrumented), and so reports every reuse of a slot. */
KT_RACY static void copy_entry(struct kt_fd_entry *to, const struct kt_fd_entry *from)
{
	volatile const uint64_t *src = (volatile const uint64_t *)(const void *)from;
	uint64_t *dst = (uint64_t *)(void *)to;
	_Static_assert(sizeof *to % sizeof(uint64_t) == 0, "an entry is whole 64-bit words");
	for (size_t i = 0; i < sizeof *to / sizeof(uint64_t); i++)
		dst[i] = src[i];
}

KT_RACY static void fill(struct closed_slot *s, uint32_t n, int fd, const struct kt_fd_entry *e,
			 uint32_t gen)
{
	atomic_store_explicit(&s->seq, 0, memory_order_release);
	s->fd = fd;
	s->gen = gen;
	copy_entry(&s->entry, e);
	atomic_store_explicit(&s->seq, n + 1, memory_order_release);
}

/* The log, mapped by the first push that needs it (a racing one unmaps
 * its own); NULL when it cannot be. */
static struct closed_slot *log_map(void)
{
	struct closed_slot *l = atomic_load_explicit(&log_slots, memory_order_acquire);
	if (l)
		return l;
	void *m = mmap(NULL, KT_CLOSED_LOG * sizeof *l, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct closed_slot *none = NULL;
	if (!atomic_compare_exchange_strong(&log_slots, &none, (struct closed_slot *)m)) {
		munmap(m, KT_CLOSED_LOG * sizeof *l);
		return none;
	}
	return m;
}

KT_RACY void kt_closed_remember(int fd, const struct kt_fd_entry *e, uint32_t gen)
{
	if (gen == 0 || (gen & 1u) || !worth(e))
		return;
	if (e->flags & KT_ENTRY_COPIED) {
		int saved = errno; /* mmap's, in a hook */
		struct closed_slot *l = log_map();
		errno = saved;
		uint32_t n = atomic_fetch_add(&log_pushes, 1);
		if (l == NULL || n >= KT_CLOSED_LOG)
			atomic_fetch_add(&log_dropped, 1);
		else
			fill(&l[n], n, fd, e, gen); /* each slot has one writer */
		return;
	}
	uint32_t n = atomic_fetch_add(&pushes, 1);
	struct closed_slot *s = &ring[n % KT_CLOSED_RING];
	if (atomic_exchange_explicit(&s->writing, 1, memory_order_acquire))
		return; /* another push has this slot: this link is not kept */
	fill(s, n, fd, e, gen);
	atomic_store_explicit(&s->writing, 0, memory_order_release);
}

size_t kt_closed_log_count(void)
{
	uint32_t n = atomic_load(&log_pushes);
	return n < KT_CLOSED_LOG ? n : KT_CLOSED_LOG;
}

KT_RACY bool kt_closed_log_get(size_t i, int *fd, uint32_t *gen, struct kt_fd_entry *out)
{
	struct closed_slot *l = atomic_load_explicit(&log_slots, memory_order_acquire);
	if (l == NULL || i >= KT_CLOSED_LOG)
		return false;
	struct closed_slot *s = &l[i];
	if (atomic_load_explicit(&s->seq, memory_order_acquire) != i + 1)
		return false; /* being written */
	*fd = s->fd;
	*gen = s->gen;
	copy_entry(out, &s->entry);
	return atomic_load_explicit(&s->seq, memory_order_acquire) == i + 1;
}

unsigned kt_closed_log_dropped(void)
{
	return atomic_load(&log_dropped);
}

size_t kt_closed_ring_used(void)
{
	uint32_t pushed = atomic_load(&pushes);
	return pushed < KT_CLOSED_RING ? pushed : KT_CLOSED_RING;
}

KT_RACY bool kt_closed_get(size_t i, int *fd, uint32_t *gen, struct kt_fd_entry *out)
{
	struct closed_slot *s = &ring[i % KT_CLOSED_RING];
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	if (seq == 0)
		return false;
	*fd = s->fd;
	*gen = s->gen;
	copy_entry(out, &s->entry);
	return atomic_load_explicit(&s->seq, memory_order_acquire) == seq;
}

KT_RACY bool kt_closed_names(size_t i, int fd, uint32_t gen)
{
	struct closed_slot *s = &ring[i % KT_CLOSED_RING];
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	return seq != 0 && s->fd == fd && s->gen == gen;
}

void kt_closed_forget(void)
{
	/* Only the slots ever pushed to are touched: a fork child that
	 * wrote, or even read, every one would fault on each page of the
	 * ring (copied, or first seen). Pushes fill slots in order. */
	for (size_t i = 0, used = kt_closed_ring_used(); i < used; i++)
		if (atomic_load_explicit(&ring[i].seq, memory_order_relaxed) != 0)
			atomic_store(&ring[i].seq, 0);
	atomic_store(&pushes, 0);
	atomic_store(&log_pushes, 0);
	atomic_store(&log_dropped, 0);
}
