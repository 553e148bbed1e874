/* The notice about processes that outlive the command (outlive.h). What
 * a signal then does to them is launch.c's: those still in the
 * launcher's session get it, those that left it (a daemon) keep running
 * and are reported running. */
#include "outlive.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "descendants.h"
#include "tracedir.h"
#include "watch.h"
#include "util.h"

/* At most this many are named; the rest are counted. */
#define NAMED_MAX 6

bool kt_outlive_notice(void)
{
	struct kt_descendant *ds;
	size_t n = kt_descendants(getpid(), &ds);
	if (n == 0) {
		free(ds);
		return false;
	}
	pid_t sid = getsid(0);
	struct kt_str list = {0};
	for (size_t i = 0; i < n && i < NAMED_MAX; i++)
		kt_str_printf(&list, "%s%d %s%s", i ? ", " : "", (int)ds[i].pid, ds[i].comm,
			      kt_descendant_in_session(&ds[i], sid) ? "" : " (own session)");
	if (n > NAMED_MAX)
		kt_str_printf(&list, " and %zu more", n - NAMED_MAX);
	char *names = kt_str_take(&list);
	kt_warn("the command has ended; waiting for %zu process%s it left running: %s", n,
		n == 1 ? "" : "es", names);
	kt_warn("to stop waiting, Ctrl-C or kill -INT %d: the report is written, processes in "
		"their own session keep running (--wait=command does not wait)", (int)getpid());
	free(names);
	free(ds);
	return true;
}

/* Why one the shim never saw is untraced. */
static const char not_seen[] = "forked by an untraced program";

static bool in_trace(const char *dir, const struct kt_descendant *d)
{
	char path[4300];
	struct stat st;
	return (kt_trace_rec_path(path, sizeof path, dir, d->pid, d->start) &&
		lstat(path, &st) == 0) ||
	       (kt_trace_table_path(path, sizeof path, dir, d->pid, d->start) &&
		lstat(path, &st) == 0);
}

void kt_outlive_record_untraced(const char *dir)
{
	struct kt_descendant *ds;
	size_t n = kt_descendants(getpid(), &ds);
	for (size_t i = 0; i < n; i++)
		if (!in_trace(dir, &ds[i]))
			kt_record_untraced_now(dir, ds[i].pid, ds[i].start, not_seen);
	free(ds);
}
