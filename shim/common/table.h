/* The shared descriptor table of a traced process: live/PID-START.tbl in
 * the trace directory, a header (its first page), a bitmap of the blocks of
 * entries ever written (its second page), then an array indexed by
 * descriptor number, in a file that the process maps MAP_SHARED and
 * updates from its hooks. The array starts small and grows (a new, larger
 * mapping: shim/table_file.c) when a higher number appears, up to
 * kt_table_capacity_wanted; every byte of the file is reserved (allocated
 * in the file system) before it is mapped, so that no write or read of it
 * ever faults on a full /dev/shm. Other processes (traced ones at their
 * exit, the report for processes still running) map it read-only, as large
 * as it is then. Binary, for this machine only: it never outlives the
 * processes of one trace. */
#ifndef KT_TABLE_H
#define KT_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define KT_STACK_MAX 8
/* Bytes of an opened path an entry keeps (with its terminating NUL). */
#define KT_ENTRY_PATH 110

/* A generation with this bit set names a descriptor of an untraced image
 * that its table does not know, for one observation: the bit plus the
 * observer's pid (record.h "observed"). Table generations never reach it. */
#define KT_GEN_OBSERVED 0x80000000u

/* One descriptor number's entry. */
struct kt_fd_entry {
	_Atomic uint32_t gen;  /* even: open (0: never seen); odd: closed or changing */
	uint8_t how, call, cloexec;
	/* KT_ENTRY_COPIED: a dup or a fork copied this generation, so that
	 * once closed it is still the link from those copies to the call that
	 * made it (snapshot.c writes it as a "closed" record). */
	uint8_t flags;
	uint8_t close_call; /* enum kt_close_call of the close that closed it (odd gen) */
	/* What the making call knew of what it made, so that a process killed
	 * before anything looked still shows it: the type
	 * (enum kt_fd_type, 0 unknown) and the access mode plus one (0
	 * unknown). A dup or a fork copies them with the path below. */
	uint8_t made_type, made_access;
	/* 1: path below is what /proc/self/fd/N read (an image's first
	 * descriptors), not what a call was given: a later look at a device,
	 * FIFO or socket of the same inode needs no readlink. */
	uint8_t made_path_is_target;
	int32_t src_fd;
	uint32_t src_gen;
	int32_t src_pid;
	_Atomic uint32_t ino_gen; /* dev and ino below are valid for this generation */
	uint64_t src_start;
	uint64_t site;         /* return address of the call that made it, in the owner */
	/* (st_dev, st_ino), cached so that other processes comparing with this
	 * one need no stat of /proc/PID/fd/N: filled at fork, copied by dup. */
	uint64_t dev, ino;
	/* Events on this descriptor's description for findings (record.h): the
	 * first status flags F_SETFL found and the last it set; the last
	 * flock/OFD lock taken (0: none or released). Sites are return
	 * addresses. Valid for the generation in event_gen. setfl_time:
	 * CLOCK_MONOTONIC ns right after the last F_SETFL that changed them. */
	uint32_t event_gen;
	uint32_t setfl_before, setfl_after;
	int32_t lock_op;          /* flock op, or 100 + l_type for an OFD lock */
	uint64_t setfl_site, lock_site;
	uint64_t setfl_time;
	uint64_t setfd_site;      /* F_SETFD cleared FD_CLOEXEC: made inheritable on purpose */
	/* The other end made by the same socketpair (or pipe) call, plus one;
	 * 0 when none. Kept across fork: the ends stay each other's. */
	int32_t peer_plus1;
	/* A dup (through any number of dups) of a descriptor opened in this
	 * image: that one's number plus one (0: none), generation, call and
	 * site. The snapshot writes it as a "closed" record while it is
	 * closed, however often its number was reused since: a shell opens a
	 * redirection's file at 3, dup2s it onto 7 and reuses 3 at once. */
	uint32_t root_gen;
	int32_t root_fd_plus1;
	uint32_t root_call;
	uint64_t root_site;
	/* With KCMPTRACE_STACK=N > 1: the return addresses of the creating
	 * call's callers, innermost first, 0-terminated when shorter. */
	uint64_t stack[KT_STACK_MAX];
	/* The return address of that close, 0 when none was seen. */
	uint64_t close_site;
	/* Opened by path: the path as the call gave it (relative to its
	 * directory descriptor or working directory when not absolute), its
	 * first KT_ENTRY_PATH - 1 bytes; path_len is its whole length (0: no
	 * path), longer than what is kept when it was cut. */
	uint16_t path_len;
	char path[KT_ENTRY_PATH];
};

