/* Readers of /proc (see procfs.h). Every call goes through raw system calls. */
#include "procfs.h"
#include "sys.h"

#include <dirent.h>
#include <sys/auxv.h>
#include <time.h>
#include <string.h>
#include <sys/resource.h>

/* Where the shim's own descriptors go: just below the soft limit, the
 * numbers an application reaches last, but never above 1024: the kernel
 * never shrinks a descriptor table, and one grown to a high limit (often
 * 2^20) would make every later fork of the application copy it and every
 * /proc/PID/fd listing walk it. Cached; asked again when the limit has moved
 * under us (F_DUPFD then fails with EINVAL). */
static long high_floor(int refresh)
{
	static long cached;
	long floor = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (floor && !refresh)
		return floor;
	struct rlimit rl;
	floor = 1024;
	if (kt_sys_getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > 64)
		floor = (long)rl.rlim_cur - 32;
	if (floor > 1024 - 32)
		floor = 1024 - 32;
	__atomic_store_n(&cached, floor, __ATOMIC_RELAXED);
	return floor;
}

__thread int kt_fds_may_stay_low __attribute__((tls_model("initial-exec")));

int kt_sys_move_high(int fd)
{
	if (fd < 0 || kt_fds_may_stay_low)
		return fd;
	int high = kt_sys_fcntl(fd, F_DUPFD_CLOEXEC, high_floor(0));
	if (high == -EINVAL)
		high = kt_sys_fcntl(fd, F_DUPFD_CLOEXEC, high_floor(1));
	if (high < 0)
		return fd; /* keep the low one rather than fail */
	kt_sys_close(fd);
	return high;
}

int kt_sys_open_high(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd = kt_sys_openat(dirfd, path, flags | O_CLOEXEC, mode);
	return fd < 0 ? fd : kt_sys_move_high(fd);
}

static void fmt_pid_path(char *out, pid_t pid, const char *suffix)
{
	/* "/proc/self/..." or "/proc/PID/..." without snprintf (async-signal-safe). */
	char digits[16];
	int n = 0;
	strcpy(out, "/proc/");
	out += 6;
	if (pid == 0) {
		strcpy(out, "self");
		out += 4;
	} else {
		unsigned v = (unsigned)pid;
		do {
			digits[n++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (n)
			*out++ = digits[--n];
	}
	strcpy(out, suffix);
}

/* u in decimal at out, NUL-terminated; returns where the NUL is. */
static char *fmt_unsigned(char *out, unsigned long long u)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*out++ = digits[--n];
	*out = '\0';
	return out;
}

static char *fmt_int(char *out, long v)
{
	if (v < 0)
		*out++ = '-';
	return fmt_unsigned(out, v < 0 ? 0UL - (unsigned long)v : (unsigned long)v);
}

void kt_proc_name(char *out, pid_t pid, unsigned long long start, const char *suffix)
{
	out = fmt_int(out, pid);
	*out++ = '-';
	out = fmt_unsigned(out, start);
	strcpy(out, suffix);
}

int kt_proc_stat_all(pid_t pid, struct kt_proc_stat *out)
{
	char path[64], buf[1024];
	fmt_pid_path(path, pid, "/stat");
	int fd = kt_sys_open_high(AT_FDCWD, path, O_RDONLY, 0);
	if (fd < 0)
		return fd == -ENOENT ? -ESRCH : fd;
	ssize_t n = kt_sys_read(fd, buf, sizeof buf - 1);
	kt_sys_close(fd);
	if (n <= 0)
		return n < 0 ? (int)n : -ESRCH;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	*out = (struct kt_proc_stat){.state = *p};
	/* p is at field 3 (state); 4 is ppid, 14 and 15 utime and stime, 22
	 * starttime. */
	int field = 3;
	unsigned long long value = 0;
	for (; *p && field <= 22; p++) {
		if (*p == ' ' || *p == '\n') {
			if (field == 4)
				out->ppid = (pid_t)value;
			else if (field == 14 || field == 15)
				out->cpu += value;
			else if (field == 22)
				return out->start = value, 0;
			field++;
			value = 0;
		} else if (*p >= '0' && *p <= '9') {
			value = value * 10 + (unsigned)(*p - '0');
		}
	}
	if (field == 22)
		return out->start = value, 0;
	return -EINVAL;
}

unsigned long long kt_boot_ns(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_BOOTTIME, &t) != 0)
		return 0;
	return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

/* The kernel gives a process's start as its boot-time nanoseconds divided
 * by NSEC_PER_SEC / USER_HZ (nsec_to_clock_t), taken while it is made: a
 * reading before the fork and one after it bracket it. */
bool kt_start_between(unsigned long long before, unsigned long long after, unsigned long long *start)
{
	unsigned long hz = getauxval(AT_CLKTCK);
	if (hz == 0 || 1000000000UL % hz != 0 || before == 0 || after < before)
		return false;
	unsigned long long per_tick = 1000000000ULL / hz;
	if (before / per_tick != after / per_tick)
		return false;
	*start = before / per_tick;
	return true;
}

