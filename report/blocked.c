/* What a live process is blocked on (see blocked.h): the system call each
 * thread sleeps in and its arguments, classified by a table. */
#include "blocked.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

/* The most poll entries or select bits read from a process. */
#define MAX_SET 65536

/* How the arguments of a call say what it waits for. */
enum shape { ON_FD_IN, ON_FD_OUT, ON_POLL, ON_PPOLL, ON_SELECT, ON_EPOLL, ON_EPOLL2, ON_WAIT4,
	     ON_WAITID, ON_FLOCK, ON_FCNTL, ON_SLEEP, ON_OPEN, ON_OPENAT, ON_SPLICE, ON_TEE,
	     ON_SENDFILE, ON_OTHER };

static const struct call_shape {
	long nr;
	const char *name;
	enum shape shape;
} calls[] = {
	{SYS_read, "read", ON_FD_IN},           {SYS_readv, "readv", ON_FD_IN},
	{SYS_pread64, "pread64", ON_FD_IN},     {SYS_preadv, "preadv", ON_FD_IN},
	{SYS_recvfrom, "recvfrom", ON_FD_IN},   {SYS_recvmsg, "recvmsg", ON_FD_IN},
	{SYS_recvmmsg, "recvmmsg", ON_FD_IN},   {SYS_accept, "accept", ON_FD_IN},
	{SYS_accept4, "accept4", ON_FD_IN},     {SYS_write, "write", ON_FD_OUT},
	{SYS_writev, "writev", ON_FD_OUT},      {SYS_pwrite64, "pwrite64", ON_FD_OUT},
	{SYS_pwritev, "pwritev", ON_FD_OUT},    {SYS_sendto, "sendto", ON_FD_OUT},
	{SYS_sendmsg, "sendmsg", ON_FD_OUT},    {SYS_sendmmsg, "sendmmsg", ON_FD_OUT},
	{SYS_connect, "connect", ON_FD_OUT},
#ifdef SYS_poll
	{SYS_poll, "poll", ON_POLL},
#endif
	{SYS_ppoll, "ppoll", ON_PPOLL},
#ifdef SYS_select
	{SYS_select, "select", ON_SELECT},
#endif
	{SYS_pselect6, "pselect6", ON_SELECT},
#ifdef SYS_epoll_wait
	{SYS_epoll_wait, "epoll_wait", ON_EPOLL},
#endif
	{SYS_epoll_pwait, "epoll_pwait", ON_EPOLL},
#ifdef SYS_epoll_pwait2
	{SYS_epoll_pwait2, "epoll_pwait2", ON_EPOLL2},
#endif
	{SYS_wait4, "wait4", ON_WAIT4},         {SYS_waitid, "waitid", ON_WAITID},
	{SYS_flock, "flock", ON_FLOCK},         {SYS_fcntl, "fcntl", ON_FCNTL},
#ifdef SYS_nanosleep
	{SYS_nanosleep, "nanosleep", ON_SLEEP},
#endif
	{SYS_clock_nanosleep, "clock_nanosleep", ON_SLEEP},
	/* Named, but not followed: a signal or another thread wakes them. */
	{SYS_futex, "futex", ON_OTHER},         {SYS_rt_sigsuspend, "rt_sigsuspend", ON_OTHER},
	{SYS_rt_sigtimedwait, "rt_sigtimedwait", ON_OTHER},
#ifdef SYS_pause
	{SYS_pause, "pause", ON_OTHER},
#endif
	{SYS_ioctl, "ioctl", ON_OTHER},
	/* Data moved between two descriptors: either side can hold it. */
	{SYS_splice, "splice", ON_SPLICE},      {SYS_tee, "tee", ON_TEE},
	{SYS_sendfile, "sendfile", ON_SENDFILE}, {SYS_copy_file_range, "copy_file_range", ON_SPLICE},
	/* An open blocks on a FIFO until its other end is opened. */
#ifdef SYS_open
	{SYS_open, "open", ON_OPEN},
#endif
	{SYS_openat, "openat", ON_OPENAT},
#ifdef SYS_openat2
	{SYS_openat2, "openat2", ON_OPENAT},
#endif
};

