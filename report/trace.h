/* A trace directory loaded into memory: one kt_process per PID-START.rec
 * file, with its program images and its complete snapshots, as the record
 * codec (shim/common/record.h) reads them. Strings point into each file's
 * text, which is kept (fields are unescaped in place). */
#ifndef KT_TRACE_H
#define KT_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "util.h"

/* How a descriptor came to be where it is, as the model reads its record
 * (model.c, kt_model_build): one rule for the model, the findings and the
 * renderers. */
struct kt_origin {
	enum kt_how how;
	int call;         /* enum kt_call */
	const char *site; /* NULL when absent */
	/* The source as the record names it (dup: this process's descriptor;
	 * inherited: the parent's, SRC_FD -1 for the far end of its popen pipe;
	 * received: the sender's when known; exec: what it was a copy of
	 * before the exec); 0 0 -1 0 when none. */
	int src_pid;
	unsigned long long src_start;
	int src_fd;
	unsigned long long src_gen;
	bool linked;         /* a copy of the node src_*: the same description */
	bool created;        /* made in the trace by a call the shim saw */
	enum kt_how before;  /* how exec: KT_HOW_DUP or KT_HOW_INHERITED when it was a
			      * copy before the exec, else KT_HOW_NONE */
	/* What its history shows it was made as (shell.h): "shell-redirection",
	 * or NULL. Set for the descriptors of snapshots once the model is built. */
	const char *made;
};

/* A descriptor of a snapshot: its fd record, the call sites of the
 * callers of its creating call (the snapshot's stack record for it),
 * innermost first, and its origin. */
struct kt_fd {
	struct kt_rec_fd rec;
	const char *const *stack;
	size_t nstack;
	/* A socket's addresses (its snapshot's "addr" record), when has_addr;
	 * address.h says them. */
	bool has_addr;
	struct kt_rec_addr addr;
	/* A UNIX socket's peer's inode, known only to live snapshots (the
	 * kernel's sock_diag); 0 when unknown. */
	uint64_t peer_ino;
	struct kt_origin origin; /* filled by the model */
};

/* A stack record, kept until the snapshot's end attaches it to its fd;
 * owns its sites array. */
struct kt_stack {
	int fd;
	unsigned long long gen;
	const char **sites;
	size_t nsites;
};

struct kt_snapshot {
	struct kt_rec_snap head; /* why, status, kcmp */
	/* Made by the report from what others saw of an untraced image: the
	 * other processes' "observed" records (why live), or the launcher's
	 * look at its exit (why exit-observed). */
	bool observed;
	struct kt_fd *fds; /* ascending by fd */
	size_t nfds, fds_cap;
	/* Descriptors the process had closed, that others were copied from
	 * ("closed" records): nodes with an origin, held by nobody. */
	struct kt_fd *closed;
	size_t nclosed, closed_cap;
	struct kt_rec_same *sames;
	size_t nsames, sames_cap;
	struct kt_rec_peer *peers; /* both ends of one socketpair, in this process */
	struct kt_rec_ino *inos;   /* files of descriptors passed over sockets */
	size_t ninos, inos_cap;
	size_t npeers, peers_cap;
	struct kt_rec_stat *stats;
	size_t nstats, stats_cap;
	struct kt_stack *stacks;
	size_t nstacks, stacks_cap;
	struct kt_rec_addr *addrs; /* kept until the end line gives them to their fds */
	size_t naddrs, addrs_cap;
	int line;
	/* Live snapshots (live.c): what the process was blocked on (owned;
	 * NULL when not read), and why the snapshot was taken ("stall",
	 * "signal", "request", "snapshot"; NULL: the report's own look). */
	struct kt_blocked *blocked;
	const char *live_why;
};

/* Taken by the process itself (exit or exec), not read from outside. */
static inline bool kt_snap_own(const struct kt_snapshot *s)
{
	return s->head.why == KT_WHY_EXIT || s->head.why == KT_WHY_EXEC;
}

/* An event line, and the index of the snapshot it was written with (-1 if
 * none). */
struct kt_event {
	struct kt_rec_event rec;
	int snap;
};

