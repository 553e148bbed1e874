/* The real end of a process: the descriptors its exit handlers and
 * destructors left open (record.h "end-fd"). The exit snapshot is taken
 * when main returns or exit() is called, before them, which is right for
 * sharing; what open-at-exit reports is what is open after them, as
 * valgrind tells it. */
#include "shim.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"

#include <string.h>
#include <sys/mman.h>

/* An exit snapshot was taken and exit handlers run next. */
static atomic_int pending;

void kt_real_end_expect(int on)
{
	atomic_store(&pending, on);
}

/* Room for one end-fd line: a target and a site, every byte escaped. */
#define LINE_ROOM (4 * (4096 + KT_SITE_TEXT) + 256)

/* One descriptor as the table knows it, or of unknown origin when the
 * table does not (made behind the shim's back). */
KT_RACY static void put_end_fd(struct kt_buf *b, int fd, const struct kt_fd_info *info, char *site)
{
	struct kt_fd_entry *e = kt_table_entry(fd), a;
	uint32_t gen = e ? atomic_load(&e->gen) : 0;
	if (e && kt_entry_current(e, gen, info->dev, info->ino)) {
		memcpy(&a, e, sizeof a);
	} else {
		memset(&a, 0, sizeof a);
		a.how = KT_HOW_UNKNOWN;
		a.src_fd = -1;
		gen = 0;
	}
	kt_site_format(a.site, site, KT_SITE_TEXT);
	struct kt_rec_fd r;
	kt_table_record_fd(&r, fd, gen, info->type, info->target, info->access, info->cloexec > 0, &a,
			   site);
	kt_rec_put_end_fd(b, &r);
}

static void write_end(void)
{
	struct kt_arena arena = {0};
	struct kt_fd_list list = KT_ARENA_FD_LIST(&arena);
	long n = kt_proc_list_all(0, &list);
	struct kt_fd_info *info = kt_arena_alloc(&arena, sizeof *info);
	char *site = kt_arena_alloc(&arena, KT_SITE_TEXT);
	size_t cap = ((size_t)(n > 0 ? n : 0) + 1) * LINE_ROOM;
	char *out = n < 0 || !info || !site ? MAP_FAILED
		    : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (out != MAP_FAILED) {
		struct kt_buf b = {out, 0, cap, 0};
		long count = 0;
		for (long i = 0; i < n; i++) {
			int fd = list.fds[i];
			if (fd <= 2 || kt_fd_describe(0, fd, info) < 0)
				continue;
			put_end_fd(&b, fd, info, site);
			count++;
		}
		kt_rec_put_end_fds(&b, count, kt_now_ns());
		if (!b.overflow)
			kt_write_record(b.data, b.len, 0);
		munmap(out, cap);
	}
	kt_arena_release(&arena);
}

void kt_fd_numbers_of(struct kt_fd_numbers *out, const int *fds, size_t n)
{
	*out = (struct kt_fd_numbers){0};
	for (size_t i = 0; i < n; i++) {
		/* splitmix64's finalizer: a sum of well-mixed values, whatever
		 * the order of the listing */
		uint64_t z = (uint64_t)fds[i] + 0x9e3779b97f4a7c15ULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		out->hash += z ^ (z >> 31);
		out->count++;
	}
}

static struct kt_fd_numbers exit_numbers;

void kt_real_end_numbers(const struct kt_fd_numbers *listed)
{
	exit_numbers = *listed;
}

/* The same numbers open as at the exit snapshot: an exit handler that
 * closed or made a descriptor inside libc (endmntent's fclose, getpwent's
 * open) changed no table entry, but the listing tells (its four system
 * calls, not the description of every descriptor). */
static bool same_numbers(void)
{
	/* Room on the stack for the usual few: no mapping to make. */
	int few[256];
	struct kt_arena arena = {0};
	struct kt_fd_list list = KT_ARENA_FD_LIST(&arena);
	list.fds = few;
	list.cap = sizeof few / sizeof few[0];
	long n = kt_proc_list_all(0, &list);
	struct kt_fd_numbers now;
	if (n >= 0)
		kt_fd_numbers_of(&now, list.fds, (size_t)n);
	kt_arena_release(&arena);
	return n >= 0 && now.count == exit_numbers.count && now.hash == exit_numbers.hash;
}

/* Nothing made or closed since the exit snapshot: say so, and when,
 * without listing the descriptors again. */
static void write_end_same(void)
{
	char line[64];
	struct kt_buf b = {line, 0, sizeof line, 0};
	kt_rec_put_end_fds(&b, -1, kt_now_ns());
	if (!b.overflow)
		kt_write_record(b.data, b.len, 0);
}

void kt_real_end(void)
{
	if (!atomic_load(&kt_active) || !atomic_exchange(&pending, 0))
		return;
	int saved = errno;
	kt_own_fds_begin();
	if (kt_table_changed() || !same_numbers())
		write_end();
	else
		write_end_same();
	kt_own_fds_end();
	errno = saved;
}

/* After the application's atexit handlers and the destructors of what was
 * loaded after this library. */
__attribute__((destructor)) static void kt_destructor(void)
{
	kt_real_end();
}