static const struct call_shape *shape_of(long nr)
{
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (calls[i].nr == nr)
			return &calls[i];
	return NULL;
}

/* A small /proc/PID/NAME file into buf. Returns its length or -errno. */
static ssize_t read_proc(int pid, const char *name, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

/* task: "" for the process, "task/TID/" for one of its threads. */
static void read_state(int pid, const char *task, struct kt_blocked *b)
{
	char buf[1024], name[64];
	b->state = '?';
	snprintf(name, sizeof name, "%sstat", task);
	if (read_proc(pid, name, buf, sizeof buf) > 0) {
		const char *paren = strrchr(buf, ')');
		if (paren != NULL && paren[1] == ' ')
			b->state = paren[2];
		long threads = 0;
		const char *p = paren;
		for (int field = 2; p != NULL && field < 20; field++) {
			p = strchr(p + 1, ' ');
			if (p != NULL && (field == 13 || field == 14)) /* fields 14, 15 */
				b->cpu += strtoull(p + 1, NULL, 10);
		}
		if (p != NULL)
			threads = strtol(p + 1, NULL, 10); /* field 20, num_threads */
		b->threads = threads > 0 ? (int)threads : 1;
	}
	snprintf(name, sizeof name, "%swchan", task);
	if (read_proc(pid, name, b->wchan, sizeof b->wchan) < 0 || strcmp(b->wchan, "0") == 0)
		b->wchan[0] = '\0';
}

static void add_fd(struct kt_blocked *b, size_t *cap, int fd, bool in, bool out)
{
	for (size_t i = 0; i < b->nfds; i++)
		if (b->fds[i].fd == fd) {
			b->fds[i].in |= in;
			b->fds[i].out |= out;
			return;
		}
	*KT_PUSH(b->fds, b->nfds, *cap) = (struct kt_blocked_fd){fd, in, out};
}

static bool read_memory(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static void read_pollfds(int pid, uint64_t addr, uint64_t n, struct kt_blocked *b)
{
	if (n > MAX_SET)
		return;
	struct pollfd *p = kt_xcalloc(n + 1, sizeof *p);
	size_t cap = 0;
	if (read_memory(pid, addr, p, n * sizeof *p)) {
		b->fds_known = true;
		for (uint64_t i = 0; i < n; i++)
			if (p[i].fd >= 0)
				add_fd(b, &cap, p[i].fd, p[i].events & (POLLIN | POLLPRI),
				       p[i].events & POLLOUT);
	}
	free(p);
}

static void read_fdsets(int pid, const uint64_t *a, struct kt_blocked *b)
{
	uint64_t n = a[0];
	if (n > MAX_SET)
		return;
	size_t bytes = (n + 63) / 64 * 8, cap = 0;
	unsigned char *set = kt_xcalloc(bytes + 1, 1);
	b->fds_known = true;
	for (int which = 1; which <= 3; which++) {
		if (a[which] == 0)
			continue;
		if (!read_memory(pid, a[which], set, bytes)) {
			b->fds_known = false;
			break;
		}
		for (uint64_t fd = 0; fd < n; fd++)
			if (set[fd / 8] & (1u << (fd % 8)))
				add_fd(b, &cap, (int)fd, which != 2, which == 2);
	}
	free(set);
}

/* The interest list of epoll descriptor epfd: "tfd: 3 events: 19 ..." lines. */
static void read_epoll(int pid, int epfd, struct kt_blocked *b)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, epfd);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	size_t cap = 0;
	b->fds_known = true;
	while (fgets(line, sizeof line, f)) {
		int tfd;
		unsigned events;
		if (sscanf(line, "tfd: %d events: %x", &tfd, &events) == 2)
			add_fd(b, &cap, tfd, events & (POLLIN | POLLPRI), events & POLLOUT);
	}
	fclose(f);
}

/* The pid a pidfd of process pid refers to (its fdinfo's "Pid:"), or 0. */
static int pidfd_target(int pid, int fd)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
	FILE *f = fopen(path, "re");
	int target = 0;
	while (f != NULL && fgets(line, sizeof line, f))
		if (sscanf(line, "Pid: %d", &target) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return target;
}