struct kt_process {
	int pid;
	unsigned long long start;
	char *path; /* the .rec file */
	char *text; /* its contents; strings below point into it */
	/* Strings of the snapshots the report took itself (live.c). */
	char **owned;
	size_t nowned, owned_cap;
	struct kt_rec_image *images; /* each with an argv array of its own */
	size_t nimages, images_cap;
	struct kt_snapshot *snaps;
	size_t nsnaps, snaps_cap;
	const char **notes;
	size_t nnotes, notes_cap;
	struct kt_rec_reaped *reaps; /* children it reaped */
	/* When a traced fork or posix_spawn made it ("forked" record, or
	 * "spawned" with a TIME): CLOCK_MONOTONIC ns before the call; 0 when
	 * unknown. */
	unsigned long long fork_time;
	/* How its traced parent started it by an exec out of the shim's sight
	 * ("spawned" record: "posix_spawn", "popen", "system"); NULL for a
	 * fork child or one started from outside. */
	const char *spawned_by;
	bool ended;            /* the launcher reaped it ("ended" record) */
	int ended_status;      /* then: the raw wait status */
	size_t nreaps, reaps_cap;
	struct kt_event *events;
	size_t nevents, events_cap;
	/* Descriptors of untraced images it saw from outside at its snapshots. */
	struct kt_rec_observed *observed;
	size_t nobserved, observed_cap;
	/* An exec into an image the shim cannot follow ("untraced" record),
	 * written with the exec snapshot numbered untraced_snap. */
	const char *untraced_path, *untraced_reason;
	size_t untraced_snap;
	/* Parts of its trace that could not be written ("unrecorded"
	 * records, unrecorded.h). */
	struct kt_rec_unrecorded *unrecorded;
	size_t nunrecorded, unrecorded_cap;
	/* Its descriptors above 2 at its real end, after its exit handlers and
	 * destructors ("end-fd" records), when end_known. */
	struct kt_fd *end_fds;
	size_t nend_fds, end_fds_cap;
	bool end_known;
	/* Its real end held what its exit snapshot listed ("end-fds same"),
	 * at end_time. */
	bool end_same;
	unsigned long long end_time; /* CLOCK_MONOTONIC ns then; 0 unknown */
};

/* The image the process ran when its snapshot number snap was taken (the
 * last image when snap is nsnaps), or NULL when it has no image line. */
const struct kt_rec_image *kt_process_image_at(const struct kt_process *p, size_t snap);

struct kt_trace {
	char *dir;
	struct kt_process *procs; /* sorted by (start, pid) */
	size_t nprocs;
};

/* Load every *.rec file of dir. NULL with err filled on any problem: an
 * unreadable directory, no records, or a corrupt record. */
struct kt_trace *kt_trace_load(const char *dir, struct kt_error *err);

/* Load the record of one process, DIR/PID-START.rec, into out (release it
 * with kt_process_free, also on failure). False with err filled when it is
 * missing or corrupt. */
bool kt_trace_load_process(const char *dir, int pid, unsigned long long start,
			   struct kt_process *out, struct kt_error *err);

/* Parse one record file's text (takes ownership of text). Exposed for tests.
 * Returns false with err filled when the text is not a valid record. */
bool kt_process_parse(struct kt_process *proc, const char *path, char *text, size_t len,
		      struct kt_error *err);

/* A snapshot's descriptors in ascending order. */
void kt_snapshot_sort(struct kt_snapshot *s);

void kt_trace_free(struct kt_trace *trace);
/* Release what one process holds (not the struct itself). */
void kt_process_free(struct kt_process *p);

/* Remove a trace directory (kt_trace_remove, tracedir.h). Returns 0 or -1
 * with errno set. */
int kt_trace_remove_dir(const char *dir);

/* A process named by pid and start time. */
struct kt_pid_start {
	int pid;
	unsigned long long start;
};
/* The processes with a table in DIR/live that are alive now (one just
 * forked may have a table but no record yet). Returns their number; *out
 * (malloc'd, caller frees) gets them. */
size_t kt_trace_live_list(const char *dir, struct kt_pid_start **out);

bool kt_trace_live_tables_alive(const char *dir);

/* Append records (whole lines) to DIR/PID-START.rec, made with the
 * format's first line when new: how the report adds what it saw of a
 * process from outside. Returns false with a message. */
bool kt_trace_append_records(const char *dir, int pid, unsigned long long start, const char *data,
			     size_t len);

/* The launcher reaped these processes: append an "ended" record to the
 * record of each (the newest process of its pid in DIR). */
bool kt_trace_append_ends(const char *dir, const struct kt_rec_reaped *reaped, size_t n);

struct kt_fd_entry;
/* Map the shared table of process PID-START in DIR/live read-only (table.h);
 * NULL when it has none. Unmap with kt_table_unmap. */
const struct kt_fd_entry *kt_trace_map_table(const char *dir, int pid, unsigned long long start,
					     size_t *capacity);

/* Whether a file name is a record's (*.rec). */
bool kt_trace_rec_name(const char *name);

/* True if dir holds at least one *.rec file (-1 if unreadable). */
int kt_trace_dir_has_records(const char *dir);

#endif
