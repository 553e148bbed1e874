/* Where temporary trace directories go, for the launcher and for the first
 * process of a plain LD_PRELOAD run alike. */
#ifndef KT_TRACEDIR_H
#define KT_TRACEDIR_H

/* $TMPDIR when set; else /dev/shm when usable (records are small, and a
 * file created on a disk file system costs each traced process far more
 * than one in memory); else /tmp. */
const char *kt_trace_tmp_parent(void);

/* In a trace directory made by the launcher: the socket on which a traced
 * process about to exec a static binary asks the launcher to watch it until
 * its exit (report/watch.c, shim/watch.c). The asker sends two int32: its
 * thread id and KT_WATCH_ASK (or, after that exec failed, KT_WATCH_RELEASE);
 * the launcher answers 'y' once done, else 'n'. */
#define KT_WATCH_SOCKET "watch.sock"
#define KT_WATCH_ASK 0
#define KT_WATCH_RELEASE 1

#endif