/* A NUL-terminated string of process pid at addr, NULL when unreadable
 * (process_vm_readv needs ptrace-attach permission, as the call did). */
static char *read_string(int pid, uint64_t addr)
{
	char *s = kt_xmalloc(PATH_MAX + 1);
	size_t got = 0;
	/* Page by page: a string near the end of a mapping must not fail for
	 * the unmapped bytes after it. */
	while (addr != 0 && got < PATH_MAX) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		if (chunk > PATH_MAX - got)
			chunk = PATH_MAX - got;
		if (!read_memory(pid, addr + got, s + got, chunk))
			break;
		char *nul = memchr(s + got, '\0', chunk);
		if (nul != NULL)
			return s;
		got += chunk;
	}
	free(s);
	return NULL;
}

/* open/openat blocked: on a FIFO, waiting for a process to open its other
 * end (the kernel sleeps in fifo_open, or wait_for_partner). The path is
 * read from the process's memory and resolved against its working
 * directory or directory descriptor; with no path, wchan tells. */
static void classify_open(int pid, uint64_t dirfd, uint64_t path_addr, uint64_t flags,
			  struct kt_blocked *b)
{
	b->kind = KT_BLOCK_OTHER;
	b->path = read_string(pid, path_addr);
	bool fifo = false;
	if (b->path != NULL) {
		char where[PATH_MAX + 64];
		if (b->path[0] == '/')
			snprintf(where, sizeof where, "%s", b->path);
		else if ((int)dirfd == AT_FDCWD)
			snprintf(where, sizeof where, "/proc/%d/cwd/%s", pid, b->path);
		else
			snprintf(where, sizeof where, "/proc/%d/fd/%d/%s", pid, (int)dirfd, b->path);
		struct stat st;
		fifo = stat(where, &st) == 0 && S_ISFIFO(st.st_mode);
	}
	if (!fifo && strstr(b->wchan, "fifo") == NULL && strcmp(b->wchan, "wait_for_partner") != 0)
		return;
	b->kind = KT_BLOCK_FIFO_OPEN;
	b->in = (flags & O_ACCMODE) == O_RDONLY;
	b->out = (flags & O_ACCMODE) == O_WRONLY;
}

/* Two descriptors, from one (in) to the other (out): a set of two. */
static void classify_pair(int in_fd, int out_fd, struct kt_blocked *b)
{
	size_t cap = 0;
	b->kind = KT_BLOCK_FDS;
	b->fds_known = true;
	add_fd(b, &cap, in_fd, true, false);
	add_fd(b, &cap, out_fd, false, true);
}

static void classify(int pid, const struct call_shape *c, const uint64_t *a, struct kt_blocked *b)
{
	b->kind = KT_BLOCK_FD;
	switch (c->shape) {
	case ON_FD_IN:
	case ON_FD_OUT:
		b->fd = (int)a[0];
		b->in = c->shape == ON_FD_IN;
		b->out = !b->in;
		break;
	case ON_POLL:
		b->kind = KT_BLOCK_FDS;
		b->timeout = (int)a[2] >= 0;
		read_pollfds(pid, a[0], a[1], b);
		break;
	case ON_PPOLL:
		b->kind = KT_BLOCK_FDS;
		b->timeout = a[2] != 0;
		read_pollfds(pid, a[0], a[1], b);
		break;
	case ON_SELECT:
		b->kind = KT_BLOCK_FDS;
		b->timeout = a[4] != 0;
		read_fdsets(pid, a, b);
		break;
	case ON_EPOLL:
	case ON_EPOLL2:
		b->kind = KT_BLOCK_FDS;
		b->timeout = c->shape == ON_EPOLL ? (int)a[3] >= 0 : a[3] != 0;
		read_epoll(pid, (int)a[0], b);
		break;
	case ON_WAIT4:
		b->kind = KT_BLOCK_WAIT;
		b->pid = (int)a[0] == 0 ? -getpgid(pid) : (int)a[0];
		break;
	case ON_WAITID:
		b->kind = KT_BLOCK_WAIT;
		b->pid = a[0] == P_PID	  ? (int)a[1]
			 : a[0] == P_PGID ? -(a[1] ? (int)a[1] : getpgid(pid))
			 : a[0] == P_PIDFD ? pidfd_target(pid, (int)a[1])
					   : -1;
		break;
	case ON_FLOCK:
		b->kind = KT_BLOCK_LOCK;
		b->fd = (int)a[0];
		break;
	case ON_FCNTL:
		b->kind = a[1] == F_SETLKW || a[1] == F_OFD_SETLKW ? KT_BLOCK_LOCK : KT_BLOCK_OTHER;
		b->fd = (int)a[0];
		break;
	case ON_SLEEP:
		b->kind = KT_BLOCK_SLEEP;
		b->timeout = true;
		break;
	case ON_OPEN:
		classify_open(pid, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1], b);
		break;
	case ON_OPENAT:
		/* openat2's flags are the first field of its struct open_how */
		if (c->nr == SYS_openat) {
			classify_open(pid, a[0], a[1], a[2], b);
		} else {
			uint64_t flags = 0;
			classify_open(pid, a[0], a[1],
				      read_memory(pid, a[2], &flags, sizeof flags) ? flags : O_RDONLY, b);
		}
		break;
	case ON_SPLICE: /* splice, copy_file_range: (in, off, out, ...) */
		classify_pair((int)a[0], (int)a[2], b);
		break;
	case ON_TEE:
		classify_pair((int)a[0], (int)a[1], b);
		break;
	case ON_SENDFILE: /* (out, in, ...) */
		classify_pair((int)a[1], (int)a[0], b);
		break;
	case ON_OTHER:
		b->kind = KT_BLOCK_OTHER;
		break;
	}
}

