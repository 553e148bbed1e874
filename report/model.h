/* The model built from a trace: processes in (start, pid) order with their
 * last snapshot, the process tree, and open file descriptions (ofds) found
 * by a union-find over descriptor nodes (PID, START, FD, GEN). */
#ifndef KT_MODEL_H
#define KT_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "trace.h"

enum kt_end_how { KT_END_EXIT, KT_END_SIGNAL, KT_END_RUNNING, KT_END_UNKNOWN };

enum kt_evidence {
	KT_EVIDENCE_NONE,    /* a single node: nothing joins it */
	KT_EVIDENCE_TRACKED, /* joined by dup/inheritance (or non-kcmp same) links only */
	KT_EVIDENCE_KCMP,    /* at least one kcmp "same" edge between different nodes */
};

struct kt_mfd {
	const struct kt_fd *fd;
	int ofd; /* 1-based id into kt_model.ofds */
};

struct kt_mproc {
	const struct kt_process *proc;
	const struct kt_rec_image *image; /* last image line, or NULL */
	const struct kt_rec_image *first_image; /* the fork/start image: gives the parent */
	const struct kt_snapshot *snap; /* last complete snapshot, or NULL */
	const char *name;  /* basename of argv[0] or exe, "?" */
	int ppid;          /* 0 when unknown */
	int parent;        /* index in kt_model.procs, or -1 when outside the trace */
	enum kt_end_how end;
	int end_value;     /* exit status or signal number */
	/* When its traced parent reaped it (it had ended by then):
	 * CLOCK_MONOTONIC ns, 0 unknown. */
	unsigned long long reaped_time;
	/* Its last exec started an image the shim cannot follow (the process
	 * is then described as it was just before that exec), or NULL. */
	const char *untraced_path, *untraced_reason;
	struct kt_mfd *fds;
	size_t nfds;
	int *children;     /* indices, in process order */
	size_t nchildren, children_cap;
};

struct kt_holder {
	int proc; /* index in kt_model.procs */
	int fd;
	const struct kt_fd *rec;
};

struct kt_ofd {
	int id;
	const struct kt_fd *first; /* type, target, access come from the first holder */
	enum kt_evidence evidence;
	bool created_in_trace; /* some node of it was opened by a traced call */
	struct kt_holder *holders; /* in (process order, fd) order */
	size_t nholders, holders_cap;
};

enum kt_severity { KT_SEVERITY_INFO, KT_SEVERITY_WARNING, KT_SEVERITY_ERROR };

/* The call a finding comes from: the one it is about (an fcntl, a close)
 * or the one that made its descriptor. Findings from one origin are told
 * together (findings_group.h); --stack=N shows its callers. */
struct kt_finding_origin {
	const char *call;    /* "open", "fcntl(F_SETFL)"..., NULL when not seen */
	const char *program; /* the program that made it, NULL when unknown */
	const char *site;    /* raw "MODULE+0xOFF", NULL when unknown */
	const char *made;    /* what the descriptor was made as (shell.h), or NULL */
	const char *const *stack; /* the call's callers, innermost first */
	size_t nstack;
};

/* One step of a deadlock's cycle: a process, the call it is blocked in,
 * the descriptor it waits on (-1, 0 when none) and the processes it waits
 * for (pids). */
struct kt_cycle_step {
	int proc; /* index in kt_model.procs */
	const char *call;
	int fd, ofd;
	int *waits_for;
	size_t nwaits;
};

/* Something worth a look (findings.c). */
struct kt_finding {
	const char *kind;   /* stable: leaked-across-exec, pipe-end-held, ... */
	enum kt_severity severity;
	int proc;           /* index in kt_model.procs */
	int fd;             /* -1 when none */
	int ofd;            /* 0 when the descriptor has no ofd in the report */
	const char *target; /* what the descriptor refers to, or NULL */
	const char *program; /* the program that did it (the image running then) */
	char *message;      /* one line */
	char *explanation;  /* a paragraph: what goes wrong, how it got there */
	int *related;       /* other processes involved (indices), for pictures */
	size_t nrelated;
	struct kt_finding_origin origin;
	struct kt_cycle_step *cycle; /* deadlock: its cycle, in order */
	size_t ncycle;
	long long bytes; /* stdio-buffer-duplicated: the bytes written twice; 0 else */
};

/* Where a descriptor node (PID, START, FD, GEN) was seen: its first record
 * in any snapshot (an exec snapshot's record still says how it was made),
 * the process and snapshot, and its ofd id (0 when no descriptor of its
 * class is in a last snapshot). */
struct kt_node_ref {
	const struct kt_fd *rec;
	int proc;
	int snap;
	int ofd;
};

struct kt_node_info;  /* ofd.c */
struct kt_proc_index; /* model.c */

struct kt_model {
	struct kt_trace *trace;
	struct kt_mproc *procs; /* same order as trace->procs: (start, pid) */
	size_t nprocs;
	struct kt_ofd *ofds;    /* ofds[i].id == i + 1 */
	size_t nofds;
	size_t nshared;         /* ofds with two or more holders */
	bool kcmp_available;
	int kcmp_error;         /* when not: the errno of the first snapshot that said so */
	struct kt_finding *findings;
	size_t nfindings, findings_cap;
	size_t nsuppressed; /* findings dropped by suppression rules */
	int stack_frames;   /* text report: frames shown per call site (0 or 1: the site) */
	bool quiet;         /* text report: the findings only (--quiet) */
	bool color;         /* text report: in colour (--color) */
	struct kt_node_info *nodes; /* uthash of every node seen */
	struct kt_proc_index *proc_index, *proc_entries; /* uthash by (pid, start) */
};

/* How a process ended, in words: "exit 3", "killed by signal 9",
 * "running", "end unknown". Returns buf. */
const char *kt_model_end_text(const struct kt_mproc *mp, char *buf, size_t len);

struct kt_model *kt_model_build(struct kt_trace *trace);
void kt_model_free(struct kt_model *model);

/* Look a node up; false when no snapshot lists it. */
bool kt_model_node(const struct kt_model *model, int pid, unsigned long long start, int fd,
		   unsigned long long gen, struct kt_node_ref *out);

/* Index of the process (pid, start) in model->procs, or -1. */
int kt_model_find_proc(const struct kt_model *model, int pid, unsigned long long start);

/* Whether fd, in the last snapshot of process proc, was made by the
 * untraced image it runs: an observer named it, the table did not. */
bool kt_model_made_untraced(const struct kt_model *model, size_t proc, const struct kt_rec_fd *fd);

/* Parts of the build (origin.c, ofd.c): the origin of every descriptor of
 * the trace; the open file descriptions and the node index. */
void kt_model_origins(struct kt_trace *trace);
void kt_model_group(struct kt_model *model);
void kt_model_free_nodes(struct kt_model *model);

#endif