#define KT_ENTRY_COPIED 0x01u
/* This generation was passed over a UNIX socket (SCM_RIGHTS); dev and ino
 * are its file's (record.h "ino"). */
#define KT_ENTRY_SENT 0x02u

#define KT_TABLE_MAGIC "kttbl07"

/* What a process could not write into its record (record.h
 * "unrecorded"), kept in its table instead: a sandbox that refuses opening
 * files for writing still lets it store into a mapping made before. */
struct kt_table_lost {
	_Atomic uint32_t what_plus1; /* enum kt_lost_what + 1; 0: nothing lost */
	int32_t err;
	uint32_t seccomp;
	char path[1024]; /* an exec's program, cut to fit */
};

/* A fork child that could not get a table of its own (its parent could not
 * create the file) names itself in its parent's table, before it lets that
 * mapping go. */
struct kt_table_lost_child {
	_Atomic int32_t pid; /* written last: 0 while the slot is being filled */
	int32_t err;
	uint64_t start;
	uint32_t seccomp, reserved;
};

#define KT_TABLE_LOST_CHILDREN 64
#define KT_TABLE_RECENT_CHILDREN 16

struct kt_table_header {
	char magic[8];
	int32_t pid;
	_Atomic uint32_t capacity; /* entries in the file now (it only grows) */
	uint64_t start;
	_Atomic uint32_t max_fd_plus_one;
	/* Set by an exec into an image the shim cannot follow: the table stays
	 * as the process left it, and other traced processes observe its
	 * descriptors from outside at their exits ("observed" records). */
	_Atomic uint32_t untraced;
	/* Calls of popen in progress: its child may start before the hook
	 * has noted the parent's end, and then waits for it (initial_fds.c). */
	_Atomic uint32_t in_popen;
	struct kt_table_lost lost;
	/* Slots taken, which may exceed KT_TABLE_LOST_CHILDREN: the rest are
	 * counted only. */
	_Atomic uint32_t nlost_children;
	struct kt_table_lost_child lost_children[KT_TABLE_LOST_CHILDREN];
	/* Entries per bit of the block bitmap: 1 << block_shift. */
	uint32_t block_shift;
	/* Calls of system() in progress: the shell it starts (glibc spawns
	 * it out of the shim's sight) knows so from here (initial_fds.c). */
	_Atomic uint32_t in_system;
	/* A fork child's table: set once the parent has named it (pid and
	 * start written, renamed into live/), so that the child need not read
	 * its own start from /proc nor rename it again (table_fork.c). */
	_Atomic uint32_t named;
	/* Set by this table's process before it execs (cleared when the exec
	 * fails): the new image replaces this file, so that a child keeping
	 * a mapping of it (table_fork.c) maps the table by name instead. */
	_Atomic uint32_t execing;
	/* The latest children this process forked (a ring, written by the
	 * parent as it names each one; pid written last, 0 while a slot is
	 * being written): a child whose parent no longer holds what they both
	 * inherited finds a sibling that still does here, without listing
	 * every live table (quadratic with thousands of siblings alive). */
	_Atomic uint32_t nrecent_children;
	struct {
		_Atomic int32_t pid;
		uint32_t reserved;
		_Atomic uint64_t start;
	} recent_children[KT_TABLE_RECENT_CHILDREN];
};

/* The header page, then the block bitmap's page. */
#define KT_TABLE_HEADER_SIZE 8192
#define KT_TABLE_BLOCK_BITS (4096 * 8)
/* A new table holds this many entries; it doubles as needed. */
#define KT_TABLE_FIRST_CAPACITY 64u

/* Descriptor numbers a table covers, asked when a process (or image) makes
 * its table: 2^20, or the hard RLIMIT_NOFILE when higher, within fs.nr_open. */
uint32_t kt_table_capacity_wanted(void);

/* The entries per block bit for a table that may grow to max_capacity:
 * the bitmap's page covers it. */
static inline uint32_t kt_table_block_shift(size_t max_capacity)
{
	uint32_t shift = 6;
	while ((max_capacity >> shift) >= KT_TABLE_BLOCK_BITS)
		shift++;
	return shift;
}

static inline size_t kt_table_file_size(size_t capacity)
{
	return KT_TABLE_HEADER_SIZE + capacity * sizeof(struct kt_fd_entry);
}

