/* The shared descriptor table's names and read-only mapping (table.h). */
#include "table.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

void kt_table_record_fd(struct kt_rec_fd *r, int fd, uint32_t gen, enum kt_fd_type type,
			const char *target, int access, int cloexec, const struct kt_fd_entry *e,
			const char *site)
{
	*r = (struct kt_rec_fd){
		.fd = fd, .gen = gen, .type = type, .target = target,
		.access = access >= 0 && access <= 3 ? access : KT_ACCESS_UNKNOWN,
		.cloexec = cloexec > 0, .how = (enum kt_how)e->how, .call = e->call,
		.src_fd = -1, .site = site,
	};
	/* The source: for a dup, in this process; inherited, the parent's; for
	 * a received one, the sender's when it is known (pidfd_getfd). */
	if (e->how == KT_HOW_DUP || e->how == KT_HOW_INHERITED ||
	    (e->how == KT_HOW_RECEIVED && e->src_pid > 0)) {
		r->src_pid = e->src_pid;
		r->src_start = e->src_start;
		r->src_fd = e->src_fd;
		r->src_gen = e->src_gen;
	}
}

uint32_t kt_table_capacity_wanted(void)
{
	/* 2^20 (the kernel's default fs.nr_open), or the hard RLIMIT_NOFILE
	 * when higher, within fs.nr_open (systemd sets it to 2^30): the most
	 * a table may grow to. Raising the hard limit later takes
	 * CAP_SYS_RESOURCE. */
	uint64_t cap = 1u << 20, nr_open = 0;
	struct rlimit rl;
	if (kt_sys_getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max > cap)
		cap = rl.rlim_max;
	/* Within 2^20 no read of fs.nr_open: a lower one only makes the
	 * capacity more than the process can use (three calls per image). */
	if (cap == 1u << 20)
		return cap;
	char text[32];
	int fd = kt_sys_open_high(AT_FDCWD, "/proc/sys/fs/nr_open", O_RDONLY, 0);
	ssize_t n = fd >= 0 ? kt_sys_read(fd, text, sizeof text - 1) : -1;
	if (fd >= 0)
		kt_sys_close(fd);
	for (ssize_t i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
		nr_open = nr_open * 10 + (uint64_t)(text[i] - '0');
	/* fs.nr_open is at most INT_MAX rounded down to a long's bits */
	if (nr_open >= 1024 && nr_open <= 0x7fffffffu && cap > nr_open)
		cap = nr_open;
	return cap > 0x7fffffffu ? 0x7fffffffu : (uint32_t)cap;
}

const struct kt_fd_entry *kt_table_map_path(const char *path, size_t *capacity)
{
	return kt_table_map_path_as(path, capacity, false);
}

const struct kt_fd_entry *kt_table_map_path_as(const char *path, size_t *capacity, bool writable)
{
	int fd = kt_sys_open_high(AT_FDCWD, path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *p = MAP_FAILED;
	/* A table grows by whole entries, its every byte reserved first: the
	 * size seen now is all there is to read (the header's capacity may
	 * already say more, or lag behind). */
	size_t cap = 0, size = 0;
	if (kt_sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (cap = kt_table_capacity_of_size((size_t)st.st_size)) > 0) {
		size = kt_table_file_size(cap);
		p = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	}
	kt_sys_close(fd);
	if (p == MAP_FAILED)
		return NULL;
	const struct kt_table_header *h = p;
	if (memcmp(h->magic, KT_TABLE_MAGIC, sizeof h->magic) != 0 || h->block_shift > 31) {
		munmap(p, size);
		return NULL;
	}
	*capacity = cap;
	return (const struct kt_fd_entry *)((const char *)p + KT_TABLE_HEADER_SIZE);
}

void kt_table_unmap(const struct kt_fd_entry *t, size_t capacity)
{
	if (t)
		munmap((char *)t - KT_TABLE_HEADER_SIZE, kt_table_file_size(capacity));
}

size_t kt_table_next_used(const struct kt_table_header *h, size_t fd, size_t end)
{
	const _Atomic uint8_t *used = kt_table_blocks_used(h);
	uint32_t shift = h->block_shift;
	while (fd < end) {
		size_t block = fd >> shift;
		if (block >= KT_TABLE_BLOCK_BITS)
			return end;
		uint8_t bits = atomic_load_explicit(&used[block / 8], memory_order_acquire);
		if (bits & (1u << (block & 7)))
			return fd;
		/* A whole byte of unused blocks at once when it is empty. */
		size_t next = bits ? block + 1 : (block | 7) + 1;
		fd = next << shift;
	}
	return end;
}

bool kt_table_lost_of(const struct kt_fd_entry *t, struct kt_rec_unrecorded *u)
{
	const struct kt_table_lost *l = &kt_table_header_of(t)->lost;
	uint32_t what = atomic_load_explicit(&l->what_plus1, memory_order_acquire);
	if (!what || what - 1 > KT_LOST_LAST)
		return false;
	*u = (struct kt_rec_unrecorded){(enum kt_lost_what)(what - 1), l->err, l->seccomp != 0,
					l->path[0] && memchr(l->path, '\0', sizeof l->path) ? l->path : NULL};
	return true;
}

size_t kt_table_lost_children(const struct kt_fd_entry *t, struct kt_table_lost_child *out,
			      size_t max)
{
	const struct kt_table_header *h = kt_table_header_of(t);
	size_t taken = atomic_load(&h->nlost_children), n = 0;
	for (size_t i = 0; i < taken && i < KT_TABLE_LOST_CHILDREN && n < max; i++) {
		const struct kt_table_lost_child *c = &h->lost_children[i];
		int32_t pid = atomic_load_explicit(&c->pid, memory_order_acquire);
		if (pid <= 0)
			continue; /* the child died filling it */
		out[n] = (struct kt_table_lost_child){.err = c->err, .start = c->start, .seccomp = c->seccomp};
		atomic_init(&out[n].pid, pid);
		n++;
	}
	return n;
}
