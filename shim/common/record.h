/* The trace record format: what the shim writes and the report reads, and
 * the one codec both sides use to write and read it.
 *
 * A trace directory holds, for every traced process (keyed by pid and start
 * time, the start time being field 22 of /proc/PID/stat, in clock ticks):
 *   PID-START.rec       the process record: text lines, append-only
 *   live/PID-START.tbl  the process's shared descriptor table (binary, see
 *                       table.h) while the process lives; removed at exit
 * (the other names of a trace directory: tracedir.h).
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
 *        at its exit stop), and "signal" (the launcher's look at every
 *        process alive when a signal came to end the run, before passing
 *        it on; STATUS -1 for all four).
 *        A snapshot is written with a single write(2), so it is whole or
 *        absent; it ends with an "end" line. One more field may follow:
 *        TIME, CLOCK_MONOTONIC in ns when it was taken (absent in traces of
 *        older versions), to order it against a setfl event's TIME.
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
 * closed FD GEN HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE
 *        A descriptor this process had and closed before this snapshot,
 *        with its origin as in fd records: the link between what was
 *        copied from it (a dup, a child's inherited descriptor) and where
 *        it came from, or the call that made it. Written for a copy, and
 *        for one made by a call (HOW open) that was copied since: its
 *        number's last generation, earlier generations closed lately, and
 *        the descriptor that a dup's chain of dups started from. Only what
 *        the shim saw made; the same node may be written twice.
 * stack  FD GEN SITE...
 *        With KCMPTRACE_STACK=N > 1: the call sites of the callers of the
 *        call that made FD (the one in its fd line's SITE), innermost first,
 *        at most N - 1 of them, each "MODULE+0xOFFSET" as SITE is.
 * peer   FD GEN FD2 GEN2
 *        FD and FD2 are the two ends one socketpair (or pipe) call made,
 *        both open in this process (inherited ones too).
 * addr   FD GEN LOCAL PEER LISTENING
 *        The addresses of socket FD as the process itself saw them
 *        (getsockname, getpeername; sockaddr.h writes them): LOCAL and PEER
 *        "127.0.0.1:8080", "[::1]:8080", a UNIX socket's path, "@name" for
 *        an abstract one, "" (written escaped, "\x00") for an unnamed one,
 *        "-" when none (not bound, not connected) or unknown. LISTENING: 1
 *        when it accepts connections (SO_ACCEPTCONN), else 0. Written after
 *        FD's fd line, for sockets whose calls answered; absent in traces
 *        of older versions.
 * ino    FD GEN DEV INO WHY
 *        The file (st_dev, st_ino) of FD: WHY "sent" for a descriptor this
 *        process passed over a UNIX socket (SCM_RIGHTS), "received" for one
 *        it received whose sender's descriptor was not found at the
 *        receipt (the sender had closed it, or ended). The report joins a
 *        received one to the one description of that file that the
 *        socket's peer process (SO_PEERCRED, its fd record's SRC_PID) sent.
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
 * blocked ROLE TID STATE KIND CALL NR FD IO PID TIMEOUT THREADS ALL_THREADS
 *        FUTEX_OWN CPU WCHAN ERROR PATH NFDS FDIO...
 *        Inside a snapshot read from outside (the launcher's "signal" look):
 *        what the process was blocked on then, as the report read it
 *        (report/blocked.h), so that the report made from the kept trace
 *        tells it as the launcher did. ROLE "process": the process's own
 *        line, at most one per snapshot; "thread": another of its threads,
 *        after it. TID: the thread whose call it is (0 the main thread).
 *        STATE: field 3 of /proc/PID/stat, "?" when unreadable. KIND:
 *        running, fd, fds, wait, lock, sleep, stopped, fifo-open or other.
 *        CALL: the system call's name, or -; NR: its number, -1 when none.
 *        FD: fd and lock: the descriptor, else -1. IO: r (waits to read or
 *        accept), w (to write or connect), rw or -. PID: wait: the pid
 *        waited for (-1 any child, below -1 the group). TIMEOUT (a timer
 *        wakes it), ALL_THREADS (every thread could be read), FUTEX_OWN (a
 *        futex wait on private memory): 0 or 1. THREADS: how many threads.
 *        CPU: utime + stime in clock ticks. WCHAN: the kernel function it
 *        sleeps in, or -. ERROR: why the call could not be read (EACCES...)
 *        or -. PATH: fifo-open: the path opened, or -. NFDS: fds: the size
 *        of the set, -1 when it could not be read (0 for other kinds); then
 *        NFDS fields FD:IO, IO as above. Absent in traces of older versions.
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
 *                     close, or, in traces of older versions, a close of a
 *                     number never opened); GEN 0, ARG1 the generation the
 *                     entry had (odd: closed by a tracked close before;
 *                     even: closed behind the shim's back, or 0 with
 *                     ARG2 bit 2), ARG2 bits: 1 the call was close_range
 *                     (FD a number of its range closed before), 2 FD is
 *                     no descriptor number (negative, or not below the
 *                     RLIMIT_NOFILE soft limit). Three more fields may
 *                     follow: OPENED_SITE (of the call that made FD),
 *                     CLOSED_CALL and CLOSED_SITE (the close that closed
 *                     it before: close, close_range, closefrom, fclose,
 *                     closedir, syscall, login_tty), each - when unknown.
 *        bad-use      a call on descriptor FD (FD >= 0) failed with EBADF: FD
 *                     was not open (valgrind's "invalid file descriptor"
 *                     of read, write...); GEN 0, ARG1 the generation the
 *                     entry had (odd: closed by a tracked close; even:
 *                     closed behind the shim's back; 0 never open in this
 *                     image), ARG2 the call, KT_USE_* in record.h (1 read,
 *                     2 write, 3 pread, 4 pwrite, 5 readv, 6 writev, 7
 *                     lseek, 8 fstat, 9 send, 10 recv, 11 sendto, 12
 *                     recvfrom, 13 sendmsg, 14 recvmsg, 15 sendmmsg, 16
 *                     recvmmsg, 17 ioctl, 18 fcntl; the 64-bit and
 *                     __fxstat variants as the plain call), SITE the
 *                     call's. OPENED_SITE, CLOSED_CALL and CLOSED_SITE may
 *                     follow, as for close-ebadf.
 *        close-minus-one  close(-1) calls, as a count: ARG1 how many,
 *                     SITE the first's; FD -1, GEN 0, ARG2 0.
 *        close-unopened  close() failed with EBADF on ARG1 numbers the
 *                     process never had open since it was traced (a
 *                     close-everything sweep, or a stale number): FD the
 *                     lowest, ARG2 the highest, SITE the first call's; GEN 0.
 *        setfl        fcntl(FD, F_SETFL) changed the status flags of FD's
 *                     open file description: ARG1 the flags before, ARG2 the
 *                     flags after (octal digits as decimal text of the
 *                     number, i.e. plain integers). One more field may
 *                     follow: TIME, CLOCK_MONOTONIC in ns right after the
 *                     (last) call, to compare with "forked" TIMEs: a process
 *                     forked after it did not hold the description then.
 *        flock        flock(FD, ARG1) succeeded (ARG1 = LOCK_SH 1, LOCK_EX 2,
 *                     LOCK_UN 8, possibly | LOCK_NB 4); ARG2 0.
 *        ofd-lock     fcntl(FD, F_OFD_SETLK or F_OFD_SETLKW) succeeded:
 *                     ARG1 the lock type (F_RDLCK 0, F_WRLCK 1, F_UNLCK 2),
 *                     ARG2 0.
 *        setfd        fcntl(FD, F_SETFD) or ioctl(FD, FIONCLEX) cleared
 *                     FD_CLOEXEC: the program made FD inheritable on
 *                     purpose; ARG1 and ARG2 0.
 *        stdio-copied  this process is a fork child that got, with its copy
 *                     of its parent's memory, ARG1 bytes of unflushed
 *                     output in the buffer of a stdio stream over FD, and
 *                     ends by exit() or a return from main with them still
 *                     there (at least ARG1 bytes pending on the same stream,
 *                     over the same descriptor, generation GEN): the exit
 *                     flushes them, and the parent its own copy, so they
 *                     are written twice. ARG2: the stream, KT_STDIO_* in
 *                     record.h (0 another stream, 1 stdout, 2 stderr, plus
 *                     4 when the process was made by clone()). SITE: the
 *                     fork's (in the parent's code, the same image).
 *                     Written with the exit snapshot only.
 *        SITE as in fd records. Unknown KINDs are to be skipped by readers.
 * untraced PATH REASON
 *        Written with an exec snapshot: the exec of PATH will start an image
 *        the shim cannot follow (REASON: "static binary", "set-id program").
 *        If a later snapshot follows, the exec failed and this is void.
 * forked TIME
 *        Right after the first image line of a fork child: CLOCK_MONOTONIC in
 *        ns, taken by the parent just before the fork call, so every
 *        descriptor the child inherited was copied after TIME. Absent in
 *        traces of older versions and for processes not made by a traced
 *        fork (spawned, started from outside): then the order is unknown.
 * spawned HOW
 *        Right after the first image line of a process that its traced
 *        parent started by an exec the shim did not see made: HOW is
 *        "posix_spawn", "popen" or "system" (glibc clones and execs inside
 *        them). What the image inherited from its parent crossed that exec,
 *        as after a fork and an exec. Absent for a fork child, a process
 *        started from outside, and in traces of older versions. One more
 *        field may follow (posix_spawn): TIME, as a forked record's, taken
 *        by the parent just before the spawn.
 * reaped PID STATUS
 *        This process reaped its child PID (waitpid and friends); STATUS is
 *        the raw wait status. Written at once. How a child ended that took
 *        no exit snapshot (killed by a signal, or running an untraced image)
 *        is known only from this line. One more field may follow: TIME,
 *        CLOCK_MONOTONIC in ns right after the wait (the child had ended).
 * end-fd FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD
 *        SRC_GEN SITE
 *        As an fd line: one descriptor above 2 open at the process's real
 *        end, after its exit handlers and destructors ran (the exit
 *        snapshot is taken when main returns or exit() is called, before
 *        them). GEN is the one of its fd line in the exit snapshot when it
 *        is the same descriptor; another GEN is one made after it.
 * end-fds N
 *        Ends the end-fd lines (N of them), written with them in one write
 *        by the library's destructor: without it, the real end is unknown
 *        (_exit in a handler, a fatal signal) and the exit snapshot tells.
 *        One more field may follow: TIME, CLOCK_MONOTONIC in ns then.
 *        N is "same" (no end-fd lines) when no descriptor was made or
 *        closed since the exit snapshot: it tells the real end, and TIME
 *        when that came.
 * ended  STATUS
 *        Appended by the launcher once it reaped this process: the raw
 *        wait status. How a process ended that no traced parent reaped
 *        (the command itself, an orphan) is known from it.
 * unrecorded WHAT ERRNO CAUSE PATH
 *        Part of this process's trace could not be written (a sandbox
 *        refused the calls, a full disk...). WHAT: "start" (its image could
 *        not start a trace of its own), "fork" (a fork child that could not
 *        get a table: this record, which the report makes from what the
 *        child left in its parent's table, is all there is of it), "exec"
 *        (its snapshot at the exec of PATH), "exit" (its exit snapshot) or
 *        "end" (neither a snapshot nor a table: the report could only see
 *        that it ended) or "table" (its table could not grow to a number
 *        as high as it used: the origins of the higher ones). ERRNO: the error's name, "-" when unknown. CAUSE:
 *        "seccomp" when the process ran under a seccomp filter then, else
 *        "-". PATH: the program of an exec, else "-". Written by the
 *        process when it still can, else by the report from its table
 *        (table.h).
 *
 * Nodes: (PID, START, FD, GEN) names one descriptor over one stretch of its
 * life: GEN changes whenever the number is closed or reused, and is kept
 * across exec and copied across fork (a child's inherited descriptor has the
 * parent's GEN). Two nodes are the same open file description when a "same"
 * line joins them, or when one is a copy of the other (the SRC_* of an fd
 * line: kt_rec_fd_source). The report takes the union of these relations.
 * Readers must ignore unknown record kinds (future extensions) but reject
 * malformed known ones.
 *
 * The codec: one struct per record kind, kt_rec_put_KIND to write it (no
 * malloc, no stdio: the shim writes from hooks and exit paths) and
 * kt_rec_parse_KIND to read it from a split line. No other code formats or
 * splits a record line.
 */
