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

/* What the launcher learnt from wait(): the exit of a process it reaped.
 * Used for processes that left no exit snapshot (killed, or exec'd into
 * something untraced). */
struct kt_reaped {
	int pid;
	int wait_status;
};

struct kt_mfd {
	const struct kt_fd *fd;
	int ofd; /* 1-based id into kt_model.ofds */
};

struct kt_mproc {
	const struct kt_process *proc;
	const struct kt_image *image; /* last image line, or NULL */
	const struct kt_image *first_image; /* the fork/start image: gives the parent */
	const struct kt_snapshot *snap; /* last complete snapshot, or NULL */
	const char *name;  /* basename of argv[0] or exe, "?" */
	int ppid;          /* 0 when unknown */
	int parent;        /* index in kt_model.procs, or -1 when outside the trace */
	enum kt_end_how end;
	int end_value;     /* exit status or signal number */
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

struct kt_finding {
	const char *kind; /* "kept-across-exec" */
	int proc;
	int fd;
	int ofd;
	char *message;
};

struct kt_model {
	const struct kt_trace *trace;
	struct kt_mproc *procs; /* same order as trace->procs: (start, pid) */
	size_t nprocs;
	struct kt_ofd *ofds;    /* ofds[i].id == i + 1 */
	size_t nofds;
	size_t nshared;         /* ofds with two or more holders */
	bool kcmp_available;
	const char *kcmp_detail; /* the first "unavailable:..." seen, or NULL */
	struct kt_finding *findings;
	size_t nfindings, findings_cap;
};

struct kt_model *kt_model_build(const struct kt_trace *trace, const struct kt_reaped *reaped,
				size_t nreaped);
void kt_model_free(struct kt_model *model);

#endif
