/* Internals of the preload library, shared by its source files. */
#ifndef KT_SHIM_H
#define KT_SHIM_H

#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "table.h"

#define KT_EXPORT __attribute__((visibility("default")))
/* Table entries are written by the hook that owns a descriptor number and
 * read by snapshots and fork copies of other threads without a lock, by
 * design: the entry's generation (an atomic) tells a reader whether what it
 * read is whole. The functions that touch entry fields say so to TSan. */
#define KT_RACY __attribute__((no_sanitize("thread")))
#define KT_TLS __thread __attribute__((tls_model("initial-exec")))

/* ---- state of this process (process.c) ---- */
struct kt_self {
	pid_t pid;
	pid_t ppid;
	unsigned long long start;
	unsigned long long parent_start; /* 0 when the parent is not traced */
	int root;                        /* first traced process of a plain LD_PRELOAD run */
	char dir[4096];                  /* trace directory */
	char name[64];                   /* "PID-START" */
};

extern struct kt_self kt_self;
/* Tracing is on: the trace directory could be written. */
extern atomic_int kt_active;

/* Whether a hook notes what it sees. There is no re-entry guard: the
 * shim's own system calls never reach its hooks (common/sys.h), and it
 * calls hooked functions by name only where it means to (daemon, vfork,
 * the execl family, syscall(SYS_fork)). */
/* Set in a thread while glibc's fork runs (hooks_process.c): its atfork
 * child handlers run in the child before fork returns there, and what
 * they do is the child's (kt_fork_catch_up makes it a process first). */
extern KT_TLS void *kt_forking;
void kt_fork_catch_up(void);
/* Set by a hook that forks through the fork hook for the program (forkpty,
 * syscall(SYS_fork)): the program's call site, which the fork names. */
extern KT_TLS void *kt_fork_caller;

static inline int kt_on(void)
{
	if (__builtin_expect(kt_forking != NULL, 0))
		kt_fork_catch_up();
	return atomic_load_explicit(&kt_active, memory_order_relaxed);
}

void kt_init(int argc, char **argv, char **envp);
/* One warning line on stderr; nothing under the launcher (kt_lost), nor
 * once the run's warning was said (warn_once.c). */
void kt_shim_warn(const char *what, const char *detail, int err);
/* The same line, said whatever was said before (a failure of the report). */
void kt_shim_say(const char *what, const char *detail, int err);
/* A plain run's one warning (warn_once.c): what the exec into this image
 * said (init), the run's shared flag mapped from the trace directory
 * (map), whether this process is the one to say it (claim), whether it
 * was said (said). */
void kt_warn_once_init(void);
void kt_warn_once_map(const char *dir);
int kt_warn_once_claim(void);
int kt_warn_once_said(void);
/* After fork, in the child: become a process of its own in the trace. */
struct kt_fork_prep;
void kt_after_fork_child(struct kt_fork_prep *prep);
/* The process ends (exit status): snapshot it. Returns whether this call
 * did (the first end of the process). */
int kt_process_end(int status);
/* The same where no code of the program runs after it (_exit, _Exit,
 * exit_group): the snapshot's memory is left to the kernel's teardown
 * (an munmap costs a TLB shootdown on every CPU the process ran on). */
int kt_process_end_final(int status);
/* Set while such an end's snapshot runs (snapshot.c). */
extern bool kt_end_is_final;
/* The same, where exit handlers and destructors run next (main returned,
 * exit()): their end is written too (real_end.c). */
void kt_process_end_then_handlers(int status);
/* real_end.c: expect the real end after an exit snapshot (on), or not
 * (fork child, exec); write it (the destructor, or a second end: _exit in
 * an exit handler). */
void kt_real_end_expect(int on);
void kt_real_end(void);
/* Which numbers a listing of /proc/self/fd found (0-2 too: the report
 * takes 'same' as their end as well): their count and
 * a hash of them (an exit handler may close or make one out of the shim's
 * sight: glibc's endmntent, getpwent). */