#ifndef KT_RECORD_H
#define KT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KT_RECORD_MAGIC "kcmptrace-record"
#define KT_RECORD_VERSION 1

/* ---- the format's vocabulary, with the names it writes ---- */

/* HOW: how a descriptor came to be in its process. */
enum kt_how { KT_HOW_NONE, KT_HOW_OPEN, KT_HOW_DUP, KT_HOW_INHERITED, KT_HOW_EXEC,
	      KT_HOW_RECEIVED, KT_HOW_UNKNOWN };

/* TYPE: what a descriptor refers to. */
enum kt_fd_type {
	KT_FD_UNKNOWN, KT_FD_FILE, KT_FD_DIR, KT_FD_PIPE, KT_FD_FIFO,
	KT_FD_SOCKET, KT_FD_CHR, KT_FD_BLK, KT_FD_ANON
};

/* ACCESS: the O_ACCMODE value (O_RDONLY 0 "r", O_WRONLY 1 "w", O_RDWR 2
 * "rw", 3 "ioctl"), or KT_ACCESS_UNKNOWN ("-": table snapshots; kept as unknown elsewhere). */
#define KT_ACCESS_UNKNOWN (-1)

/* WHY of a snapshot. */
enum kt_snap_why { KT_WHY_EXIT, KT_WHY_EXEC, KT_WHY_LIVE, KT_WHY_TABLE, KT_WHY_EXIT_OBSERVED,
		   KT_WHY_SIGNAL };