/* Whether addr lies in a private mapping of process pid: a futex there is
 * woken only by the process's own threads. */
static bool private_memory(int pid, uint64_t addr)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	bool found = false;
	unsigned long long lo, hi;
	char perms[8];
	while (f != NULL && !found && fgets(line, sizeof line, f))
		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi)
			found = perms[3] == 'p';
	if (f != NULL)
		fclose(f);
	return found;
}

/* One thread's call: task "" for the main thread, "task/TID/". */
static int read_task(int pid, const char *task, struct kt_blocked *b)
{
	*b = (struct kt_blocked){.kind = KT_BLOCK_OTHER, .nr = -1, .fd = -1, .threads = 1};
	read_state(pid, task, b);
	if (b->state == '?')
		return ESRCH;
	if (b->state == 'T' || b->state == 't') {
		b->kind = KT_BLOCK_STOPPED;
		return 0;
	}
	char buf[512], name[64];
	snprintf(name, sizeof name, "%ssyscall", task);
	ssize_t n = read_proc(pid, name, buf, sizeof buf);
	if (n < 0) {
		b->error = (int)-n;
		return b->error == ENOENT ? ESRCH : 0;
	}
	uint64_t a[6] = {0};
	long nr;
	if (strncmp(buf, "running", 7) == 0 ||
	    sscanf(buf, "%ld %lx %lx %lx %lx %lx %lx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4],
		   &a[5]) < 1 ||
	    nr < 0) {
		b->kind = b->state == 'R' || strncmp(buf, "running", 7) == 0 ? KT_BLOCK_RUNNING
									  : KT_BLOCK_OTHER;
		return 0;
	}
	b->nr = nr;
	const struct call_shape *c = shape_of(nr);
	if (c == NULL)
		return 0;
	b->call = c->name;
	classify(pid, c, a, b);
	if (nr == SYS_futex)
		b->futex_own = (a[1] & 128 /* FUTEX_PRIVATE_FLAG */) || private_memory(pid, a[0]);
	return 0;
}

/* A call that says what would end it (a descriptor, a child, a lock). */
static bool followed(const struct kt_blocked *b)
{
	return b->kind == KT_BLOCK_FD || b->kind == KT_BLOCK_FDS || b->kind == KT_BLOCK_WAIT ||
	       b->kind == KT_BLOCK_LOCK || b->kind == KT_BLOCK_FIFO_OPEN;
}

