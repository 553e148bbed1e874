/* The shared descriptor table's names and read-only mapping (table.h). */
#include "table.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

const char *kt_how_name(enum kt_how how)
{
	static const char *const names[] = {"unknown", "open", "dup", "inherited", "exec", "received", "unknown"};
	return (unsigned)how < sizeof names / sizeof names[0] ? names[how] : "unknown";
}

const char *kt_call_name(enum kt_call call)
{
	static const char *const names[KT_CALL_COUNT] = {
		[KT_CALL_NONE] = NULL,          [KT_CALL_OPEN] = "open",
		[KT_CALL_OPEN64] = "open64",    [KT_CALL_OPENAT] = "openat",
		[KT_CALL_OPENAT64] = "openat64", [KT_CALL_CREAT] = "creat",
		[KT_CALL_CREAT64] = "creat64",  [KT_CALL_OPEN_2] = "__open_2",
		[KT_CALL_OPEN64_2] = "__open64_2", [KT_CALL_OPENAT_2] = "__openat_2",
		[KT_CALL_OPENAT64_2] = "__openat64_2", [KT_CALL_DUP] = "dup",
		[KT_CALL_DUP2] = "dup2",        [KT_CALL_DUP3] = "dup3",
		[KT_CALL_FCNTL] = "fcntl",      [KT_CALL_PIPE] = "pipe",
		[KT_CALL_PIPE2] = "pipe2",      [KT_CALL_SOCKET] = "socket",
		[KT_CALL_SOCKETPAIR] = "socketpair", [KT_CALL_ACCEPT] = "accept",
		[KT_CALL_ACCEPT4] = "accept4",  [KT_CALL_FORK] = "fork",
		[KT_CALL_FOPEN] = "fopen",      [KT_CALL_FOPEN64] = "fopen64",
		[KT_CALL_FREOPEN] = "freopen",  [KT_CALL_FREOPEN64] = "freopen64",
		[KT_CALL_FDOPEN] = "fdopen",    [KT_CALL_TMPFILE] = "tmpfile",
		[KT_CALL_TMPFILE64] = "tmpfile64", [KT_CALL_POPEN] = "popen",
		[KT_CALL_OPENDIR] = "opendir",  [KT_CALL_MKSTEMP] = "mkstemp",
		[KT_CALL_MKOSTEMP] = "mkostemp", [KT_CALL_MKSTEMPS] = "mkstemps",
		[KT_CALL_MKOSTEMPS] = "mkostemps", [KT_CALL_SHM_OPEN] = "shm_open",
		[KT_CALL_POSIX_OPENPT] = "posix_openpt", [KT_CALL_EVENTFD] = "eventfd",
		[KT_CALL_TIMERFD_CREATE] = "timerfd_create", [KT_CALL_SIGNALFD] = "signalfd",
		[KT_CALL_EPOLL_CREATE] = "epoll_create", [KT_CALL_EPOLL_CREATE1] = "epoll_create1",
		[KT_CALL_INOTIFY_INIT] = "inotify_init", [KT_CALL_INOTIFY_INIT1] = "inotify_init1",
		[KT_CALL_MEMFD_CREATE] = "memfd_create", [KT_CALL_PIDFD_OPEN] = "pidfd_open",
		[KT_CALL_PIDFD_GETFD] = "pidfd_getfd", [KT_CALL_RECVMSG] = "recvmsg",
		[KT_CALL_RECVMMSG] = "recvmmsg", [KT_CALL_FANOTIFY_INIT] = "fanotify_init",
		[KT_CALL_SYSCALL] = "syscall",  [KT_CALL_VFORK] = "vfork",
		[KT_CALL_CLONE] = "clone",      [KT_CALL__FORK] = "_Fork",
		[KT_CALL_POSIX_SPAWN] = "posix_spawn", [KT_CALL_DAEMON] = "daemon",
	};
	return (unsigned)call < KT_CALL_COUNT ? names[call] : NULL;
}

void kt_table_record_fd(struct kt_record_fd *r, int fd, uint32_t gen, int type, const char *target,
			int access, int cloexec, const struct kt_fd_entry *e, const char *site)
{
	static const char *const access_names[] = {"r", "w", "rw"};
	*r = (struct kt_record_fd){
		.fd = fd, .gen = gen, .type = kt_fd_type_name((enum kt_fd_type)type), .target = target,
		.access = access >= 0 && access <= 2 ? access_names[access] : NULL,
		.cloexec = cloexec > 0, .how = kt_how_name((enum kt_how)e->how),
		.call = kt_call_name((enum kt_call)e->call), .src_fd = -1, .site = site,
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
	/* 2^20 (the kernel's default fs.nr_open, a 168 MB sparse file), or
	 * the hard RLIMIT_NOFILE when higher, within fs.nr_open: systemd sets
	 * fs.nr_open to 2^30, and a table that size (180 GB of address space
	 * per process) would fail under `ulimit -v` or a sanitizer's layout.
	 * Raising the hard limit later takes CAP_SYS_RESOURCE. */
	uint64_t cap = 1u << 20, nr_open = 0;
	struct rlimit rl;
	if (kt_sys_getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max > cap)
		cap = rl.rlim_max;
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
	int fd = kt_sys_open_high(AT_FDCWD, path, O_RDONLY, 0);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *p = MAP_FAILED;
	if (kt_sys_fstat(fd, &st) == 0 && (size_t)st.st_size >= KT_TABLE_HEADER_SIZE)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	kt_sys_close(fd);
	if (p == MAP_FAILED)
		return NULL;
	const struct kt_table_header *h = p;
	if (memcmp(h->magic, KT_TABLE_MAGIC, sizeof h->magic) != 0 ||
	    kt_table_file_size(h->capacity) != (size_t)st.st_size) {
		munmap(p, (size_t)st.st_size);
		return NULL;
	}
	*capacity = h->capacity;
	return (const struct kt_fd_entry *)((const char *)p + KT_TABLE_HEADER_SIZE);
}

void kt_table_unmap(const struct kt_fd_entry *t)
{
	if (t)
		munmap((char *)t - KT_TABLE_HEADER_SIZE, kt_table_file_size(kt_table_header_of(t)->capacity));
}
