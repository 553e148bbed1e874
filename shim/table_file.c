/* The life of this process's table file (table.h): made small, every byte
 * reserved in the file system before it is mapped, grown when a higher
 * descriptor number appears.
 *
 * Why reserve: a sparse file on a full /dev/shm faults (SIGBUS) on the first
 * write to a new page, in the application. fallocate (or, where the file
 * system lacks it, zeros written) fails with ENOSPC instead, at a point
 * where the shim can give up on that part of the trace and say so.
 *
 * Why grow: a table for every number the limit allows costs address space
 * in proportion to RLIMIT_NOFILE (168 GiB for 2^30). The table starts with
 * KT_TABLE_FIRST_CAPACITY entries and doubles.
 *
 * Threads: hooks read and write entries without a lock while another
 * thread grows the table. A growth maps the larger file anew and publishes
 * that mapping; the older mappings stay (until the process execs or its
 * fork child drops them), so that a hook still holding one writes into the
 * same shared pages. Each mapping knows its own size: the header's
 * capacity is only the newest. Growths are serialised by a lock; a signal
 * handler that interrupts its own thread's growth does not wait for it,
 * its descriptor just goes unrecorded. */
#include "shim.h"
#include "sys.h"
#include "tracedir.h"

#include <string.h>
#include <sys/mman.h>

struct kt_table_view kt_table_views[KT_TABLE_VIEWS];
_Atomic int kt_table_view_now = -1;

static uint32_t max_capacity; /* the most this table may grow to */
static dev_t file_dev;        /* the file mapped: a growth writes only to it */
static ino_t file_ino;
static atomic_flag grow_lock = ATOMIC_FLAG_INIT;
static KT_TLS int growing_here;
static atomic_int growth_failed;

/* Give the file [from, to) for real: fallocate, else zeros written (a file
 * system without fallocate, a sandbox that refuses it). Within
 * RLIMIT_FSIZE only: beyond it the kernel would send SIGXFSZ to the
 * application. */
static int reserve(int fd, off_t from, off_t to)
{
	if (!kt_sys_fsize_allows((unsigned long long)to))
		return -EFBIG;
	int r = (int)kt_syscall(SYS_fallocate, fd, 0, from, to - from);
	if (r == 0 || r == -ENOSPC || r == -EDQUOT || r == -EFBIG || r == -EINTR)
		return r;
	static const char zeros[4096];
	for (off_t at = from; at < to;) {
		size_t n = to - at < (off_t)sizeof zeros ? (size_t)(to - at) : sizeof zeros;
		long w = kt_syscall(SYS_pwrite64, fd, zeros, n, at);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? (int)w : -ENOSPC;
		at += w;
	}
	return 0;
}