int kt_proc_stat(pid_t pid, unsigned long long *start, pid_t *ppid, char *state)
{
	struct kt_proc_stat st;
	int r = kt_proc_stat_all(pid, &st);
	if (r != 0)
		return r;
	if (start)
		*start = st.start;
	if (ppid)
		*ppid = st.ppid;
	if (state)
		*state = st.state;
	return 0;
}

int kt_proc_alive(pid_t pid, unsigned long long start)
{
	unsigned long long s;
	char state;
	if (pid <= 0 || kt_proc_stat(pid, &s, NULL, &state) != 0)
		return 0;
	return s == start && state != 'Z' && state != 'X' && state != 'x';
}

long kt_proc_list_fds(pid_t pid, int *fds, size_t max)
{
	char path[64];
	char buf[8192] __attribute__((aligned(8)));
	fmt_pid_path(path, pid, "/fd");
	/* No O_DIRECTORY: man-db's permissive seccomp filter refuses opens
	 * with any bit of O_TMPFILE, O_DIRECTORY's among them (getdents64
	 * says ENOTDIR if this is no directory). */
	int dfd = kt_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (dfd < 0)
		return dfd;
	dfd = kt_sys_move_high(dfd);
	size_t count = 0;
	for (;;) {
		long n = kt_sys_getdents64(dfd, buf, sizeof buf);
		if (n < 0) {
			kt_sys_close(dfd);
			return n;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			long v = 0;
			for (const char *c = d->d_name; *c; c++)
				v = v * 10 + (*c - '0');
			if (pid == 0 && v == dfd)
				continue;
			if (count < max)
				fds[count] = (int)v;
			count++;
		}
	}
	kt_sys_close(dfd);
	/* /proc lists in ascending order already; keep the promise cheaply. */
	size_t stored = count < max ? count : max;
	for (size_t i = 1; i < stored; i++) {
		int v = fds[i];
		size_t j = i;
		while (j > 0 && fds[j - 1] > v) {
			fds[j] = fds[j - 1];
			j--;
		}
		fds[j] = v;
	}
	return (long)count;
}

long kt_proc_list_all(pid_t pid, struct kt_fd_list *l)
{
	for (;;) {
		if (l->cap == 0 || l->fds == NULL) {
			size_t cap = l->cap ? l->cap : 256;
			l->fds = l->grow(l->ctx, l->fds, cap * sizeof *l->fds);
			l->cap = l->fds ? cap : 0;
			if (!l->fds)
				return -ENOMEM;
		}
		long n = kt_proc_list_fds(pid, l->fds, l->cap);
		if (n < 0 || (size_t)n <= l->cap)
			return n;
		size_t want = (size_t)n * 2;
		int *bigger = l->grow(l->ctx, l->fds, want * sizeof *bigger);
		if (!bigger)
			return -ENOMEM;
		l->fds = bigger;
		l->cap = want;
	}
}

static void fd_path(char *out, pid_t pid, int fd, const char *dir)
{
	char suffix[48];
	strcpy(suffix, dir);
	fmt_int(suffix + strlen(suffix), fd);
	fmt_pid_path(out, pid, suffix);
}

int kt_fd_inode(pid_t pid, int fd, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	int r;
	if (pid == 0) {
		r = kt_sys_fstat(fd, &st);
	} else {
		char path[64];
		fd_path(path, pid, fd, "/fd/");
		r = kt_sys_fstatat(AT_FDCWD, path, &st, 0);
	}
	if (r < 0)
		return r;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* The flags of "flags:\t0100002" in the text of a fdinfo file. */
static int parse_flags(char *buf, ssize_t n, long *flags)
{
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	char *p = strstr(buf, "flags:");
	if (!p)
		return -EINVAL;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	long v = 0;
	for (; *p >= '0' && *p <= '7'; p++)
		v = v * 8 + (*p - '0');
	*flags = v;
	return 0;
}

/* Parse "flags:\t0100002" from /proc/PID/fdinfo/FD. */
static int fdinfo_flags(pid_t pid, int fd, long *flags)
{
	char path[64], buf[512];
	fd_path(path, pid, fd, "/fdinfo/");
	int f = kt_sys_open_high(AT_FDCWD, path, O_RDONLY, 0);
	if (f < 0)
		return f;
	ssize_t n = kt_sys_read(f, buf, sizeof buf - 1);
	kt_sys_close(f);
	return parse_flags(buf, n, flags);
}

/* Type, inode and target of info from its stat and its link. */
static void set_type(struct kt_fd_info *info, const struct stat *st)
{
	info->dev = st->st_dev;
	info->ino = st->st_ino;
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: info->type = KT_FD_FILE; break;
	case S_IFDIR: info->type = KT_FD_DIR; break;
	case S_IFSOCK: info->type = KT_FD_SOCKET; break;
	case S_IFCHR: info->type = KT_FD_CHR; break;
	case S_IFBLK: info->type = KT_FD_BLK; break;
	case S_IFIFO: info->type = strncmp(info->target, "pipe:", 5) == 0 ? KT_FD_PIPE : KT_FD_FIFO; break;
	default: info->type = KT_FD_UNKNOWN; break;
	}
	if (strncmp(info->target, "anon_inode:", 11) == 0)
		info->type = KT_FD_ANON;
}

