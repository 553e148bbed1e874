/* A trace directory: its layout, and how it is made and removed, the same
 * for the shim (the first process of a plain LD_PRELOAD run makes it, the
 * last one removes it), the launcher and the report. No malloc, raw
 * system calls only: the shim calls this at start-up and at exit.
 *
 *   DIR/PID-START.rec        a process's record (record.h)
 *   DIR/live/PID-START.tbl   the shared table of a process that runs
 *                            (table.h); live/.NAME are tables being made
 *   DIR/live                 a directory, or, when DIR is on a disk file
 *                            system, a link to /dev/shm/kcmptrace.XXXXXX
 *   DIR/reported             the report was written while traced processes
 *                            still ran: the last of them removes DIR
 *   DIR/untraced-seen        some image ran untraced (KT_TRACE_UNTRACED_SEEN)
 *   DIR/watch.sock           the launcher's socket (watch_proto.h)
 */
#ifndef KT_TRACEDIR_H
#define KT_TRACEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KT_TRACE_LIVE "live"
#define KT_TRACE_REPORTED "reported"
#define KT_TRACE_REC ".rec"
#define KT_TRACE_TBL ".tbl"
/* live/PID-START.untraced: that table's image ran untraced (its header
 * says whether it still does), so that others need not map every table to
 * find the few they must observe from outside. */
#define KT_TRACE_UNTRACED ".untraced"
#define KT_TRACE_LAUNCHER ".launcher" /* PID-START.launcher: the launcher runs */
#define KT_TRACE_KEPT "kept" /* a temporary trace kept on purpose */
#define KT_TRACE_WARNED "warned" /* a plain run's warning was said (shim/warn_once.c) */
/* Some image of the trace ran untraced (a live/PID-START.untraced mark was
 * made once): a process whose parent holds all it holds must still list
 * live/ to observe it. Never removed before the trace. */
#define KT_TRACE_UNTRACED_SEEN "untraced-seen"

/* Where temporary trace directories go: $TMPDIR when set; else /dev/shm
 * when usable (records are small, and a file created on a disk file system
 * costs each traced process far more than one in memory); else /tmp. */
const char *kt_trace_tmp_parent(void);

/* Make a temporary trace directory (mode 0700) in kt_trace_tmp_parent();
 * its path goes to out. Returns 0 or -errno. */
int kt_trace_make_temp(char *out, size_t n);

/* Whether DIR may hold a trace: a directory owned by this user (or root)
 * that no other user can write, as ssh and tmux demand of theirs; anyone
 * who can write it could plant links for us to follow or records for the
 * report. 0, or -errno with *why saying what is wrong for -EPERM. */
int kt_trace_dir_safe(const char *dir, const char **why);

/* Make DIR/live if it is missing. The tables are written on hot paths and
 * at every fork, so they belong in memory: where DIR is on a disk file
 * system, live is a link to a directory of its own on /dev/shm. Several
 * processes may race to make it. Returns 0 or -errno. */
int kt_trace_make_live(const char *dir);

/* "DIR/PID-START.rec" and "DIR/live/PID-START.tbl" into out; false when
 * it does not fit. */
bool kt_trace_rec_path(char *out, size_t n, const char *dir, pid_t pid, unsigned long long start);
bool kt_trace_table_path(char *out, size_t n, const char *dir, pid_t pid, unsigned long long start);
bool kt_trace_untraced_path(char *out, size_t n, const char *dir, pid_t pid, unsigned long long start);

/* Whether name is "PID-START" then suffix; their values go to pid and start. */
bool kt_trace_parse_name(const char *name, const char *suffix, pid_t *pid,
			 unsigned long long *start);

/* Call fn for each table in DIR/live (the processes that run, or have
 * just ended), until it returns nonzero. Returns that value, 0, or -errno
 * when live cannot be read. */
int kt_trace_each_table(const char *dir, int (*fn)(pid_t pid, unsigned long long start, void *ctx),
			void *ctx);

/* Call fn for each table and each untraced mark (KT_TRACE_UNTRACED) in
 * DIR/live, in one pass, until it returns nonzero. */
int kt_trace_each_live(const char *dir,
		       int (*fn)(pid_t pid, unsigned long long start, bool untraced_mark, void *ctx),
		       void *ctx);

/* Make DIR/reported. Returns 0 or -errno. */
int kt_trace_mark_reported(const char *dir);
bool kt_trace_reported(const char *dir);

/* Make DIR/untraced-seen (KT_TRACE_UNTRACED_SEEN), and whether it is there. */
int kt_trace_mark_untraced_seen(const char *dir);
bool kt_trace_untraced_seen(const char *dir);

/* Mark DIR as a temporary trace kept on purpose (never stale), or as
 * in use by this launcher (PID-START.launcher). Return 0 or -errno. */
int kt_trace_mark_kept(const char *dir);
int kt_trace_mark_launcher(const char *dir);
/* Room the launcher keeps in the trace's file system while the command
 * runs (its PID-START.launcher file, made if missing), given back before
 * it writes the records of the run's end: a program that fills the file
 * system still leaves room for what the report must say. */
int kt_trace_reserve(const char *dir, size_t bytes);
/* Give it back (remove: the file too, when it was made for the reserve). */
void kt_trace_release(const char *dir, bool remove);

/* Whether DIR is a trace left by runs that can no longer end well: not
 * kept, holding only a trace's names, and none of the processes it names
 * (records, tables, launcher) still runs. Stale traces are removed by the next run (stale.c). */
bool kt_trace_stale(const char *dir);

/* Remove DIR/live: its tables, and the directory it links to when it is
 * a link to one of ours on /dev/shm. Returns 0 or -errno. */
int kt_trace_remove_live(const char *dir);

/* Remove a trace directory: the records, live, reported and watch.sock,
 * then DIR itself. Only names of a trace are removed: anything else makes
 * it stay (-ENOTEMPTY). Returns 0 or -errno. */
int kt_trace_remove(const char *dir);

#endif