int kt_blocked_read(int pid, struct kt_blocked *b)
{
	int err = read_task(pid, "", b);
	b->all_threads = b->threads <= 1;
	if (err != 0 || b->threads <= 1 || b->error != 0)
		return err;
	/* Every other thread (/proc/PID/task/TID/syscall). */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	size_t cap = 0;
	bool all = true;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int tid = atoi(de->d_name);
		if (tid <= 0 || tid == pid)
			continue;
		char task[48];
		snprintf(task, sizeof task, "task/%d/", tid);
		struct kt_blocked *t = KT_PUSH(b->others, b->nothers, cap);
		if (read_task(pid, task, t) != 0) {
			b->nothers--; /* it ended meanwhile */
			continue;
		}
		t->tid = tid;
		all &= t->error == 0;
	}
	closedir(d);
	b->all_threads = all;
	if (followed(b))
		return 0;
	/* The main thread waits in a call not followed (pthread_join...):
	 * the first thread that waits in one stands for the process. */
	for (size_t i = 0; i < b->nothers; i++)
		if (followed(&b->others[i])) {
			struct kt_blocked main_thread = *b, chosen = b->others[i];
			main_thread.others = NULL;
			main_thread.nothers = 0;
			chosen.others = b->others;
			chosen.nothers = b->nothers;
			chosen.others[i] = main_thread;
			chosen.threads = main_thread.threads;
			chosen.cpu = main_thread.cpu; /* the process's, all threads */
			chosen.all_threads = all;
			*b = chosen;
			break;
		}
	return 0;
}

void kt_blocked_free(struct kt_blocked *b)
{
	for (size_t i = 0; i < b->nothers; i++)
		kt_blocked_free(&b->others[i]);
	free(b->others);
	b->others = NULL;
	b->nothers = 0;
	free(b->path);
	b->path = NULL;
	free(b->fds);
	b->fds = NULL;
	b->nfds = 0;
}

static void describe_call(const struct kt_blocked *b, char *buf, size_t len);

void kt_blocked_describe(const struct kt_blocked *b, char *buf, size_t len)
{
	describe_call(b, buf, len);
	size_t n = strlen(buf);
	if (b->tid > 0 && n < len)
		snprintf(buf + n, len - n, " (thread %d)", b->tid);
}

static void describe_call(const struct kt_blocked *b, char *buf, size_t len)
{
	int n = 0;
	switch (b->kind) {
	case KT_BLOCK_RUNNING:
		snprintf(buf, len, "running");
		return;
	case KT_BLOCK_STOPPED:
		snprintf(buf, len, "stopped");
		return;
	case KT_BLOCK_FD:
	case KT_BLOCK_LOCK:
		snprintf(buf, len, "%s on fd %d", b->call, b->fd);
		return;
	case KT_BLOCK_WAIT:
		if (b->pid == -1)
			snprintf(buf, len, "%s for any child", b->call);
		else if (b->pid < -1)
			snprintf(buf, len, "%s for process group %d", b->call, -b->pid);
		else
			snprintf(buf, len, "%s for %d", b->call, b->pid);
		return;
	case KT_BLOCK_FDS:
		n = snprintf(buf, len, "%s on fd%s", b->call, b->nfds == 1 ? "" : "s");
		for (size_t i = 0; i < b->nfds && n > 0 && (size_t)n < len; i++)
			n += snprintf(buf + n, len - (size_t)n, "%s %d", i ? "," : "", b->fds[i].fd);
		if (!b->fds_known && n > 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, " (set unknown)");
		return;
	case KT_BLOCK_SLEEP:
		snprintf(buf, len, "%s", b->call);
		return;
	case KT_BLOCK_FIFO_OPEN:
		snprintf(buf, len, "%s of FIFO %s, waiting for a %s", b->call,
			 b->path != NULL ? b->path : "(path unreadable)",
			 b->in ? "writer" : b->out ? "reader" : "process at its other end");
		return;
	default:
		if (b->error != 0)
			snprintf(buf, len, "a call that could not be read (%s)", kt_errno_name(b->error));
		else if (b->call != NULL)
			snprintf(buf, len, "%s", b->call);
		else if (b->nr >= 0)
			snprintf(buf, len, "system call %ld", b->nr);
		else
			snprintf(buf, len, "other%s%s", b->wchan[0] ? " in " : "", b->wchan);
	}
}
