/* The trace record format: what the shim writes and the report reads.
 *
 * A trace directory holds, for every traced process (keyed by pid and start
 * time, the start time being field 22 of /proc/PID/stat, in clock ticks):
 *   PID-START.rec       the process record: text lines, append-only
 *   live/PID-START.tbl  the process's shared descriptor table (binary, see
 *                       fdtable.h) while the process lives; removed at exit
 *   root                "PID START\n" of the first traced process (plain
 *                       LD_PRELOAD mode), or "launcher\n" under kcmptrace
 *
 * A .rec file is UTF-8-agnostic text. Each record is one line of fields
 * separated by TAB and ended by LF. Fields are escaped: backslash -> "\\",
 * TAB -> "\t", LF -> "\n", every other byte below 0x20 and 0x7f -> "\xHH".
 * "-" stands for an absent string, numbers are decimal.
 *
 * First line:   kcmptrace-record <TAB> 1
 *
 * image  PID PPID PARENT_START START EXE ARGC ARG...
 *        A program image began (a process started, by fork or from outside,
 *        or an exec). PARENT_START is 0 when unknown. A process has one or
 *        more image lines; the last one names what it runs.
 * snap   WHY STATUS KCMP
 *        Start of a snapshot of the process's open descriptors. WHY is
 *        "exit" or "exec"; STATUS is the exit status (0..255) for exit, -1 for
 *        exec. KCMP is "ok" or "unavailable:ERRNONAME" (kcmp(2) refused or
 *        missing: no "same" line in this snapshot comes from kcmp then).
 *        Written by the report, not by the process: "live" (a process still
 *        running, read from outside), "table" (one that ended without a
 *        snapshot: its table's entries, ACCESS "-", TYPE unknown, KCMP
 *        "none"), and, appended to the record file of an untraced image by
 *        the launcher that watched it, "exit-observed" (read from outside
 *        at its exit stop; STATUS -1 for all three).
 *        A snapshot is written with a single write(2), so it is whole or
 *        absent; it ends with an "end" line.
 * fd     FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD
 *        SRC_GEN SITE
 *        One open descriptor of the process at snapshot time.
 *        GEN: the descriptor's generation (see "nodes" below).
 *        TYPE: file|dir|pipe|fifo|socket|chr|blk|anon|unknown.
 *        TARGET: readlink of /proc/self/fd/FD ("/tmp/x", "pipe:[123]").
 *        ACCESS: r|w|rw.  CLOEXEC: 0|1.
 *        HOW: open|dup|inherited|exec|received|unknown (exec: kept across an
 *        exec of this process; then CALL/SRC/SITE still describe how it was
 *        created before the exec and SRC_* are zero unless it was dup or
 *        inherited). "unknown" means the shim did not see it created (present
 *        at start-up, or made by a call the shim does not interpose).
 *        CALL: the libc call that made it (openat, dup2, pipe2, fork...) or -.
 *        SRC_*: for dup, the source descriptor in this process (SRC_PID and
 *        SRC_START are this process); for inherited, the parent's descriptor
 *        (SRC_FD -1 when none of the parent's is the same description: the
 *        far end of a pipe its popen made, CALL popen); for received, the
 *        sender's descriptor when known; otherwise 0 0 -1 0.
 *        SITE: "MODULE+0xOFFSET" of the calling instruction, or -. MODULE is
 *        the absolute path of the object (program or library). OFFSET is the
 *        return address minus one (an address inside the call instruction)
 *        minus dladdr()'s dli_fbase, i.e. relative to the mapped start of
 *        the object's lowest PT_LOAD segment; the link-time address is
 *        OFFSET + (lowest PT_LOAD p_vaddr rounded down to the page size).
 * stack  FD GEN SITE...
 *        With KCMPTRACE_STACK=N > 1: the call sites of the callers of the
 *        call that made FD (the one in its fd line's SITE), innermost first,
 *        at most N - 1 of them, each "MODULE+0xOFFSET" as SITE is.
 * peer   FD GEN FD2 GEN2
 *        FD and FD2 are the two ends one socketpair (or pipe) call made,
 *        both open in this process (inherited ones too).
 * same   FD GEN PID START FD2 GEN2
 *        kcmp(KCMP_FILE) found this process's FD (generation GEN) to be the
 *        same open file description as FD2 (generation GEN2) of process
 *        PID/START, which may be this same process.
 * observed PID START FD GEN TYPE TARGET ACCESS CLOEXEC TIME
 *        PID/START runs an untraced image (its last exec wrote "untraced"):
 *        this process, at its snapshot, saw PID's descriptor FD from outside.
 *        GEN is PID's table generation when the table knows the descriptor,
 *        else 2147483648 + the observer's pid (a name of its own for what
 *        the untraced image made). TIME: CLOCK_REALTIME in ns, so that the
 *        report can take the latest observation. "same" lines of the same
 *        snapshot may name these nodes.
 * note   TEXT
 *        Something the reader should know (e.g. kcmp denied for a pid).
 * stat   NAME VALUE
 *        A measurement of the snapshot itself: snapshot_us (wall time spent
 *        in it), kcmp_calls, live_processes (other traced processes it
 *        compared against).
 * end
 *        End of the snapshot.
 *
 * Events: calls worth a finding later. The hooks only note them (in the
 * table entry, or a small ring for bad closes: no I/O on hot paths); the
 * next snapshot writes them, after its end line, in the same write:
 * event  KIND FD GEN ARG1 ARG2 SITE
 *        close-ebadf  close(FD) failed with EBADF (FD was not open: a double
 *                     close, or a close of a number never opened); GEN 0,
 *                     ARG1 the generation the entry had (odd: closed by a
 *                     tracked close before), ARG2 0.
 *        setfl        fcntl(FD, F_SETFL) changed the status flags of FD's
 *                     open file description: ARG1 the flags before, ARG2 the
 *                     flags after (octal digits as decimal text of the
 *                     number, i.e. plain integers).
 *        flock        flock(FD, ARG1) succeeded (ARG1 = LOCK_SH 1, LOCK_EX 2,
 *                     LOCK_UN 8, possibly | LOCK_NB 4); ARG2 0.
 *        ofd-lock     fcntl(FD, F_OFD_SETLK or F_OFD_SETLKW) succeeded:
 *                     ARG1 the lock type (F_RDLCK 0, F_WRLCK 1, F_UNLCK 2),
 *                     ARG2 0.
 *        setfd        fcntl(FD, F_SETFD) cleared FD_CLOEXEC: the program made
 *                     FD inheritable on purpose; ARG1 and ARG2 0.
 *        SITE as in fd records. Unknown KINDs are to be skipped by readers.
 * untraced PATH REASON
 *        Written with an exec snapshot: the exec of PATH will start an image
 *        the shim cannot follow (REASON: "static binary", "set-id program").
 *        If a later snapshot follows, the exec failed and this is void.
 * reaped PID STATUS
 *        This process reaped its child PID (waitpid and friends); STATUS is
 *        the raw wait status. Written at once. How a child ended that took
 *        no exit snapshot (killed by a signal, or running an untraced image)
 *        is known only from this line.
 *
 * Nodes: (PID, START, FD, GEN) names one descriptor over one stretch of its
 * life: GEN changes whenever the number is closed or reused, and is kept
 * across exec and copied across fork (a child's inherited descriptor has the
 * parent's GEN). Two nodes are the same open file description when a "same"
 * line joins them, or when one is a dup or an inheritance of the other
 * (SRC_* of an fd line). The report takes the union of these relations.
 * Readers must ignore unknown record kinds (future extensions) but reject
 * malformed known ones.
 */