/* KCMP of a snapshot: 0 "ok", an errno value "unavailable:ENAME", or
 * KT_KCMP_NONE "none" (a table snapshot: nothing compared). */
#define KT_KCMP_NONE (-1)

/* WHAT of an "unrecorded" record. */
enum kt_lost_what { KT_LOST_START, KT_LOST_FORK, KT_LOST_EXEC, KT_LOST_EXIT, KT_LOST_END, KT_LOST_TABLE };
#define KT_LOST_LAST KT_LOST_TABLE

/* KIND of an event; KT_EVENT_UNKNOWN for kinds this reader does not know. */
enum kt_event_kind { KT_EVENT_UNKNOWN, KT_EVENT_CLOSE_EBADF, KT_EVENT_SETFL, KT_EVENT_FLOCK,
		     KT_EVENT_OFD_LOCK, KT_EVENT_SETFD, KT_EVENT_CLOSE_UNOPENED,
		     KT_EVENT_CLOSE_MINUS_ONE, KT_EVENT_STDIO_COPIED, KT_EVENT_BAD_USE };

/* ARG2 of a bad-use event: the call that failed with EBADF (values are
 * stored in traces: a new call goes last). */
enum kt_use_call { KT_USE_NONE, KT_USE_READ, KT_USE_WRITE, KT_USE_PREAD, KT_USE_PWRITE,
		   KT_USE_READV, KT_USE_WRITEV, KT_USE_LSEEK, KT_USE_FSTAT, KT_USE_SEND,
		   KT_USE_RECV, KT_USE_SENDTO, KT_USE_RECVFROM, KT_USE_SENDMSG, KT_USE_RECVMSG,
		   KT_USE_SENDMMSG, KT_USE_RECVMMSG, KT_USE_IOCTL, KT_USE_FCNTL, KT_USE_COUNT };

