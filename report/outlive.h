/* Processes that outlive the command (daemons, servers, background jobs):
 * with --wait=tree the launcher waits for them, and says once what it
 * waits for and how to stop waiting. */
#ifndef KT_OUTLIVE_H
#define KT_OUTLIVE_H

#include <stdbool.h>
#include <sys/types.h>

/* How long after the command's end the launcher says it waits (ms): the
 * usual tree ends within it, a daemon does not. */
#define KT_OUTLIVE_GRACE_MS 1000

/* Say on stderr which descendants of the launcher still run (pid and
 * program; "own session" for one that left the launcher's session) and
 * how to stop waiting. Returns false (nothing said) when none runs. */
bool kt_outlive_notice(void);

/* Descendants still running that the trace in DIR has neither a record
 * nor a table of (forked by an untraced program: a set-id daemon such as
 * ssh-agent): recorded as untraced images, so that the report lists them
 * running. */
void kt_outlive_record_untraced(const char *dir);

#endif