#ifndef KT_RECORD_H
#define KT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define KT_RECORD_MAGIC "kcmptrace-record"
#define KT_RECORD_VERSION 1
#define KT_MAX_FIELDS 4096

/* Append-only text buffer that never mallocs: the shim backs it with mmap. */
struct kt_buf {
	char *data;
	size_t len;
	size_t cap;
	int overflow; /* set when an append did not fit */
};

void kt_buf_put(struct kt_buf *b, const char *s, size_t n);
void kt_buf_str(struct kt_buf *b, const char *s);       /* raw */
void kt_buf_field(struct kt_buf *b, const char *s);     /* TAB + escaped s, "-" if NULL or empty */
void kt_buf_num(struct kt_buf *b, long long v);          /* TAB + decimal */
void kt_buf_unum(struct kt_buf *b, unsigned long long v);
void kt_buf_endline(struct kt_buf *b);

/* The fields of an "fd" record. Strings may be NULL (written "-"). */
struct kt_record_fd {
	int fd;
	unsigned long long gen;
	const char *type, *target, *access;
	int cloexec;
	const char *how, *call;
	long long src_pid;
	unsigned long long src_start;
	int src_fd;
	unsigned long long src_gen;
	const char *site;
	/* When set: CALL..SITE exactly as an earlier record wrote them (still
	 * escaped, TAB-separated); call, src_* and site are then not used. */
	const char *raw_tail;
};

/* Whole lines: "fd ...", "same ...". */
void kt_record_put_fd(struct kt_buf *b, const struct kt_record_fd *f);
void kt_record_put_same(struct kt_buf *b, int fd, unsigned long long gen, long long pid,
			unsigned long long start, int fd2, unsigned long long gen2);

/* Split one line (without its LF) in place into at most max fields, unescaping
 * each. Returns the number of fields, or -1 on a malformed escape. */
int kt_record_split(char *line, char **fields, int max);

#endif