struct kt_fd_numbers {
	size_t count;
	uint64_t hash;
};
void kt_fd_numbers_of(struct kt_fd_numbers *out, const int *fds, size_t n);
/* The exit snapshot's: the real end compares its own listing with them. */
void kt_real_end_numbers(const struct kt_fd_numbers *listed);
/* Before exec of path (as execveat takes it): snapshot, and note when the
 * new image leaves the traced world. */
void kt_before_exec(int dirfd, const char *path, int flags);
void kt_after_failed_exec(void);
struct kt_arena;
/* kt_self.parent_start from /proc, when not known yet (process.c). */
void kt_learn_parent_start(void);
/* The descriptors this image starts with, and their origins (initial_fds.c):
 * continuation says the process exec'd into it (its record exists), before
 * is the earlier image's table (before_cap entries) or NULL. */
void kt_adopt_initial_fds(struct kt_arena *arena, int continuation, const struct kt_fd_entry *before,
			  size_t before_cap);
/* How this image's process was started when its parent made it by an exec
 * out of the shim's sight ("posix_spawn", "popen", "system"), else NULL:
 * what it inherited crossed that exec ("spawned" record). */
extern const char *kt_spawned_by;
/* posix_spawn's: CLOCK_MONOTONIC ns in the parent just before it; 0 unknown. */
extern unsigned long long kt_spawn_time;
/* After an exec: the numbers closed in the earlier image's table (before)
 * stay closed at their generation. */
void kt_keep_closed_generations(const struct kt_fd_entry *before, size_t cap);
/* Plain LD_PRELOAD run (plain_report.c): the first process reports at its
 * exit; the last one removes a temporary trace the report left. */
void kt_plain_report(void);
/* The root's stderr at start, where its report goes. */
void kt_plain_remember_stderr(void);
void kt_plain_remove_if_last(void);
/* Put LD_PRELOAD and the KCMPTRACE_* settings into an exec's environment
 * (env.c). Storage comes from the caller's stack:
 *     char *slots[kt_exec_env_slots(envp)]; char text[kt_exec_env_text(envp)];
 *     char *const *env = kt_exec_env(envp, slots, text);
 * env is envp itself when nothing was missing. */
void kt_env_init(void);
/* A setting of the trace (KCMPTRACE_NAME's value) as this image started
 * with it, or NULL: environ may have lost it since (kt_env_hide). */
const char *kt_env_setting(const char *name);
const char *kt_env_setting_entry(const char *name); /* "NAME=value" */
/* Before main: take out of environ what the exec into this image added
 * (KCMPTRACE_ADDED), restoring a LD_PRELOAD we only prepended to. */
void kt_env_hide(void);
size_t kt_exec_env_slots(char *const envp[]);
size_t kt_exec_env_text(char *const envp[]);
char *const *kt_exec_env(char *const envp[], char **slots, char *text);
/* Whether an exec of path leaves the traced world (static binary, or a
 * set-id program the loader will not preload into): a short reason, or NULL. */
const char *kt_exec_untraced(int dirfd, const char *path, int flags);
/* Before an exec into a static binary: ask the launcher, if any, to watch
 * this process until its exit (watch.c); after that exec failed, tell it to
 * let go again. */
void kt_watch_ask(void);
void kt_watch_release(void);
/* After a posix_spawn into a static binary: ask the launcher to watch that
 * child (already running its image) until its exit. */
void kt_watch_ask_child(pid_t child);

/* DIR/PREFIX + PID-START + SUFFIX: a file of this process in the trace
 * directory that tracedir.h has no path for (the tables being made). */
void kt_trace_path(char *out, size_t n, const char *prefix, const char *suffix);
/* Append to this process's record (create: a new one, with its first
 * lines), all or nothing. */
int kt_write_record(const char *data, size_t len, int create);
/* The same for the record of another process that no shim runs in (a
 * spawned untraced image: spawn_untraced.c), always a new one; the caller
 * is in an own-fds section. */
int kt_write_record_of(pid_t pid, unsigned long long start, const char *data, size_t len);

/* ---- what could not be written (lost.c) ---- */
/* The launcher runs this trace (KCMPTRACE_LAUNCHER): the shim never writes
 * to the program's stderr. */