/* ARG2 of a stdio-copied event: which stream, and how the process was made. */
#define KT_STDIO_OTHER 0  /* a stream fopen, fdopen, freopen, tmpfile or popen opened */
#define KT_STDIO_STDOUT 1
#define KT_STDIO_STDERR 2
#define KT_STDIO_STREAM_MASK 3
#define KT_STDIO_BY_CLONE 4 /* the copy was made by clone(), not fork() */

/* The calls that close descriptors, named in close-ebadf events. */
enum kt_close_call { KT_CLOSE_NONE, KT_CLOSE_CLOSE, KT_CLOSE_CLOSE_RANGE, KT_CLOSE_CLOSEFROM,
		     KT_CLOSE_FCLOSE, KT_CLOSE_CLOSEDIR, KT_CLOSE_SYSCALL, KT_CLOSE_LOGIN_TTY };

/* ARG2 bits of a close-ebadf event. */
#define KT_BAD_CLOSE_RANGE 1   /* a number of a close_range() that was closed already */
#define KT_BAD_CLOSE_INVALID 2 /* FD is no descriptor number: negative, or not below the
				* RLIMIT_NOFILE soft limit */

/* KIND of a blocked record: what a live process waits in (report/blocked.h). */
enum kt_block_kind {
	KT_BLOCK_RUNNING, /* running, or not in a system call */
	KT_BLOCK_FD,      /* read/write/recv/send/accept/connect on one descriptor */
	KT_BLOCK_FDS,     /* poll/select/epoll_wait on a set */
	KT_BLOCK_WAIT,    /* wait4/waitid */
	KT_BLOCK_LOCK,    /* flock, fcntl F_SETLKW / F_OFD_SETLKW */
	KT_BLOCK_SLEEP,   /* nanosleep, clock_nanosleep */
	KT_BLOCK_STOPPED, /* stopped by a signal or a tracer */
	KT_BLOCK_FIFO_OPEN, /* open/openat of a FIFO, waiting for its other end */
	KT_BLOCK_OTHER,   /* another call (futex, pause...), or one we may not read */
};

