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
	char *path = kt_xasprintf("%s/%d-%llu.rec", dir, pid, start);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
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
	free(path);
	return ok;
}

const struct kt_fd_entry *kt_trace_map_table(const char *dir, int pid, unsigned long long start,
					     size_t *capacity)
{
	char *path = kt_xasprintf("%s/live/%d-%llu.tbl", dir, pid, start);
	const struct kt_fd_entry *t = kt_table_map_path(path, capacity);
	free(path);
	return t;
}

size_t kt_trace_live_list(const char *dir, struct kt_pid_start **out)
{
	*out = NULL;
	char *live = kt_xasprintf("%s/live", dir);
	DIR *d = opendir(live);
	free(live);
	if (d == NULL)
		return 0;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int pid;
		unsigned long long start;
		char rest[8];
		if (sscanf(e->d_name, "%d-%llu.tb%1s", &pid, &start, rest) == 3 && strcmp(rest, "l") == 0 &&
		    kt_proc_alive(pid, start))
			*KT_PUSH(*out, n, cap) = (struct kt_pid_start){pid, start};
	}
	closedir(d);
	return n;
}

bool kt_trace_live_tables_alive(const char *dir)
{
	struct kt_pid_start *alive;
	size_t n = kt_trace_live_list(dir, &alive);
	free(alive);
	return n > 0;
}

int kt_trace_remove_live(const char *dir)
{
	int result = 0;
	struct dirent *e;
	DIR *d;
	/* live/ holds the shared descriptor tables of processes still running;
	 * for a trace on disk, the shim makes it a link to a directory on
	 * /dev/shm. */
	char *link = kt_xasprintf("%s/live", dir);
	char target[4096];
	ssize_t tl = readlink(link, target, sizeof target - 1);
	char *live = link;
	if (tl > 0) {
		target[tl] = '\0';
		live = kt_xstrdup(target);
	}
	d = opendir(live);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *path = kt_xasprintf("%s/%s", live, e->d_name);
			if (unlink(path) != 0 && errno != ENOENT)
				result = -1;
			free(path);
		}
		closedir(d);
		if (rmdir(live) != 0 && errno != ENOENT)
			result = -1;
	}
	if (live != link) {
		if (unlink(link) != 0 && errno != ENOENT)
			result = -1;
		free(live);
	}
	free(link);
	return result;
}

int kt_trace_remove_dir(const char *dir)
{
	int result = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!has_rec_suffix(e->d_name))
			continue;
		char *path = kt_xasprintf("%s/%s", dir, e->d_name);
		if (unlink(path) != 0 && errno != ENOENT)
			result = -1;
		free(path);
	}
	closedir(d);

	if (kt_trace_remove_live(dir) != 0)
		result = -1;

	/* root: who started the trace; reported: the first process of a plain
	 * LD_PRELOAD run has written its report (shim/process.c). */
	static const char *const markers[] = {"root", "reported"};
	for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
		char *path = kt_xasprintf("%s/%s", dir, markers[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			result = -1;
		free(path);
	}
	if (rmdir(dir) != 0)
		return -1;
	return result;
}
