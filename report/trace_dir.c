/* The trace directory as the report and the launcher use it: its record
 * files, the tables of running processes in live/, adding records, and
 * removing it. */
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "record.h"
#include "table.h"
#include "tracedir.h"

bool kt_trace_rec_name(const char *name)
{
	size_t len = strlen(name);
	return len > 4 && strcmp(name + len - 4, ".rec") == 0;
}

int kt_trace_dir_has_records(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL)
		found = kt_trace_rec_name(e->d_name);
	closedir(d);
	return found;
}

bool kt_trace_append_records(const char *dir, int pid, unsigned long long start, const char *data,
			     size_t len)
{
	char path[4200];
	if (!kt_trace_rec_path(path, sizeof path, dir, pid, start)) {
		kt_warn("cannot add to the record of process %d in %s: name too long", pid, dir);
		return false;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct stat st;
	bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (ok && st.st_size == 0) {
		char first[64];
		struct kt_buf b = {first, 0, sizeof first, 0};
		kt_rec_put_magic(&b);
		ok = write(fd, first, b.len) == (ssize_t)b.len;
	}
	ok = ok && write(fd, data, len) == (ssize_t)len;
	int err = errno;
	/* All or nothing: a record cut short (a full file system) would make
	 * the whole trace unreadable. */
	if (!ok && fd >= 0 && st.st_size == 0 && S_ISREG(st.st_mode))
		unlink(path);
	else if (!ok && fd >= 0 && S_ISREG(st.st_mode) && ftruncate(fd, st.st_size) != 0)
		err = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (!ok)
		kt_warn("cannot add to %s: %s", path, strerror(err));
	return ok;
}

const struct kt_fd_entry *kt_trace_map_table(const char *dir, int pid, unsigned long long start,
					     size_t *capacity)
{
	char path[4200];
	return kt_trace_table_path(path, sizeof path, dir, pid, start) ? kt_table_map_path(path, capacity)
									: NULL;
}

struct live_list {
	struct kt_pid_start *procs;
	size_t n, cap;
};

static int add_if_alive(pid_t pid, unsigned long long start, void *ctx)
{
	struct live_list *l = ctx;
	if (kt_proc_alive(pid, start))
		*KT_PUSH(l->procs, l->n, l->cap) = (struct kt_pid_start){pid, start};
	return 0;
}

size_t kt_trace_live_list(const char *dir, struct kt_pid_start **out)
{
	struct live_list l = {0};
	kt_trace_each_table(dir, add_if_alive, &l);
	*out = l.procs;
	return l.n;
}

bool kt_trace_live_tables_alive(const char *dir)
{
	struct kt_pid_start *alive;
	size_t n = kt_trace_live_list(dir, &alive);
	free(alive);
	return n > 0;
}

int kt_trace_remove_dir(const char *dir)
{
	int r = kt_trace_remove(dir);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

static int compare_pid_start(const void *a, const void *b)
{
	const struct kt_pid_start *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

bool kt_trace_append_ends(const char *dir, const struct kt_rec_reaped *reaped, size_t n)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return false;
	struct kt_pid_start *recs = NULL;
	size_t nrecs = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		pid_t pid;
		unsigned long long start;
		if (kt_trace_parse_name(e->d_name, KT_TRACE_REC, &pid, &start))
			*KT_PUSH(recs, nrecs, cap) = (struct kt_pid_start){pid, start};
	}
	closedir(d);
	qsort(recs, nrecs, sizeof *recs, compare_pid_start);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		/* The newest process of that pid: an older one was an earlier
		 * life of the number, reaped by someone else. */
		size_t lo = 0, hi = nrecs; /* the first of a greater pid */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (recs[mid].pid <= reaped[i].pid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || recs[lo - 1].pid != reaped[i].pid)
			continue; /* not a process of the trace */
		const struct kt_pid_start *newest = &recs[lo - 1];
		char line[64];
		struct kt_buf b = {line, 0, sizeof line, 0};
		kt_rec_put_ended(&b, reaped[i].status);
		ok = kt_trace_append_records(dir, newest->pid, newest->start, b.data, b.len) && ok;
	}
	free(recs);
	return ok;
}
