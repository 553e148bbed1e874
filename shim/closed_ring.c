/* Recently closed descriptors that are links in a chain: a copy (dup,
 * inherited, kept across exec, received) or the source of one. The table
 * keeps only a number's last generation, and shells reuse their numbers all
 * the time (bash opens a redirection's file at 3, dup2s it onto 7, closes 3,
 * and opens the next one at 3 again): without this ring the copy's origin
 * would end at a generation nobody wrote down, and how the descriptor was
 * made would depend on which number open() happened to return. The next
 * snapshot writes these as "closed" records. Lock-free, no malloc: hooks
 * and signal handlers push; a slot is taken by its sequence number. */
#include "shim.h"

#include <string.h>

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

KT_RACY void kt_closed_remember(int fd, const struct kt_fd_entry *e, uint32_t gen)
{
	if (gen == 0 || (gen & 1u) || !worth(e))
		return;
	uint32_t n = atomic_fetch_add(&pushes, 1);
	struct closed_slot *s = &ring[n % KT_CLOSED_RING];
	if (atomic_exchange_explicit(&s->writing, 1, memory_order_acquire))
		return; /* another push has this slot: this link is not kept */
	atomic_store_explicit(&s->seq, 0, memory_order_release);
	s->fd = fd;
	s->gen = gen;
	copy_entry(&s->entry, e);
	atomic_store_explicit(&s->seq, n + 1, memory_order_release);
	atomic_store_explicit(&s->writing, 0, memory_order_release);
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
	for (size_t i = 0; i < KT_CLOSED_RING; i++)
		atomic_store(&ring[i].seq, 0);
	atomic_store(&pushes, 0);
}