extern int kt_launcher_run;
void kt_lost_init(void);
/* Whether this process runs under a seccomp filter. */
int kt_lost_seccomp(void);
/* Part of this process's trace could not be written (err: errno value;
 * path: an exec's program): keep that in its record, else its table. */
struct kt_rec_unrecorded;
void kt_lost(enum kt_lost_what what, int err, const char *path);
/* A loss another image kept: into this process's record. */
void kt_lost_forward(const struct kt_rec_unrecorded *u);

/* CLOCK_MONOTONIC in ns (the vDSO: no system call), one clock for every
 * process of the trace: orders an F_SETFL against other processes' forks
 * (record.h "forked"). */
static inline uint64_t kt_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- real libc functions (real.c) ---- */
struct msghdr;
struct rusage;
struct iovec;
struct stat;
struct stat64;
/* The real function behind each hook that has one (common/hooks.def). */
struct kt_real {
#define KT_HOOK(field, sym, ret, params) ret(*field) params;
#include "hooks.def"
};

extern struct kt_real kt_real;
void kt_resolve(void);

/* The real function, resolved on first use (hooks may run before the constructor). */
#define KT_REAL(name) (kt_real.name ? kt_real.name : (kt_resolve(), kt_real.name))

/* ---- the table file (table_file.c; format in common/table.h) ---- */
/* The mappings of this process's table, oldest first: a growth adds one,
 * the older ones stay valid views of the same pages. */
struct kt_table_view {
	struct kt_fd_entry *t;
	uint32_t cap;
};
#define KT_TABLE_VIEWS 40
extern struct kt_table_view kt_table_views[KT_TABLE_VIEWS];
extern _Atomic int kt_table_view_now; /* the newest, or -1: no table */

/* The header of a table whose entries start at t (this process's, writable). */
static inline struct kt_table_header *kt_header_of(struct kt_fd_entry *t)
{
	return (struct kt_table_header *)((char *)t - KT_TABLE_HEADER_SIZE);
}
/* Mark fd's block of the table used (readers skip the others). */
void kt_table_mark_block(struct kt_table_header *h, size_t fd);
/* What the making call knew of src (its made_* and path), into e: a copy
 * of the descriptor. */
void kt_table_copy_made(struct kt_fd_entry *e, const struct kt_fd_entry *src);
/* Name this process the owner of table t. */
void kt_table_set_owner(struct kt_fd_entry *t);

/* The newest mapping's entries and their number (0 and NULL: no table). */
static inline struct kt_fd_entry *kt_table_now(uint32_t *cap)
{
	int i = atomic_load_explicit(&kt_table_view_now, memory_order_acquire);
	*cap = i < 0 ? 0 : kt_table_views[i].cap;
	return i < 0 ? NULL : kt_table_views[i].t;
}

/* A new table file at path tmp with room for capacity entries, reserved
 * and mapped; its identity in *st. NULL and -errno in *err when not. */
struct kt_fd_entry *kt_table_make_file(const char *tmp, uint32_t capacity, struct stat *st, int *err);
/* Make t (cap entries, whose file *st is) this process's table, dropping the mappings
 * of the one before (a fork child's parent's): one thread only. */
void kt_table_install(struct kt_fd_entry *t, uint32_t cap, const struct stat *st);
void kt_table_drop_all(void);
/* Room for number fd: 0, or -errno (the loss is noted once). */
int kt_table_grow(int fd);
uint32_t kt_table_max_capacity(void);
void kt_table_fork_child_reset(void);

