/* Buffered stdio output copied by fork (record.h "stdio-copied"): a fork
 * child gets a copy of every stream's unflushed output; when it flushes
 * that copy (exit() and a return from main do) and the parent flushes its
 * own, the bytes are written twice. The streams looked at: stdout, stderr
 * and those the stdio hooks saw opened (glibc's list of all streams is
 * private). Looked at in the child right after the fork and at its exit
 * only: the stdio hooks just keep the list of streams. */
#include "shim.h"
#include "record.h"

#include <stdio_ext.h>

/* Streams fopen, fdopen, freopen, tmpfile and popen returned and no fclose
 * or pclose ended: slots taken and given back with compare-and-swap (a
 * signal handler may fopen). Streams beyond the slots are not looked at. */
#define TRACKED_STREAMS 64
static _Atomic(FILE *) tracked[TRACKED_STREAMS];

void kt_stdio_track(FILE *fp)
{
	for (int i = 0; i < TRACKED_STREAMS; i++)
		if (atomic_load_explicit(&tracked[i], memory_order_relaxed) == fp)
			return; /* freopen keeps its stream */
	for (int i = 0; i < TRACKED_STREAMS; i++) {
		FILE *empty = NULL;
		if (atomic_compare_exchange_strong(&tracked[i], &empty, fp))
			return;
	}
}

void kt_stdio_untrack(FILE *fp)
{
	for (int i = 0; i < TRACKED_STREAMS; i++) {
		FILE *was = fp;
		if (atomic_compare_exchange_strong(&tracked[i], &was, NULL))
			return;
	}
}

/* In a fork child: the streams that held output when it was made. */
#define COPIED_MAX 16
struct copied {
	FILE *fp;
	int fd;
	uint32_t gen; /* fd's table generation at the fork */
	size_t count; /* bytes pending then */
	int stream;   /* KT_STDIO_* */
};
static struct copied copied[COPIED_MAX];
static int ncopied;
static uint64_t copied_site; /* the fork's return address */
static int copied_by;        /* KT_STDIO_BY_CLONE or 0 */
/* At the exit: those the exit flushes, for the exit snapshot. */
static int nflushed_at_exit;

static uint32_t fd_gen(int fd)
{
	const struct kt_fd_entry *e = kt_table_entry(fd);
	return e ? atomic_load_explicit(&e->gen, memory_order_acquire) : 0;
}

static void note_copied(FILE *fp, int stream)
{
	if (!fp || ncopied == COPIED_MAX)
		return;
	for (int i = 0; i < ncopied; i++)
		if (copied[i].fp == fp)
			return; /* stdout reopened by freopen is tracked too */
	size_t pending = __fpending(fp);
	if (pending == 0)
		return;
	int saved = errno;
	int fd = fileno(fp);
	errno = saved;
	if (fd < 0)
		return;
	copied[ncopied++] = (struct copied){fp, fd, fd_gen(fd), pending, stream};
}

void kt_stdio_fork_child(uint64_t site, bool by_clone, bool buffers_copied)
{
	ncopied = 0; /* a grandchild: its parent's list is not its own */
	nflushed_at_exit = 0;
	copied_site = site;
	copied_by = by_clone ? KT_STDIO_BY_CLONE : 0;
	if (!buffers_copied)
		return;
	note_copied(stdout, KT_STDIO_STDOUT);
	note_copied(stderr, KT_STDIO_STDERR);
	for (int i = 0; i < TRACKED_STREAMS; i++)
		note_copied(atomic_load_explicit(&tracked[i], memory_order_relaxed), KT_STDIO_OTHER);
}

/* Still over the same descriptor, and still holding at least the bytes it
 * got (fewer: a flush wrote them or __fpurge dropped them, which the shim
 * cannot tell apart). */
static bool still_copied(const struct copied *c)
{
	if (__fpending(c->fp) < c->count)
		return false;
	int saved = errno;
	int fd = fileno(c->fp);
	errno = saved;
	return fd == c->fd && fd_gen(fd) == c->gen;
}

void kt_stdio_exit_flushes(void)
{
	int kept = 0;
	for (int i = 0; i < ncopied; i++)
		if (still_copied(&copied[i]))
			copied[kept++] = copied[i];
	nflushed_at_exit = kept;
}

void kt_stdio_events(struct kt_buf *b)
{
	if (nflushed_at_exit == 0)
		return;
	char where[KT_SITE_TEXT];
	kt_site_format(copied_site, where, sizeof where);
	for (int i = 0; i < nflushed_at_exit; i++) {
		const struct copied *c = &copied[i];
		kt_rec_put_event(b, &(struct kt_rec_event){.kind = KT_EVENT_STDIO_COPIED,
							   .fd = c->fd,
							   .gen = c->gen,
							   .arg1 = (long long)c->count,
							   .arg2 = c->stream | copied_by,
							   .site = where});
	}
	nflushed_at_exit = 0;
}