/* The entries a file of this size holds (a reader maps what is there). */
static inline size_t kt_table_capacity_of_size(size_t size)
{
	return size < KT_TABLE_HEADER_SIZE ? 0 : (size - KT_TABLE_HEADER_SIZE) / sizeof(struct kt_fd_entry);
}

/* One bit per block of entries ever written: what a fork copies, what
 * close_range and the walks over a table look at. */
static inline _Atomic uint8_t *kt_table_blocks_used(const struct kt_table_header *h)
{
	return (_Atomic uint8_t *)((char *)(uintptr_t)h + 4096);
}

/* The first number >= fd, below end, whose block was ever written; end
 * when none. Walks skip the blocks never used, which a table with one
 * high descriptor mostly is. */
size_t kt_table_next_used(const struct kt_table_header *h, size_t fd, size_t end);

/* Where a walk of a table's used entries ends: past its highest number
 * ever used, within the cap entries the caller has mapped. */
static inline size_t kt_table_used_end(const struct kt_table_header *h, size_t cap)
{
	size_t end = atomic_load(&h->max_fd_plus_one);
	return end < cap ? end : cap;
}

/* Fill an "fd" record (record.h) for descriptor fd at generation gen, as the
 * table entry e tells its origin; type, target, access (O_ACCMODE value or
 * KT_ACCESS_UNKNOWN), cloexec and site come from /proc and the caller. */
void kt_table_record_fd(struct kt_rec_fd *r, int fd, uint32_t gen, enum kt_fd_type type,
			const char *target, int access, int cloexec, const struct kt_fd_entry *e,
			const char *site);

/* Map a table file read-only, as large as it is now (it may grow later:
 * the mapping keeps what it had). Returns its entries (NULL if it cannot
 * be read or is not a table) and their number in *capacity, which
 * kt_table_unmap needs again. */
const struct kt_fd_entry *kt_table_map_path(const char *path, size_t *capacity);
/* The same, read-write when writable (its owner's process, a later image). */
const struct kt_fd_entry *kt_table_map_path_as(const char *path, size_t *capacity, bool writable);
void kt_table_unmap(const struct kt_fd_entry *t, size_t capacity);

/* The header before the entries of a mapped table. */
static inline const struct kt_table_header *kt_table_header_of(const struct kt_fd_entry *t)
{
	return (const struct kt_table_header *)(const void *)((const char *)t - KT_TABLE_HEADER_SIZE);
}

/* Whether the file open now under an entry's number, (dev, ino), is another
 * than the one cached for its open generation gen: the number was closed
 * and made again behind the shim's back (raw system calls, or an untraced
 * image reusing a number it kept across its exec). False when nothing is
 * cached. The entry may be changing under a reader: the generation check
 * makes that safe, so TSan is told not to look. */
__attribute__((no_sanitize("thread"))) static inline bool
kt_entry_replaced(const struct kt_fd_entry *e, uint32_t gen, uint64_t dev, uint64_t ino)
{
	return gen != 0 && !(gen & 1u) &&
	       atomic_load_explicit(&e->ino_gen, memory_order_acquire) == gen &&
	       (e->dev != dev || e->ino != ino);
}

/* An entry stores its call in a byte. */
_Static_assert(KT_CALL_COUNT - 1 <= (1ull << (8 * sizeof(((struct kt_fd_entry *)0)->call))) - 1,
	       "enum kt_call overflows kt_fd_entry.call");

/* Whether an entry describes the descriptor open now under its number,
 * (dev, ino), at generation gen: open, and not replaced behind the shim. */
__attribute__((no_sanitize("thread"))) static inline bool
kt_entry_current(const struct kt_fd_entry *e, uint32_t gen, uint64_t dev, uint64_t ino)
{
	return gen != 0 && !(gen & 1u) && !kt_entry_replaced(e, gen, dev, ino);
}

/* The loss a table's header holds (record.h "unrecorded"; path points
 * into the mapping): false when none. */
bool kt_table_lost_of(const struct kt_fd_entry *t, struct kt_rec_unrecorded *u);
/* The fork children that named themselves in a table's header, at most
 * max of them into out; the header's nlost_children says how many tried. */
size_t kt_table_lost_children(const struct kt_fd_entry *t, struct kt_table_lost_child *out,
			      size_t max);

/* The header must fit its page: the entries start right after it. */
_Static_assert(sizeof(struct kt_table_header) <= 4096, "table header overflows its page");

#endif