/* ---- descriptor table (fdtable.c) ---- */
int kt_table_create(void);              /* map this process's table file */
struct kt_fork_prep {
	struct kt_fd_entry *table; /* the child's table, written before fork */
	uint32_t cap;              /* its entries (the child may grow it after) */
	struct stat st;            /* its file */
	int err;                   /* when there is none: why (errno value) */
	uint64_t time;             /* kt_now_ns() just before the fork: the child's
				    * descriptors were copied after it */
	unsigned long long boot_before; /* kt_boot_ns() then: the child's start
					 * (kt_start_between) */
	/* Another thread, or a hook run inside the fork (an atfork prepare
	 * handler), may have changed a descriptor after the copy: the child
	 * checks its copy against the parent's table. */
	bool recheck;
	char tmp[4300];
};
int kt_table_prepare_fork(struct kt_fork_prep *prep);
void kt_table_parent_after_fork(struct kt_fork_prep *prep, pid_t child);
int kt_table_fork_child(struct kt_fork_prep *prep);
/* In the child: its start time, from the table's header once the parent
 * named it, else from the clock when the fork took less than a tick (no
 * system call either way), else from /proc/self/stat. */
int kt_table_fork_child_start(const struct kt_fork_prep *prep, unsigned long long *start);
/* The child could not start its record (err: errno value): it names itself
 * in its parent's table instead and gives up its own. */
void kt_table_fork_lost(int err);
/* The child's mapping of its parent's table (pid, start), kept from the
 * fork while it is still that image's table as a whole: its entries and in
 * *cap their number; else NULL (map it by name). Not to be unmapped. */
const struct kt_fd_entry *kt_table_parent_view(pid_t pid, unsigned long long start, size_t *cap);
/* The child lets its parent's table go (at a failed start, and when it
 * forks: its own child's parent is itself). */
void kt_table_fork_release(void);
/* The latest children the parent (pid, start) forked, newest first, from
 * the mapping of its table kept since our fork (none without it). */
struct kt_pid_start_pair {
	pid_t pid;
	unsigned long long start;
};
size_t kt_table_parent_recent_children(pid_t pid, unsigned long long start, struct kt_pid_start_pair *out,
				       size_t n);
/* In the parent, at a wait: whether the child it reaped wrote its exit
 * snapshot (one of its latest children, whose table it removed after
 * writing it): then that snapshot tells its end, and no "reaped" record is
 * needed (the report reads one only for a process without it). */
bool kt_table_child_wrote_its_end(pid_t child);
/* Once the child's record is started: it lets a large parent's table go. */
void kt_table_fork_settle(void);

/* posix_spawn into an image the shim cannot follow (spawn_untraced.c): the
 * file actions the hook saw (kind 'd' dup2 src onto fd, 'o' open onto fd,
 * 'O' the same with O_CLOEXEC, 'c' close fd), in order. */
struct kt_spawn_act {
	int fd, src;
	char kind;
};
#define KT_SPAWN_ACTS 32
struct kt_spawn_untraced {
	const char *why; /* NULL: the child is traced (or we are not) */
	const char *path;
	struct kt_fork_prep prep;
};
/* Before the real call (search: posix_spawnp), and after it with the
 * child's pid (-1: it failed). */
void kt_spawn_untraced_before(struct kt_spawn_untraced *su, const char *path, int search);
void kt_spawn_untraced_after(struct kt_spawn_untraced *su, pid_t child, char *const argv[],
			     const struct kt_spawn_act *acts, int nacts);
/* Whether a spawn of path (search: in PATH, as posix_spawnp) leaves the
 * traced world, as kt_exec_untraced. */
const char *kt_spawn_image_untraced(const char *path, int search);
void kt_table_remove(void);             /* unlink the file at exit */
/* Keep what could not go into the record in the table's header (table.h);
 * whether fork children of this process could not get tables of their
 * own (the table must then stay for the report to read). */
void kt_table_note_lost(const struct kt_rec_unrecorded *u);
int kt_table_keeps_losses(void);
struct kt_fd_entry *kt_table_entry(int fd); /* NULL when fd is out of range or no table */
/* Map another process's table read-only; kt_table_unmap releases it. */
const struct kt_fd_entry *kt_table_map_other(pid_t pid, unsigned long long start, size_t *capacity);
/* At a new image's start, the earlier image's table (kt_table_unmap it),
 * its header's execing set: this image's table is about to replace it. */
const struct kt_fd_entry *kt_table_map_replaced(size_t *capacity);