/* The calls that make descriptors, the CALL of an fd record (stored as
 * a number in the shared tables): hooks.def lists them with the hooks. */
enum kt_call {
	KT_CALL_NONE,
#define KT_CALL_HOOK(field, sym, ret, params, NAME) KT_CALL_##NAME,
#define KT_CALL_WRAPPER(sym, NAME) KT_CALL_##NAME,
#include "hooks.def"
	KT_CALL_COUNT
};

/* Names as the format writes them; the unknown value's for out-of-range. */
const char *kt_how_name(enum kt_how how);
const char *kt_fd_type_name(enum kt_fd_type type);
const char *kt_access_name(int access); /* NULL for KT_ACCESS_UNKNOWN */
const char *kt_snap_why_name(enum kt_snap_why why);
const char *kt_event_name(enum kt_event_kind kind);
const char *kt_call_name(enum kt_call call); /* NULL for KT_CALL_NONE ("-") */
const char *kt_close_call_name(enum kt_close_call call); /* NULL for KT_CLOSE_NONE */
const char *kt_use_call_name(long long call); /* NULL for KT_USE_NONE and unknown values */
/* "ENOSYS", "EPERM"... for the errno values kcmp fails with; "EIO" else. */
const char *kt_errno_name(int err);
/* The name of any errno value the format knows, or NULL ("-"). */
const char *kt_errno_name_known(int err);
const char *kt_lost_what_name(enum kt_lost_what what);
const char *kt_block_kind_name(enum kt_block_kind kind);
/* The KCMP field of a snapshot: "ok", "none" or "unavailable:ENAME", in buf. */
const char *kt_kcmp_text(int kcmp, char buf[32]);
/* The value a name stands for, or -1 when it names none ("-" is the call
 * KT_CALL_NONE; an unknown event kind is KT_EVENT_UNKNOWN). */
int kt_how_from_name(const char *s);
int kt_fd_type_from_name(const char *s);
int kt_access_from_name(const char *s);
int kt_snap_why_from_name(const char *s);
int kt_event_from_name(const char *s);
int kt_errno_from_name(const char *s);
int kt_call_from_name(const char *s);
int kt_lost_what_from_name(const char *s);
int kt_block_kind_from_name(const char *s);

/* ---- writing ---- */

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
/* TAB + escaped s, never read back as absent: "" and "-" stay themselves
 * (argv elements). */