static void set_flags(struct kt_fd_info *info, long flags, int cloexec)
{
	info->cloexec = cloexec;
	info->access = flags < 0 ? -1 : (int)(flags & O_ACCMODE);
}

int kt_fd_describe(pid_t pid, int fd, struct kt_fd_info *info)
{
	return kt_fd_describe_known(pid, fd, info, NULL);
}

int kt_fd_describe_known(pid_t pid, int fd, struct kt_fd_info *info, const struct kt_fd_known *known)
{
	struct stat st;
	char path[64];
	int r;
	fd_path(path, pid, fd, "/fd/");
	if (pid == 0)
		r = kt_sys_fstat(fd, &st);
	else
		r = kt_sys_fstatat(AT_FDCWD, path, &st, 0);
	if (r < 0)
		return r;
	/* A device's, FIFO's or socket's target is fixed by its inode (the
	 * kernel names sockets and pipes by it): known, or named, not read. */
	bool same_file = known && known->dev == st.st_dev && known->ino == st.st_ino;
	size_t known_len = same_file && known->target ? strlen(known->target) : 0;
	if (pid == 0 && S_ISSOCK(st.st_mode)) {
		strcpy(info->target, "socket:[");
		strcpy(fmt_unsigned(info->target + strlen("socket:["), (unsigned long long)st.st_ino), "]");
	} else if (pid == 0 && known_len > 0 && known_len < sizeof info->target &&
		   (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		memcpy(info->target, known->target, known_len + 1);
	} else {
		ssize_t n = kt_sys_readlinkat(AT_FDCWD, path, info->target, sizeof info->target - 1);
		info->target[n > 0 ? n : 0] = '\0';
	}
	set_type(info, &st);

	long flags = -1;
	if (pid == 0) {
		/* An access mode never changes: known for the same file. Not a
		 * pipe's: its two ends share the inode, and a number made as one
		 * end may hold the other now (a dup behind the shim). */
		bool same = known && known->access >= 0 && known->dev == info->dev && known->ino == info->ino &&
			    !S_ISFIFO(st.st_mode);
		flags = same ? known->access : kt_sys_fcntl(fd, F_GETFL, 0);
		int fdflags = kt_sys_fcntl(fd, F_GETFD, 0);
		if (fdflags < 0)
			flags = -1; /* closed meanwhile */
		set_flags(info, flags, fdflags < 0 ? -1 : (fdflags & FD_CLOEXEC) != 0);
	} else {
		if (fdinfo_flags(pid, fd, &flags) < 0)
			flags = -1;
		set_flags(info, flags, flags < 0 ? -1 : (flags & O_CLOEXEC) != 0);
	}
	return 0;
}

int kt_proc_fd_dirs(pid_t pid, struct kt_proc_fd_dirs *dirs)
{
	char path[64];
	fmt_pid_path(path, pid, "/fd");
	/* No O_DIRECTORY: see kt_proc_list_fds. */
	dirs->fd = kt_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (dirs->fd < 0)
		return dirs->fd;
	fmt_pid_path(path, pid, "/fdinfo");
	dirs->fdinfo = kt_sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (dirs->fdinfo < 0) {
		int r = dirs->fdinfo;
		kt_sys_close(dirs->fd);
		return r;
	}
	return 0;
}

void kt_proc_fd_dirs_close(struct kt_proc_fd_dirs *dirs)
{
	kt_sys_close(dirs->fd);
	kt_sys_close(dirs->fdinfo);
	dirs->fd = dirs->fdinfo = -1;
}

int kt_fd_describe_in(const struct kt_proc_fd_dirs *dirs, int fd, struct kt_fd_info *info)
{
	char name[24], buf[512];
	struct stat st;
	fmt_int(name, fd);
	int r = kt_sys_fstatat(dirs->fd, name, &st, 0);
	if (r < 0)
		return r;
	ssize_t n = kt_sys_readlinkat(dirs->fd, name, info->target, sizeof info->target - 1);
	info->target[n > 0 ? n : 0] = '\0';
	set_type(info, &st);
	long flags = -1;
	int f = kt_sys_openat(dirs->fdinfo, name, O_RDONLY | O_CLOEXEC, 0);
	if (f >= 0) {
		n = kt_sys_read(f, buf, sizeof buf - 1);
		kt_sys_close(f);
		if (parse_flags(buf, n, &flags) < 0)
			flags = -1;
	}
	set_flags(info, flags, flags < 0 ? -1 : (flags & O_CLOEXEC) != 0);
	return 0;
}
