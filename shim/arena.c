/* Scratch memory from mmap: snapshots run on exit paths (possibly from a
 * signal handler that interrupted malloc), so they never call malloc. */
#include "shim.h"

#include <string.h>
#include <sys/mman.h>

void *kt_arena_alloc(struct kt_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (a->used + n > a->cap) {
		/* Grow by remapping; earlier pointers stay valid only with
		 * MREMAP_MAYMOVE off, so allocate a fresh, larger region and
		 * leave the old one mapped until release: callers keep their
		 * pointers. Chain regions through their first bytes. */
		size_t cap = a->cap ? a->cap * 2 : (size_t)1 << 20;
		while (cap < n + 16)
			cap *= 2;
		char *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		memcpy(p, &a->base, sizeof a->base);
		memcpy(p + sizeof a->base, &a->cap, sizeof a->cap);
		a->base = p;
		a->cap = cap;
		a->used = 16;
	}
	void *r = a->base + a->used;
	a->used += n;
	return r;
}

void kt_arena_release(struct kt_arena *a)
{
	while (a->base) {
		char *prev;
		size_t prev_cap;
		memcpy(&prev, a->base, sizeof prev);
		memcpy(&prev_cap, a->base + sizeof prev, sizeof prev_cap);
		munmap(a->base, a->cap);
		a->base = prev;
		a->cap = prev_cap;
	}
	a->used = a->cap = 0;
}

void *kt_arena_grow(void *arena, void *old, size_t n)
{
	(void)old; /* stays until the arena is released */
	return kt_arena_alloc(arena, n);
}