void kt_buf_field_exact(struct kt_buf *b, const char *s);
void kt_buf_num(struct kt_buf *b, long long v);          /* TAB + decimal */
void kt_buf_unum(struct kt_buf *b, unsigned long long v);
void kt_buf_endline(struct kt_buf *b);

/* ---- the records ---- */

struct kt_rec_image {
	pid_t pid, ppid;
	unsigned long long parent_start, start;
	const char *exe; /* NULL when absent */
	int argc;
	const char *const *argv; /* argc of them, written as they are */
};

struct kt_rec_snap {
	enum kt_snap_why why;
	int status; /* exit status for exit, -1 else */
	int kcmp;   /* 0, errno, or KT_KCMP_NONE */
	unsigned long long time; /* CLOCK_MONOTONIC ns when taken; 0 unknown (not written) */
};

struct kt_rec_fd {
	int fd;
	unsigned long long gen;
	enum kt_fd_type type;
	const char *target; /* NULL when absent */
	int access;         /* O_ACCMODE value or KT_ACCESS_UNKNOWN */
	bool cloexec;
	enum kt_how how;
	int call;           /* enum kt_call */
	pid_t src_pid;      /* the source (kt_rec_fd_source); 0 0 -1 0 when none */
	unsigned long long src_start;
	int src_fd;
	unsigned long long src_gen;
	const char *site;   /* NULL when absent */
};

struct kt_rec_stack {
	int fd;
	unsigned long long gen;
	int nsites;
	const char *const *sites;
};

struct kt_rec_peer {
	int fd;
	unsigned long long gen;
	int fd2;
	unsigned long long gen2;
};

struct kt_rec_ino {
	int fd;
	unsigned long long gen;
	unsigned long long dev, ino;
	bool sent; /* else received */
};

struct kt_rec_addr {
	int fd;
	unsigned long long gen;
	const char *local, *peer; /* NULL: none or unknown; "": unnamed */
	bool listening;
};

struct kt_rec_same {
	int fd;
	unsigned long long gen;
	pid_t pid;
	unsigned long long start;
	int fd2;
	unsigned long long gen2;
};

struct kt_rec_observed {
	pid_t pid;
	unsigned long long start;
	int fd;
	unsigned long long gen;
	enum kt_fd_type type;
	const char *target;
	int access;
	bool cloexec;
	unsigned long long time;
};

struct kt_rec_stat {
	const char *name;
	unsigned long long value;
};

struct kt_rec_event {
	enum kt_event_kind kind;
	int fd;
	unsigned long long gen;
	long long arg1, arg2;
	const char *site;
	/* close-ebadf and bad-use only, NULL when absent: the site of the call that made
	 * the descriptor, and the call (a kt_close_call name) and site of the
	 * close that closed it before. */
	const char *opened_site, *closed_call, *closed_site;
	/* setfl only: its TIME, 0 when absent. */
	unsigned long long time;
};

struct kt_rec_untraced {
	const char *path;
	const char *reason;
};

struct kt_rec_reaped {
	pid_t pid;
	int status;              /* the raw wait status */
	unsigned long long time; /* CLOCK_MONOTONIC ns after the wait; 0 unknown */
};

struct kt_rec_unrecorded {
	enum kt_lost_what what;
	int err;          /* errno value, 0 when unknown */
	bool seccomp;     /* the process ran under a seccomp filter */
	const char *path; /* NULL when absent */
};

/* One descriptor of a blocked record's set, and what it waits for. */
struct kt_rec_blocked_fd {
	int fd;
	bool in, out;
};

struct kt_rec_blocked {
	bool thread; /* ROLE thread: another thread of the process */
	int tid;
	char state;
	enum kt_block_kind kind;
	const char *call;  /* NULL when absent */
	long nr;
	int fd;
	bool in, out;
	int pid;
	bool timeout;
	int threads;
	bool all_threads, futex_own;
	unsigned long long cpu;
	const char *wchan; /* NULL when absent */
	int err;           /* errno value, 0 when none */
	const char *path;  /* NULL when absent */
	long nfds;         /* -1: the set could not be read */
	const struct kt_rec_blocked_fd *fds;
};

