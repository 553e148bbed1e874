/* The notice about processes that outlive the command (outlive.h). What
 * a signal then does to them is launch.c's: those still in the
 * launcher's session get it, those that left it (a daemon) keep running
 * and are reported running. */
#include "outlive.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "descendants.h"
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
