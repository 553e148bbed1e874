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

static bool has_rec_suffix(const char *name)
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
		found = has_rec_suffix(e->d_name);
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
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct stat st;
	bool ok = fd >= 0 && fstat(fd, &st) == 0;
	if (ok && st.st_size == 0) {
		char first[64];
		struct kt_buf b = {first, 0, sizeof first, 0};
		kt_rec_put_magic(&b);
		ok = write(fd, first, b.len) == (ssize_t)b.len;
	}
	ok = ok && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (!ok)
		kt_warn("cannot add to %s: %s", path, strerror(errno));
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