/* Hook bookkeeping: publish after a successful create, retire before close. */
void kt_note_new(int fd, enum kt_how how, enum kt_call call, int cloexec, int src_fd, void *site);
/* What a making call knows of what it made without asking the kernel
 * more (table.h made_type...): kept in the entry for a report made after
 * the process was killed. */
struct kt_made {
	enum kt_fd_type type; /* KT_FD_UNKNOWN when the call cannot tell */
	int access;           /* O_ACCMODE value, -1 unknown */
	const char *path;     /* opened by this path, or NULL */
	uint64_t dev, ino;    /* ino 0: not known */
	bool path_is_target;  /* path is what /proc/self/fd/N read */
};
/* Write what m says into entry e (made_type, made_access, path). */
void kt_entry_note_made(struct kt_fd_entry *e, const struct kt_made *m);
/* kt_note_new for a descriptor opened here (how OPEN) with what m says. */
void kt_note_made(int fd, enum kt_call call, int cloexec, void *site, const struct kt_made *m);
/* pipe, pipe2, socketpair: both ends, their inodes learned with one fstat
 * each (a pipe's ends share theirs), linked as each other's peer. */
void kt_note_made_pair(const int fds[2], enum kt_call call, int cloexec, void *site, enum kt_fd_type type);
/* Whether any descriptor was made, closed or replaced since the last
 * reset (fdtable.c). */
void kt_table_changes_reset(void);
int kt_table_changed(void);
/* Returns the generation the entry had before (odd: closed already). */
uint32_t kt_note_close(int fd, enum kt_close_call call, void *site);
/* A call that makes fd name another description (dup2, login_tty): retire
 * its entry first, so another process comparing at that moment never
 * pairs the old generation with the new description; give it back with
 * the value retire returned if the call fails. */
uint32_t kt_note_retire(int fd);
void kt_note_unretire(int fd, uint32_t before);
void kt_note_cloexec(int fd, int cloexec);
/* Events for findings (record.h "event"): kept in the entry or a ring,
 * written by the next snapshot. lock op: flock's, or 100 + l_type for an
 * OFD lock; 0 when released. */
/* time: CLOCK_MONOTONIC ns after the call (kt_now_ns), for the order with forks. */
void kt_note_setfl(int fd, uint32_t before, uint32_t after, void *site, uint64_t time);
void kt_note_lock(int fd, int op, void *site);
void kt_note_inheritable(int fd, void *site); /* F_SETFD cleared FD_CLOEXEC */
void kt_note_pair(int a, int b);              /* the two ends of one socketpair/pipe */
/* close(fd) failed with EBADF; before: what kt_note_close returned. */
void kt_note_bad_close(int fd, uint32_t before, void *site);
#define KT_BAD_CLOSE_RING 64
struct kt_bad_close {
	int fd;
	uint32_t gen;   /* the entry's generation then (odd: closed by a tracked close) */
	uint32_t flags; /* KT_BAD_CLOSE_* (record.h) */
	uint64_t site;
	uint64_t opened_site, closed_site; /* the call that made it, the close before */
	uint8_t closed_call;               /* enum kt_close_call of that close */
};
/* A read, write... on fd (>= 0) failed with EBADF: noted in a ring like
 * bad closes (with the open's and the close's sites when the table knows
 * them), for bad-use events. errno untouched. */
void kt_note_bad_use(int fd, enum kt_use_call call, void *site);
#define KT_BAD_USE_RING 64
struct kt_bad_use {
	int fd;
	uint32_t gen;  /* the entry's generation then (0: never open) */
	uint8_t call;  /* enum kt_use_call */
	uint8_t closed_call;
	uint64_t site, opened_site, closed_site;
};
extern struct kt_bad_use kt_bad_uses[KT_BAD_USE_RING];
extern atomic_uint kt_bad_use_count;
/* Called by a hook on fd after its real call returned r (a use of fd:
 * read, write...): the hot path pays one predictable branch (r < 0). */
#define KT_CHECK_USE(r, fd, call)                                                   \
	do {                                                                        \
		if (__builtin_expect((r) < 0, 0) && errno == EBADF && (fd) >= 0)    \
			kt_bad_use_after((fd), (call), __builtin_return_address(0)); \
	} while (0)
