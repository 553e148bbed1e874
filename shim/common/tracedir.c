/* A trace directory's layout, making and removing it (tracedir.h). Uses
 * only calls the shim does not interpose and no malloc; descriptors go high
 * (kt_sys_open_high), away from the numbers a program would get. */
#include "tracedir.h"
#include "procfs.h"
#include "sys.h"
#include "watch_proto.h"

#include <dirent.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define SHM_PREFIX "/dev/shm/kcmptrace."

const char *kt_trace_tmp_parent(void)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;
	if (tmp && *tmp)
		return tmp;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

int kt_trace_make_temp(char *out, size_t n)
{
	if (snprintf(out, n, "%s/kcmptrace.XXXXXX", kt_trace_tmp_parent()) >= (int)n)
		return -ENAMETOOLONG;
	return mkdtemp(out) ? 0 : -errno;
}

int kt_trace_dir_safe(const char *dir, const char **why)
{
	struct stat st;
	*why = NULL;
	if (stat(dir, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		*why = "is owned by another user";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		*why = "can be written by other users";
	return *why ? -EPERM : 0;
}

/* "DIR/NAME" into out; false when it does not fit. */
static bool join(char *out, size_t n, const char *dir, const char *name)
{
	return (size_t)snprintf(out, n, "%s/%s", dir, name) < n;
}

int kt_trace_make_live(const char *dir)
{
	char live[4200], shm[64];
	struct stat st;
	struct statfs fs;
	if (!join(live, sizeof live, dir, KT_TRACE_LIVE))
		return -ENAMETOOLONG;
	if (stat(live, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	bool in_memory = statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
	strcpy(shm, SHM_PREFIX "XXXXXX");
	if (!in_memory && mkdtemp(shm)) {
		if (symlink(shm, live) == 0)
			return 0;
		int err = errno;
		rmdir(shm);
		/* Another process of the tree made it first. */
		if (err == EEXIST && stat(live, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	if (mkdir(live, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool named_path(char *out, size_t n, const char *dir, const char *sub, pid_t pid,
		       unsigned long long start, const char *suffix)
{
	char name[64];
	kt_proc_name(name, pid, start, suffix);
	return (size_t)snprintf(out, n, "%s/%s%s", dir, sub, name) < n;
}

bool kt_trace_rec_path(char *out, size_t n, const char *dir, pid_t pid, unsigned long long start)
{
	return named_path(out, n, dir, "", pid, start, KT_TRACE_REC);
}

bool kt_trace_table_path(char *out, size_t n, const char *dir, pid_t pid, unsigned long long start)
{
	return named_path(out, n, dir, KT_TRACE_LIVE "/", pid, start, KT_TRACE_TBL);
}

bool kt_trace_untraced_path(char *out, size_t n, const char *dir, pid_t pid, unsigned long long start)
{
	return named_path(out, n, dir, KT_TRACE_LIVE "/", pid, start, KT_TRACE_UNTRACED);
}

bool kt_trace_parse_name(const char *name, const char *suffix, pid_t *pid,
			 unsigned long long *start)
{
	unsigned long long p = 0, st = 0;
	const char *c = name;
	if (*c < '1' || *c > '9')
		return false;
	for (; *c >= '0' && *c <= '9' && p <= 0x7fffffff; c++)
		p = p * 10 + (unsigned)(*c - '0');
	if (p > 0x7fffffff || *c++ != '-' || *c < '0' || *c > '9')
		return false;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (st > (~0ULL - 9) / 10)
			return false;
		st = st * 10 + (unsigned)(*c - '0');
	}
	if (strcmp(c, suffix) != 0)
		return false;
	*pid = (pid_t)p;
	*start = st;
	return true;
}

/* Call fn(name, ctx) for each entry of the directory open as dfd but "."
 * and "..", until it returns nonzero. Returns that, 0, or -errno. */
static int each_entry(int dfd, int (*fn)(int dfd, const char *name, void *ctx), void *ctx)
{
	char buf[8192] __attribute__((aligned(8)));
	long got;
	while ((got = kt_sys_getdents64(dfd, buf, sizeof buf)) > 0)
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			int r = fn(dfd, d->d_name, ctx);
			if (r != 0)
				return r;
		}
	return got < 0 ? (int)got : 0;
}

struct each_live {
	int (*fn)(pid_t, unsigned long long, bool, void *);
	void *ctx;
	bool with_marks;
};

static int live_entry(int dfd, const char *name, void *ctx)
{
	(void)dfd;
	struct each_live *e = ctx;
	pid_t pid;
	unsigned long long start;
	if (kt_trace_parse_name(name, KT_TRACE_TBL, &pid, &start))
		return e->fn(pid, start, false, e->ctx);
	if (e->with_marks && kt_trace_parse_name(name, KT_TRACE_UNTRACED, &pid, &start))
		return e->fn(pid, start, true, e->ctx);
	return 0;
}

static int each_live(const char *dir, struct each_live *e)
{
	char live[4200];
	if (!join(live, sizeof live, dir, KT_TRACE_LIVE))
		return -ENAMETOOLONG;
	int dfd = kt_sys_open_high(AT_FDCWD, live, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd;
	int r = each_entry(dfd, live_entry, e);
	kt_sys_close(dfd);
	return r;
}

int kt_trace_each_live(const char *dir,
		       int (*fn)(pid_t pid, unsigned long long start, bool untraced_mark, void *ctx),
		       void *ctx)
{
	struct each_live e = {fn, ctx, true};
	return each_live(dir, &e);
}

struct each_table {
	int (*fn)(pid_t, unsigned long long, void *);
	void *ctx;
};

static int table_only(pid_t pid, unsigned long long start, bool untraced_mark, void *ctx)
{
	(void)untraced_mark;
	struct each_table *t = ctx;
	return t->fn(pid, start, t->ctx);
}

int kt_trace_each_table(const char *dir, int (*fn)(pid_t pid, unsigned long long start, void *ctx),
			void *ctx)
{
	struct each_table t = {fn, ctx};
	struct each_live e = {table_only, &t, false};
	return each_live(dir, &e);
}

/* Make DIR/NAME, an empty mark. */
static int make_mark(const char *dir, const char *name)
{
	char path[4200];
	if (!join(path, sizeof path, dir, name))
		return -ENAMETOOLONG;
	int fd = kt_sys_open_high(AT_FDCWD, path, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fd;
	kt_sys_close(fd);
	return 0;
}

int kt_trace_mark_reported(const char *dir)
{
	return make_mark(dir, KT_TRACE_REPORTED);
}

int kt_trace_mark_untraced_seen(const char *dir)
{
	return make_mark(dir, KT_TRACE_UNTRACED_SEEN);
}

bool kt_trace_untraced_seen(const char *dir)
{
	char path[4200];
	/* Unsure is "seen": a process then lists live/ as it always did. */
	return !join(path, sizeof path, dir, KT_TRACE_UNTRACED_SEEN) ||
	       kt_sys_faccessat(AT_FDCWD, path, F_OK) != -ENOENT;
}

int kt_trace_mark_kept(const char *dir)
{
	return make_mark(dir, KT_TRACE_KEPT);
}

static int launcher_name(char name[64])
{
	unsigned long long start;
	int r = kt_proc_stat(getpid(), &start, NULL, NULL);
	if (r != 0)
		return r < 0 ? r : -EIO;
	kt_proc_name(name, getpid(), start, KT_TRACE_LAUNCHER);
	return 0;
}

int kt_trace_mark_launcher(const char *dir)
{
	char name[64];
	int r = launcher_name(name);
	return r < 0 ? r : make_mark(dir, name);
}

int kt_trace_reserve(const char *dir, size_t bytes)
{
	char name[64], path[4200];
	int r = launcher_name(name);
	if (r < 0)
		return r;
	if (!join(path, sizeof path, dir, name))
		return -ENAMETOOLONG;
	int fd = kt_sys_open_high(AT_FDCWD, path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0)
		return fd;
	struct stat st;
	r = kt_sys_fstat(fd, &st);
	if (r == 0 && S_ISREG(st.st_mode))
		r = (int)kt_syscall(SYS_fallocate, fd, 0, 0, (off_t)bytes);
	kt_sys_close(fd);
	return r;
}

void kt_trace_release(const char *dir, bool remove)
{
	char name[64], path[4200];
	if (launcher_name(name) < 0 || !join(path, sizeof path, dir, name))
		return;
	int fd = kt_sys_open_high(AT_FDCWD, path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	struct stat st;
	if (fd >= 0 && kt_sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		kt_sys_ftruncate(fd, 0);
	if (fd >= 0)
		kt_sys_close(fd);
	if (remove)
		kt_sys_unlinkat(AT_FDCWD, path, 0);
}

/* Whether name is a process's file (suffix) and that process still runs. */
static int names_running(int dfd, const char *name, void *suffix)
{
	(void)dfd;
	pid_t pid;
	unsigned long long start;
	return kt_trace_parse_name(name, suffix, &pid, &start) && kt_proc_alive(pid, start) == 1;
}


static int table_running(pid_t pid, unsigned long long start, void *ctx)
{
	(void)ctx;
	return kt_proc_alive(pid, start) == 1;
}

/* Whether name is not one a trace's directory holds: then it is not
 * provably ours, and stays whole. */
static int foreign_name(int dfd, const char *name, void *ctx)
{
	(void)dfd;
	(void)ctx;
	pid_t pid;
	unsigned long long start;
	return !(kt_trace_parse_name(name, KT_TRACE_REC, &pid, &start) ||
		 kt_trace_parse_name(name, KT_TRACE_LAUNCHER, &pid, &start) ||
		 strcmp(name, KT_TRACE_REPORTED) == 0 || strcmp(name, KT_WATCH_SOCKET) == 0 ||
		 strcmp(name, KT_TRACE_LIVE) == 0 || strcmp(name, KT_TRACE_WARNED) == 0 ||
		 strcmp(name, KT_TRACE_UNTRACED_SEEN) == 0);
}

static int foreign_or_running(int dfd, const char *name, void *ctx)
{
	return foreign_name(dfd, name, ctx) || names_running(dfd, name, KT_TRACE_REC) ||
	       names_running(dfd, name, KT_TRACE_LAUNCHER);
}

bool kt_trace_stale(const char *dir)
{
	char kept[4200];
	if (!join(kept, sizeof kept, dir, KT_TRACE_KEPT) ||
	    kt_sys_faccessat(AT_FDCWD, kept, F_OK) == 0)
		return false;
	int dfd = kt_sys_open_high(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (dfd < 0)
		return false;
	int keep = each_entry(dfd, foreign_or_running, NULL);
	kt_sys_close(dfd);
	/* an unreadable live directory proves nothing */
	return keep == 0 && kt_trace_each_table(dir, table_running, NULL) == 0;
}

bool kt_trace_reported(const char *dir)
{
	char path[4200];
	return join(path, sizeof path, dir, KT_TRACE_REPORTED) &&
	       kt_sys_faccessat(AT_FDCWD, path, F_OK) == 0;
}

/* A table (PID-START.tbl), its untraced mark, or one being made (.NAME):
 * ours to remove. */
static bool table_name(const char *name)
{
	size_t n = strlen(name);
	pid_t pid;
	unsigned long long start;
	return kt_trace_parse_name(name, KT_TRACE_TBL, &pid, &start) ||
	       kt_trace_parse_name(name, KT_TRACE_UNTRACED, &pid, &start) ||
	       (name[0] == '.' && ((n > 4 && strcmp(name + n - 4, KT_TRACE_TBL) == 0) ||
				   (n > 8 && strcmp(name + n - 8, KT_TRACE_TBL ".tmp") == 0)));
}

static int unlink_table(int dfd, const char *name, void *ctx)
{
	int *err = ctx;
	int r = table_name(name) ? kt_sys_unlinkat(dfd, name, 0) : 0;
	if (r < 0 && r != -ENOENT && *err == 0)
		*err = r;
	return 0;
}

/* Remove the tables in directory path, then the directory. */
static int remove_tables_dir(const char *path)
{
	int dfd = kt_sys_open_high(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	int err = 0;
	int r = each_entry(dfd, unlink_table, &err);
	kt_sys_close(dfd);
	if (err == 0 && r < 0)
		err = r;
	r = kt_sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
	return err != 0 ? err : r == -ENOENT ? 0 : r;
}

/* Whether a live link points at a directory of ours on /dev/shm: named as
 * kt_trace_make_live names them, a directory, owned by us. */
static bool our_shm_dir(const char *target)
{
	struct stat st;
	return strncmp(target, SHM_PREFIX, strlen(SHM_PREFIX)) == 0 &&
	       strchr(target + strlen(SHM_PREFIX), '/') == NULL &&
	       kt_sys_fstatat(AT_FDCWD, target, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

int kt_trace_remove_live(const char *dir)
{
	char live[4200], target[4096];
	if (!join(live, sizeof live, dir, KT_TRACE_LIVE))
		return -ENAMETOOLONG;
	ssize_t n = kt_sys_readlinkat(AT_FDCWD, live, target, sizeof target - 1);
	if (n < 0)
		return remove_tables_dir(live);
	target[n] = '\0';
	int r = our_shm_dir(target) ? remove_tables_dir(target) : 0;
	int u = kt_sys_unlinkat(AT_FDCWD, live, 0);
	return r != 0 ? r : u == -ENOENT ? 0 : u;
}

static int unlink_record(int dfd, const char *name, void *ctx)
{
	int *err = ctx;
	pid_t pid;
	unsigned long long start;
	int r = kt_trace_parse_name(name, KT_TRACE_REC, &pid, &start) ||
			kt_trace_parse_name(name, KT_TRACE_LAUNCHER, &pid, &start)
		? kt_sys_unlinkat(dfd, name, 0)
		: 0;
	if (r < 0 && r != -ENOENT && *err == 0)
		*err = r;
	return 0;
}

int kt_trace_remove(const char *dir)
{
	int dfd = kt_sys_open_high(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (dfd < 0)
		return dfd;
	int err = 0;
	int r = each_entry(dfd, unlink_record, &err);
	if (err == 0 && r < 0)
		err = r;
	static const char *const marks[] = {KT_TRACE_REPORTED, KT_TRACE_KEPT, KT_WATCH_SOCKET,
						    KT_TRACE_WARNED, KT_TRACE_UNTRACED_SEEN};
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		r = kt_sys_unlinkat(dfd, marks[i], 0);
		if (r < 0 && r != -ENOENT && err == 0)
			err = r;
	}
	kt_sys_close(dfd);
	r = kt_trace_remove_live(dir);
	if (r < 0 && err == 0)
		err = r;
	r = kt_sys_unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
	return err != 0 ? err : r;
}
