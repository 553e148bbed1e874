/* A trace directory loaded into memory: one kt_process per PID-START.rec
 * file, with its program images and its complete snapshots. Strings point
 * into each file's text, which is kept (fields are unescaped in place). */
#ifndef KT_TRACE_H
#define KT_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct kt_fd {
	int fd;
	unsigned long long gen;
	const char *type;   /* file|dir|pipe|fifo|socket|chr|blk|anon|unknown */
	const char *target; /* NULL when absent */
	const char *access; /* r|w|rw; NULL when unknown (a table snapshot) */
	bool cloexec;
	const char *how;    /* open|dup|inherited|exec|received|unknown */
	const char *call;   /* NULL when absent */
	int src_pid;        /* 0 when none */
	unsigned long long src_start;
	int src_fd;         /* -1 when none */
	unsigned long long src_gen;
	const char *site;   /* "MODULE+0xOFF" or NULL */
	/* Call sites of the creating call's callers, innermost first, from a
	 * "stack" line of the snapshot (none when the shim wrote none). */
	const char *const *stack;
	size_t nstack;
	int line;
};

/* A "stack FD GEN SITE..." line of a snapshot; owns its sites array. */
struct kt_stack {
	int fd;
	unsigned long long gen;
	const char **sites;
	size_t nsites;
};

/* A descriptor of a process running an untraced image, seen from outside
 * by this process at its snapshot ("observed" record). */
struct kt_observed {
	int pid;
	unsigned long long start, time;
	struct kt_fd fd; /* origin fields empty: how "unknown" */
};

struct kt_peer {
	int fd;
	unsigned long long gen;
	int fd2;
	unsigned long long gen2;
};

struct kt_same {
	int fd;
	unsigned long long gen;
	int pid;
	unsigned long long start;
	int fd2;
	unsigned long long gen2;
	int line;
};

struct kt_stat {
	const char *name;
	long long value;
};

struct kt_snapshot {
	bool at_exit;     /* WHY: exit (else exec or live) */
	bool live;        /* WHY: live, taken by the report of a running process */
	bool observed;    /* made by the report from other processes' "observed" records */
	bool seen_at_exit; /* WHY: exit-observed, the launcher's look at an untraced
			    * image stopped at its exit (observed and live are set too) */
	bool from_table;  /* WHY: table, made by the report from the table a process
			   * left when it ended without a snapshot (live is set too) */
	int status;       /* exit status, -1 for exec */
	bool kcmp_ok;
	const char *kcmp; /* "ok", "unavailable:ERRNO", or "none" (WHY table) */
	struct kt_fd *fds; /* ascending by fd */
	size_t nfds, fds_cap;
	struct kt_same *sames;
	size_t nsames, sames_cap;
	struct kt_peer *peers; /* both ends of one socketpair, in this process */
	size_t npeers, peers_cap;
	struct kt_stat *stats;
	size_t nstats, stats_cap;
	struct kt_stack *stacks;
	size_t nstacks, stacks_cap;
	int line;
};

struct kt_image {
	int pid, ppid;
	unsigned long long parent_start, start;
	const char *exe; /* NULL when absent */
	int argc;
	const char **argv;
	int line;
};

/* A child this process reaped after a signal killed it ("reaped" record). */
struct kt_reap {
	int pid;
	int wait_status;
};

/* An "event" line: a call worth a finding, noted by the hooks and written
 * after the end line of the snapshot that followed it (record.h). */
struct kt_event {
	const char *kind; /* close-ebadf, setfl, flock, ofd-lock (others kept as is) */
	int fd;
	unsigned long long gen;
	long long arg1, arg2;
	const char *site; /* NULL when absent */
	int snap;         /* index of the snapshot it was written with, -1 if none */
	int line;
};

struct kt_process {
	int pid;
	unsigned long long start;
	char *path; /* the .rec file */
	char *text; /* its contents; strings below point into it */
	char *live_text; /* the text of a live snapshot (live.c), or NULL */
	struct kt_image *images;
	size_t nimages, images_cap;
	struct kt_snapshot *snaps;
	size_t nsnaps, snaps_cap;
	const char **notes;
	size_t nnotes, notes_cap;
	struct kt_reap *reaps;
	size_t nreaps, reaps_cap;
	struct kt_event *events;
	size_t nevents, events_cap;
	struct kt_observed *observed;
	size_t nobserved, observed_cap;
	/* An exec into an image the shim cannot follow ("untraced" record),
	 * written with the exec snapshot numbered untraced_snap. */
	const char *untraced_path, *untraced_reason;
	size_t untraced_snap;
};

struct kt_trace {
	char *dir;
	struct kt_process *procs; /* sorted by (start, pid) */
	size_t nprocs;
	bool has_root;
	bool root_is_launcher;
	int root_pid;
	unsigned long long root_start;
};

/* Load every *.rec file of dir. NULL with err filled on any problem: an
 * unreadable directory, no records, or a corrupt record. */
struct kt_trace *kt_trace_load(const char *dir, struct kt_error *err);

/* Parse one record file's text (takes ownership of text). Exposed for tests.
 * Returns false with err filled when the text is not a valid record. */
bool kt_process_parse(struct kt_process *proc, const char *path, char *text, size_t len,
		      struct kt_error *err);

void kt_trace_free(struct kt_trace *trace);
/* Release what one process holds (not the struct itself). */
void kt_process_free(struct kt_process *p);


/* Remove a trace directory: its .rec files, live/, root, then the directory.
 * Returns 0 or -1 with errno set. */
int kt_trace_remove_dir(const char *dir);

/* Whether a traced process with a table in DIR/live is alive: one just
 * forked may have no record yet. */
struct kt_pid_start {
	int pid;
	unsigned long long start;
};
/* The processes with a table in DIR/live that are alive now. Returns their
 * number; *out (malloc'd, caller frees) gets them. */
size_t kt_trace_live_list(const char *dir, struct kt_pid_start **out);

bool kt_trace_live_tables_alive(const char *dir);

/* Append records (whole lines) to DIR/PID-START.rec, made with the
 * format's first line when new: how the report adds what it saw of a
 * process from outside. Returns false with a message. */
bool kt_trace_append_records(const char *dir, int pid, unsigned long long start, const char *data,
			     size_t len);

struct kt_fd_entry;
/* Map the shared table of process PID-START in DIR/live read-only (table.h);
 * NULL when it has none. Unmap with kt_table_unmap. */
const struct kt_fd_entry *kt_trace_map_table(const char *dir, int pid, unsigned long long start,
					     size_t *capacity);

/* Remove DIR/live (the tables of running processes; where it is a link to
 * a directory on /dev/shm, that directory too). Only when none runs. */
int kt_trace_remove_live(const char *dir);

/* True if dir holds at least one *.rec file (-1 if unreadable). */
int kt_trace_dir_has_records(const char *dir);

#endif
