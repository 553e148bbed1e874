/* Descendants of a process (descendants.h): one pass over /proc for each
 * process's parent, then the tree walked down from root. */
#include "descendants.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

struct proc_link {
	pid_t pid, ppid;
	unsigned long long start;
	bool in_tree;
};

static size_t list_processes(struct proc_link **out)
{
	struct proc_link *all = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		long long pid;
		pid_t ppid = 0;
		unsigned long long start;
		char state = 0;
		if (!kt_parse_ll(e->d_name, &pid) || pid <= 0 ||
		    kt_proc_stat((pid_t)pid, &start, &ppid, &state) != 0 || state == 'Z')
			continue;
		*KT_PUSH(all, n, cap) = (struct proc_link){(pid_t)pid, ppid, start, false};
	}
	if (d != NULL)
		closedir(d);
	*out = all;
	return n;
}

static void read_comm(pid_t pid, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	out[0] = '\0';
	if (f != NULL && fgets(out, (int)len, f) != NULL)
		out[strcspn(out, "\n")] = '\0';
	if (f != NULL)
		fclose(f);
	if (out[0] == '\0')
		snprintf(out, len, "?");
}

/* Ancestors before their descendants: by start time, then pid. */
static int by_start(const void *a, const void *b)
{
	const struct kt_descendant *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t kt_descendants(pid_t root, struct kt_descendant **out)
{
	struct proc_link *all;
	size_t n = list_processes(&all);
	/* Mark until nothing changes: parents may come after their children. */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (all[i].in_tree)
				continue;
			bool parent_in = all[i].ppid == root;
			for (size_t j = 0; j < n && !parent_in; j++)
				parent_in = all[j].in_tree && all[j].pid == all[i].ppid;
			if (parent_in)
				all[i].in_tree = changed = true;
		}
	}
	struct kt_descendant *ds = NULL;
	size_t nd = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (!all[i].in_tree)
			continue;
		struct kt_descendant *d = KT_PUSH(ds, nd, cap);
		*d = (struct kt_descendant){.pid = all[i].pid, .ppid = all[i].ppid, .start = all[i].start,
					    .pgid = getpgid(all[i].pid), .sid = getsid(all[i].pid)};
		read_comm(d->pid, d->comm, sizeof d->comm);
	}
	free(all);
	if (nd > 1)
		qsort(ds, nd, sizeof *ds, by_start);
	*out = ds;
	return nd;
}
