/* kcmptrace snapshot (see snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live.h"
#include "notes.h"
#include "procfs.h"
#include "sysscan.h"
#include "util.h"

/* Said once in the report: notes of one text are told together. */
static const char origins_note[] =
	"not started under kcmptrace: how its descriptors were made (origins) is unknown";

static char *keep(struct kt_process *p, char *s)
{
	*KT_PUSH(p->owned, p->nowned, p->owned_cap) = s;
	return s;
}

/* /proc/PID/NAME whole, NUL-terminated (*len without it), or NULL. */
static char *slurp(int pid, const char *name, size_t *len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = kt_xmalloc(cap + 1);
	ssize_t got;
	while ((got = read(fd, buf + n, cap - n)) > 0)
		if ((n += (size_t)got) == cap)
			buf = kt_xrealloc(buf, (cap *= 2) + 1);
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void read_image(struct kt_process *p, int ppid, unsigned long long parent_start)
{
	struct kt_rec_image im = {.pid = p->pid, .ppid = ppid, .parent_start = parent_start,
				  .start = p->start};
	size_t len = 0;
	char *cmd = slurp(p->pid, "cmdline", &len);
	const char **argv = kt_xcalloc(len / 2 + 2, sizeof *argv);
	for (size_t off = 0; cmd != NULL && off < len; off += strlen(cmd + off) + 1)
		argv[im.argc++] = cmd + off;
	if (cmd != NULL)
		keep(p, cmd);
	im.argv = argv;
	char path[64], exe[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		im.exe = keep(p, kt_xstrdup(exe));
	}
	*KT_PUSH(p->images, p->nimages, p->images_cap) = im;
}

/* Why we may not list a process's descriptors, as a note; NULL if we may. */
static const char *inspect_note(struct kt_process *p)
{
	char path[64], err[128];
	snprintf(path, sizeof path, "/proc/%d/fd", p->pid);
	if (access(path, R_OK | X_OK) == 0)
		return NULL;
	kt_errno_words(errno, err, sizeof err);
	return keep(p, kt_xasprintf("could not be inspected: listing its descriptors failed with %s; "
				    "it takes the same user or CAP_SYS_PTRACE",
				    err));
}

static bool add_process(struct kt_trace *t, size_t *cap, int pid, struct kt_error *err)
{
	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i].pid == pid)
			return true;
	unsigned long long start, parent_start = 0;
	pid_t ppid;
	char state;
	if (kt_proc_stat(pid, &start, &ppid, &state) != 0) {
		snprintf(err->msg, sizeof err->msg, "no process %d", pid);
		return false;
	}
	pid_t grand;
	if (ppid > 0 && kt_proc_stat(ppid, &parent_start, &grand, &state) != 0)
		parent_start = 0;
	struct kt_process *p = KT_PUSH(t->procs, t->nprocs, *cap);
	*p = (struct kt_process){.pid = pid, .start = start};
	read_image(p, ppid, parent_start);
	const char *note = inspect_note(p);
	*KT_PUSH(p->notes, p->nnotes, p->notes_cap) = note != NULL ? note : origins_note;
	return true;
}

/* Every descendant of the processes already in t, found by parent pid. */
static void add_descendants(struct kt_trace *t, size_t *cap)
{
	struct kt_sys sys;
	kt_sys_scan(&sys);
	for (size_t i = 0; i < t->nprocs; i++)
		for (size_t k = 0; k < sys.n; k++)
			if (sys.procs[k].ppid == t->procs[i].pid && !sys.procs[k].kthread) {
				struct kt_error ignored;
				add_process(t, cap, sys.procs[k].pid, &ignored); /* gone: skipped */
			}
	kt_sys_free(&sys);
}

static int by_start(const void *a, const void *b)
{
	const struct kt_process *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

struct kt_trace *kt_snapshot_take(const int *pids, size_t n, bool tree, struct kt_error *err)
{
	struct kt_trace *t = kt_xcalloc(1, sizeof *t);
	size_t cap = 0;
	for (size_t i = 0; i < n; i++)
		if (!add_process(t, &cap, pids[i], err)) {
			kt_trace_free(t);
			return NULL;
		}
	if (tree)
		add_descendants(t, &cap);
	qsort(t->procs, t->nprocs, sizeof *t->procs, by_start);
	kt_trace_capture_live_why(t, "snapshot");
	return t;
}