/* Whether an fd record names the descriptor it is a copy of: a dup (in this
 * process), an inheritance (the parent's), a received one whose sender is
 * known, or one kept across exec that was one of these before. False for
 * the far end of a parent's popen pipe (inherited, SRC_FD -1). */
static inline bool kt_rec_fd_source(const struct kt_rec_fd *r)
{
	if (r->src_fd < 0 || r->src_pid <= 0)
		return false;
	return r->how == KT_HOW_DUP || r->how == KT_HOW_INHERITED || r->how == KT_HOW_EXEC ||
	       (r->how == KT_HOW_RECEIVED && r->src_gen != 0);
}

/* Whole lines. */
void kt_rec_put_magic(struct kt_buf *b);
void kt_rec_put_image(struct kt_buf *b, const struct kt_rec_image *r);
void kt_rec_put_snap(struct kt_buf *b, const struct kt_rec_snap *r);
void kt_rec_put_fd(struct kt_buf *b, const struct kt_rec_fd *r);
/* A "closed" record: r's number, generation and origin. */
void kt_rec_put_closed(struct kt_buf *b, const struct kt_rec_fd *r);
/* "end-fd": an fd line of the descriptors at the real end; "end-fds N"
 * ("same" for n < 0). */
void kt_rec_put_end_fd(struct kt_buf *b, const struct kt_rec_fd *r);
void kt_rec_put_end_fds(struct kt_buf *b, long n, unsigned long long time);
void kt_rec_put_stack(struct kt_buf *b, const struct kt_rec_stack *r);
void kt_rec_put_peer(struct kt_buf *b, const struct kt_rec_peer *r);
void kt_rec_put_ino(struct kt_buf *b, const struct kt_rec_ino *r);
void kt_rec_put_addr(struct kt_buf *b, const struct kt_rec_addr *r);
void kt_rec_put_same(struct kt_buf *b, const struct kt_rec_same *r);
void kt_rec_put_observed(struct kt_buf *b, const struct kt_rec_observed *r);
void kt_rec_put_note(struct kt_buf *b, const char *text);
void kt_rec_put_stat(struct kt_buf *b, const struct kt_rec_stat *r);
void kt_rec_put_end(struct kt_buf *b);
void kt_rec_put_event(struct kt_buf *b, const struct kt_rec_event *r);
void kt_rec_put_untraced(struct kt_buf *b, const struct kt_rec_untraced *r);
void kt_rec_put_reaped(struct kt_buf *b, const struct kt_rec_reaped *r);
void kt_rec_put_forked(struct kt_buf *b, unsigned long long time);
void kt_rec_put_spawned(struct kt_buf *b, const char *how, unsigned long long time);
void kt_rec_put_ended(struct kt_buf *b, int status);
void kt_rec_put_unrecorded(struct kt_buf *b, const struct kt_rec_unrecorded *r);
void kt_rec_put_blocked(struct kt_buf *b, const struct kt_rec_blocked *r);

/* ---- reading ---- */

enum kt_rec_kind {
	KT_REC_OTHER, /* a kind this reader does not know: skip it */
	KT_REC_MAGIC, KT_REC_IMAGE, KT_REC_SNAP, KT_REC_FD, KT_REC_STACK, KT_REC_PEER, KT_REC_SAME,
	KT_REC_OBSERVED, KT_REC_NOTE, KT_REC_STAT, KT_REC_END, KT_REC_EVENT, KT_REC_UNTRACED,
	KT_REC_REAPED, KT_REC_CLOSED, KT_REC_ENDED, KT_REC_UNRECORDED, KT_REC_END_FD, KT_REC_END_FDS,
	KT_REC_INO, KT_REC_FORKED, KT_REC_ADDR, KT_REC_SPAWNED, KT_REC_BLOCKED
};

/* A line split into unescaped fields (kt_record_split); f[0] is the kind. */
struct kt_rec_line {
	char **f;
	int n;
	enum kt_rec_kind kind;
};

/* What was wrong with a line, for "FILE:LINE: what". */
struct kt_rec_error {
	char what[512];
};

