/* The whole system's processes (see sysscan.h). */
#include "sysscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

#define PF_KTHREAD 0x00200000u

static bool read_stat(int pid, struct kt_sys_proc *p)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
		return false;
	size_t len = (size_t)(close_paren - open_paren - 1);
	snprintf(p->name, sizeof p->name, "%.*s", (int)len, open_paren + 1);
	char state;
	unsigned flags = 0;
	int session, tty, tpgid;
	if (sscanf(close_paren + 2, "%c %d %d %d %d %d %u", &state, &p->ppid, &p->pgrp, &session,
		   &tty, &tpgid, &flags) < 3)
		return false;
	p->pid = pid;
	p->kthread = (flags & PF_KTHREAD) != 0;
	return true;
}

void kt_sys_scan(struct kt_sys *s)
{
	*s = (struct kt_sys){0};
	DIR *d = opendir("/proc");
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		struct kt_sys_proc p = {0};
		if (*end == '\0' && pid > 0 && read_stat((int)pid, &p))
			*KT_PUSH(s->procs, s->n, s->cap) = p;
	}
	closedir(d);
}

void kt_sys_free(struct kt_sys *s)
{
	free(s->procs);
	*s = (struct kt_sys){0};
}

static bool in_set(const int *set, size_t n, int pid)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == pid)
			return true;
	return false;
}

static void *grow(void *ctx, void *old, size_t n)
{
	(void)ctx;
	return kt_xrealloc(old, n);
}

/* Whether process p holds target for access: 1, 0, or -errno when its
 * descriptors cannot be listed. */
static int holds(const struct kt_sys_proc *p, const char *target, int access, int *fd_out)
{
	struct kt_fd_list list = {.grow = grow};
	long n = kt_proc_list_all(p->pid, &list);
	int found = 0;
	if (n < 0) {
		free(list.fds);
		return n == -ENOENT || n == -ESRCH ? 0 : (int)n;
	}
	for (long i = 0; i < n && !found; i++) {
		char path[64], link[4096];
		snprintf(path, sizeof path, "/proc/%d/fd/%d", p->pid, list.fds[i]);
		ssize_t len = readlink(path, link, sizeof link - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, target) != 0)
			continue;
		struct kt_fd_info info;
		if (kt_fd_describe(p->pid, list.fds[i], &info) != 0)
			continue;
		found = access < 0 || info.access == access || info.access == 2 /* O_RDWR */ ||
			info.access < 0;
		*fd_out = list.fds[i];
	}
	free(list.fds);
	return found;
}

int kt_sys_holds(const struct kt_sys *s, const int *set, size_t n, const char *target, int access,
		 char *why, size_t len)
{
	int result = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct kt_sys_proc *p = &s->procs[i];
		if (p->kthread || in_set(set, n, p->pid))
			continue;
		int fd = -1, r = holds(p, target, access, &fd);
		if (r > 0) {
			snprintf(why, len, "%d (%s) fd %d, outside the processes looked at", p->pid,
				 p->name, fd);
			return 1;
		}
		if (r < 0 && result == 0) {
			snprintf(why, len, "%d (%s) could not be inspected: %s", p->pid, p->name,
				 strerror(-r));
			result = -1;
		}
	}
	return result;
}