void kt_bad_use_after(int fd, enum kt_use_call call, void *site);
/* close(-1) calls: counted, with the first call's site. */
struct kt_minus_one_closes {
	atomic_uint count;
	_Atomic uint64_t site;
};
extern struct kt_minus_one_closes kt_minus_one_closes;
extern struct kt_bad_close kt_bad_closes[KT_BAD_CLOSE_RING];
extern atomic_uint kt_bad_close_count;
/* Closes of numbers the table never had open (a close-everything sweep, or
 * a stale number): counted, not listed, with the lowest and highest number
 * and the first call site. */
struct kt_unopened_closes {
	atomic_uint count;
	atomic_int lowest, highest;
	_Atomic uint64_t site;
};
extern struct kt_unopened_closes kt_unopened_closes;
/* In a fork child: what the parent noted is the parent's. */
void kt_forget_bad_closes(void);
/* closed_ring.c: closed entries that are links of a chain (a copy, or
 * made here and copied), for the next snapshot's "closed" records:
 * remember one as it is closed (gen: its open generation); forget them in
 * a fork child. Those something was copied from (KT_ENTRY_COPIED) are kept
 * in a log of KT_CLOSED_LOG (then counted as dropped), the others in a ring
 * of the latest KT_CLOSED_RING. Read slot i (false when empty or being
 * rewritten). */
#define KT_CLOSED_RING 256
#define KT_CLOSED_LOG (1u << 16)
void kt_closed_remember(int fd, const struct kt_fd_entry *e, uint32_t gen);
bool kt_closed_get(size_t i, int *fd, uint32_t *gen, struct kt_fd_entry *out);
/* The ring's slots that were ever pushed to since the image started or
 * forked (they fill in order): the others need not be read, nor their
 * pages faulted in. */
size_t kt_closed_ring_used(void);
bool kt_closed_names(size_t i, int fd, uint32_t gen); /* slot i holds (fd, gen) */
size_t kt_closed_log_count(void);
bool kt_closed_log_get(size_t i, int *fd, uint32_t *gen, struct kt_fd_entry *out);
unsigned kt_closed_log_dropped(void);
void kt_closed_forget(void);

/* own_fds.c: the shim's sections that hold descriptors of their own, and
 * the application's calls that replace or close descriptors by number,
 * exclude each other (never nest a replacing call in a section's own
 * work). kt_own_fds_fork_child in the child of a fork. */
void kt_own_fds_begin(void);
void kt_own_fds_begin_signals_blocked(void); /* the caller blocked every signal */
void kt_own_fds_end(void);
enum kt_gate {
	KT_GATE_OPEN,   /* one thread: nothing to exclude */
	KT_GATE_SHARED, /* nested in this thread's own replacing call */
	KT_GATE_HELD,   /* this call holds the thread's turn */
};
enum kt_gate kt_app_replace_begin(void);
void kt_app_replace_end(enum kt_gate gate);
void kt_own_fds_fork_child(void);
void kt_threads_possible(void);
/* Whether a second thread may exist (kt_threads_possible was called). */
bool kt_threads_may_exist(void);
/* Set an entry wholesale (start-up, exec): fields from *v, generation gen. */
void kt_table_adopt(int fd, const struct kt_fd_entry *v, uint32_t gen);
/* close_range/closefrom: retire the entries of [first, last] the table ever
 * used (before the real call), or with cloexec_only set their FD_CLOEXEC bit;
 * a close_range of a few named numbers notes those closed before as bad
 * closes. */
void kt_note_range(unsigned int first, unsigned int last, int cloexec_only,
		   enum kt_close_call call, void *site);
void kt_note_source(int fd, pid_t pid, int src_fd);
/* This process execs into an image the shim cannot follow (or that exec
 * failed: off again); whether another process's table says so. */
void kt_table_mark_untraced(int on);
/* This process is about to exec (on), or that exec failed (off): its
 * header's execing (table.h). */