/* Split one line (without its LF) in place into at most max fields, unescaping
 * each. Returns the number of fields, or -1 on a malformed escape. A field
 * written as a raw "-" (an absent string) is kt_rec_absent itself, never
 * to be written to; an escaped dash is a string "-" of the line's. */
extern const char kt_rec_absent[];
int kt_record_split(char *line, char **fields, int max);

/* The number of fields of a line before splitting (TABs + 1). */
size_t kt_record_count_fields(const char *line);

/* Split line into fields (room for kt_record_count_fields) and name its
 * kind. False (err filled) on a malformed escape or an empty line. */
bool kt_rec_line_split(char *line, char **fields, int max, struct kt_rec_line *out,
		       struct kt_rec_error *err);

/* Each parses a line of its kind; false with err filled when malformed.
 * Strings point into the line's fields. */
bool kt_rec_parse_magic(const struct kt_rec_line *l, struct kt_rec_error *err);
bool kt_rec_parse_image(const struct kt_rec_line *l, struct kt_rec_image *r, struct kt_rec_error *err);
bool kt_rec_parse_snap(const struct kt_rec_line *l, struct kt_rec_snap *r, struct kt_rec_error *err);
/* Accepts ACCESS "-" (KT_ACCESS_UNKNOWN): only a table snapshot writes it. */
bool kt_rec_parse_fd(const struct kt_rec_line *l, struct kt_rec_fd *r, struct kt_rec_error *err);
/* A "closed" record into r: type unknown, no target, access unknown. */
bool kt_rec_parse_closed(const struct kt_rec_line *l, struct kt_rec_fd *r, struct kt_rec_error *err);
/* end-fd: as an fd line; end-fds: its count, -1 for "same". */
bool kt_rec_parse_end_fds(const struct kt_rec_line *l, long *n, unsigned long long *time, struct kt_rec_error *err);
bool kt_rec_parse_stack(const struct kt_rec_line *l, struct kt_rec_stack *r, struct kt_rec_error *err);
bool kt_rec_parse_peer(const struct kt_rec_line *l, struct kt_rec_peer *r, struct kt_rec_error *err);
bool kt_rec_parse_ino(const struct kt_rec_line *l, struct kt_rec_ino *r, struct kt_rec_error *err);
bool kt_rec_parse_addr(const struct kt_rec_line *l, struct kt_rec_addr *r, struct kt_rec_error *err);
bool kt_rec_parse_same(const struct kt_rec_line *l, struct kt_rec_same *r, struct kt_rec_error *err);
bool kt_rec_parse_observed(const struct kt_rec_line *l, struct kt_rec_observed *r,
			   struct kt_rec_error *err);
bool kt_rec_parse_note(const struct kt_rec_line *l, const char **text, struct kt_rec_error *err);
bool kt_rec_parse_stat(const struct kt_rec_line *l, struct kt_rec_stat *r, struct kt_rec_error *err);
bool kt_rec_parse_end(const struct kt_rec_line *l, struct kt_rec_error *err);
bool kt_rec_parse_event(const struct kt_rec_line *l, struct kt_rec_event *r, struct kt_rec_error *err);
bool kt_rec_parse_untraced(const struct kt_rec_line *l, struct kt_rec_untraced *r,
			   struct kt_rec_error *err);
bool kt_rec_parse_reaped(const struct kt_rec_line *l, struct kt_rec_reaped *r, struct kt_rec_error *err);
bool kt_rec_parse_ended(const struct kt_rec_line *l, int *status, struct kt_rec_error *err);
bool kt_rec_parse_forked(const struct kt_rec_line *l, unsigned long long *time,
			 struct kt_rec_error *err);
bool kt_rec_parse_spawned(const struct kt_rec_line *l, const char **how, unsigned long long *time, struct kt_rec_error *err);
bool kt_rec_parse_unrecorded(const struct kt_rec_line *l, struct kt_rec_unrecorded *r,
			     struct kt_rec_error *err);

/* fds: room for l->n entries; r->fds points at it, holding the set. */
bool kt_rec_parse_blocked(const struct kt_rec_line *l, struct kt_rec_blocked *r,
			  struct kt_rec_blocked_fd *fds, struct kt_rec_error *err);

#endif