/* The whole file, read-write. The application's errno stays its own. */
static struct kt_fd_entry *map_file(int fd, uint32_t capacity, int *err)
{
	int saved = errno;
	void *p = mmap(NULL, kt_table_file_size(capacity), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*err = p == MAP_FAILED ? -errno : 0;
	errno = saved;
	return p == MAP_FAILED ? NULL : (struct kt_fd_entry *)((char *)p + KT_TABLE_HEADER_SIZE);
}

struct kt_fd_entry *kt_table_make_file(const char *tmp, uint32_t capacity, struct stat *st, int *err)
{
	int fd = kt_sys_open_high(AT_FDCWD, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	struct kt_fd_entry *t = NULL;
	int r = reserve(fd, 0, (off_t)kt_table_file_size(capacity));
	if (r == 0 && (r = kt_sys_fstat(fd, st)) == 0)
		t = map_file(fd, capacity, &r);
	kt_sys_close(fd);
	if (!t) {
		kt_sys_unlinkat(AT_FDCWD, tmp, 0);
		*err = r;
		return NULL;
	}
	struct kt_table_header *h = kt_header_of(t);
	memcpy(h->magic, KT_TABLE_MAGIC, sizeof h->magic);
	atomic_store(&h->capacity, capacity);
	h->block_shift = kt_table_block_shift(kt_table_max_capacity());
	return t;
}

void kt_table_install(struct kt_fd_entry *t, uint32_t cap, const struct stat *st)
{
	kt_table_drop_all();
	if (!t)
		return;
	/* The file this mapping is, for the growths to come. */
	file_dev = st->st_dev;
	file_ino = st->st_ino;
	kt_table_views[0] = (struct kt_table_view){t, cap};
	atomic_store_explicit(&kt_table_view_now, 0, memory_order_release);
}

void kt_table_drop_all(void)
{
	int now = atomic_exchange(&kt_table_view_now, -1);
	for (int i = 0; i <= now; i++) {
		munmap(kt_header_of(kt_table_views[i].t), kt_table_file_size(kt_table_views[i].cap));
		kt_table_views[i] = (struct kt_table_view){0};
	}
}

uint32_t kt_table_max_capacity(void)
{
	if (!max_capacity)
		max_capacity = kt_table_capacity_wanted();
	return max_capacity;
}

/* Under the lock: the file grown to cover fd, mapped, published. */
static int grow_locked(int fd)
{
	int now = atomic_load(&kt_table_view_now);
	if (now < 0)
		return -ENOENT;
	struct kt_table_view v = kt_table_views[now];
	if ((uint32_t)fd < v.cap)
		return 0; /* another thread grew it meanwhile */
	if ((uint32_t)fd >= kt_table_max_capacity() || now + 1 >= KT_TABLE_VIEWS)
		return -EMFILE; /* beyond the limit the table was made for */
	uint64_t cap = v.cap;
	while (cap <= (uint64_t)fd)
		cap *= 2;
	if (cap > max_capacity)
		cap = max_capacity;
	char path[4200];
	if (!kt_trace_table_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start))
		return -ENAMETOOLONG;
	kt_own_fds_begin();
	int r, file = kt_sys_open_high(AT_FDCWD, path, O_RDWR | O_NOFOLLOW | O_NONBLOCK, 0);
	struct stat st;
	struct kt_fd_entry *t = NULL;
	if ((r = file) >= 0 && (r = kt_sys_fstat(file, &st)) == 0 &&
	    (st.st_dev != file_dev || st.st_ino != file_ino || !S_ISREG(st.st_mode)))
		r = -ESTALE; /* not the file we mapped: never write to it */
	if (r == 0)
		r = reserve(file, (off_t)kt_table_file_size(v.cap), (off_t)kt_table_file_size(cap));
	if (r == 0)
		t = map_file(file, (uint32_t)cap, &r);
	if (file >= 0)
		kt_sys_close(file);
	kt_own_fds_end();
	if (!t)
		return r;
	kt_table_views[now + 1] = (struct kt_table_view){t, (uint32_t)cap};
	atomic_store_explicit(&kt_table_view_now, now + 1, memory_order_release);
	atomic_store(&kt_header_of(t)->capacity, (uint32_t)cap);
	return 0;
}

int kt_table_grow(int fd)
{
	if (fd < 0)
		return -EBADF;
	if (growing_here)
		return -EDEADLK; /* a signal handler inside this thread's growth */
	growing_here = 1;
	while (atomic_flag_test_and_set_explicit(&grow_lock, memory_order_acquire))
		kt_syscall(SYS_sched_yield);
	int r = grow_locked(fd);
	atomic_flag_clear_explicit(&grow_lock, memory_order_release);
	growing_here = 0;
	/* Beyond the limit the table was made for, or a signal handler inside
	 * this thread's own growth: that number only goes without an origin. */
	if (r < 0 && r != -EMFILE && r != -ENOENT && r != -EDEADLK && !atomic_exchange(&growth_failed, 1)) {
		/* Said once: the numbers from here on get no origin. */
		kt_lost(KT_LOST_TABLE, -r, NULL);
		kt_shim_warn("cannot grow the descriptor table in", kt_self.dir, -r);
	}
	return r;
}

void kt_table_fork_child_reset(void)
{
	/* The parent's lock may have been held by another thread: only the
	 * forking thread lives on, and it held none. */
	atomic_flag_clear(&grow_lock);
	growing_here = 0;
	atomic_store(&growth_failed, 0);
}