void kt_table_set_execing(int on);
/* popen starts (1) or has noted its end (-1): see kt_table_header.in_popen. */
void kt_table_popen(int delta);
/* system() starts (1) or has returned (-1): see kt_table_header.in_system. */
void kt_table_system(int delta);
/* The exec closes the close-on-exec descriptors out of our sight: retire
 * their entries first (on), or put back those still open after a failed
 * exec (off). */
void kt_table_retire_cloexec(int on);
int kt_table_is_untraced(const struct kt_fd_entry *other);

/* Another traced process's descriptors (its table and /proc), to find by
 * kcmp which of them one of ours is a copy of. */
struct kt_arena;
struct kt_other_view {
	pid_t pid;
	unsigned long long start;
	const struct kt_fd_entry *table;
	size_t cap;
	int *fds; /* its open descriptors, listed on first need */
	long nfds;
	int listed;
};
int kt_other_open(struct kt_other_view *v, pid_t pid, unsigned long long start);
void kt_other_close(struct kt_other_view *v);
/* Its descriptor that our fd is the same description as: the same number
 * first, then any of the same inode. -1 if none; *gen its generation. */
int kt_other_find(struct kt_other_view *v, struct kt_arena *arena, int fd, uint32_t *gen);
/* A received descriptor's sender pid is known (the peer of the socket):
 * find which of its descriptors it sent. Reads /proc: not a hot path. */
void kt_note_sender(int fd, pid_t pid);
/* fd was passed over a UNIX socket (SCM_RIGHTS): marked sent, its file cached. */
void kt_note_sent(int fd);
/* Whether our fd is a pipe whose other end it got from popen. */
int kt_other_popen_end(struct kt_other_view *v, struct kt_arena *arena, int fd);

/* ---- mmap-backed scratch memory (arena.c) ---- */
struct kt_arena {
	char *base;
	size_t used, cap;
};
void *kt_arena_alloc(struct kt_arena *a, size_t n);
/* For a struct kt_fd_list (procfs.h) whose room comes from an arena. */
void *kt_arena_grow(void *arena, void *old, size_t n);
#define KT_ARENA_FD_LIST(arena) ((struct kt_fd_list){.grow = kt_arena_grow, .ctx = (arena)})
void kt_arena_release(struct kt_arena *a);

/* ---- snapshots (snapshot.c) ---- */
/* Snapshot this process's descriptors (why exit or exec); untraced: the
 * record to write after it in the same write, or NULL. 0, or -errno when
 * it could not be taken or written. */
int kt_snapshot(enum kt_snap_why why, int status, const struct kt_rec_untraced *untraced);

/* ---- stdio buffers copied by fork (stdio_fork.c, record.h "stdio-copied") ---- */
/* The streams the stdio hooks saw opened and not yet closed. */
void kt_stdio_track(FILE *fp);
void kt_stdio_untrack(FILE *fp);
/* In a fork child before it runs on: note the streams that hold output
 * (site: the fork's return address). buffers_copied false: the child's
 * buffers are not flushed twice (vfork, whose child shares them; daemon,
 * whose parent _exits). */
void kt_stdio_fork_child(uint64_t site, bool by_clone, bool buffers_copied);
/* The process ends by exit() or a return from main, which flush: keep
 * those still holding what the fork copied, for the exit snapshot's
 * events (kt_stdio_events). */
void kt_stdio_exit_flushes(void);
struct kt_buf;
void kt_stdio_events(struct kt_buf *b);

/* ---- call sites (site.c) ---- */
/* "MODULE+0xOFF" for a return address; "-" when it cannot be said. Room
 * for it: KT_SITE_TEXT bytes. */
#define KT_SITE_TEXT 4200
void kt_site_format(uint64_t site, char *out, size_t n);
/* KCMPTRACE_STACK=N: keep N - 1 callers of each creating call. */
extern int kt_stack_depth;
void kt_stack_init(void);
void kt_stack_capture(uint64_t *out, uint64_t site);

/* ---- exec continuation (process.c): origins recorded before this image ---- */
/* The fd records of the snapshot the earlier image took at its exec. */
extern struct kt_rec_fd *kt_prior;
extern size_t kt_prior_count;

#endif
