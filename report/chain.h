/* Chains: how a descriptor got where it is, step by step back to the call
 * that made it (a dup, a fork, an exec...), and the same told in words for
 * the explanations of findings. */
#ifndef KT_CHAIN_H
#define KT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define KT_CHAIN_MAX 64

struct kt_step {
	int proc; /* -1: not in the trace */
	int pid;
	unsigned long long start;
	int fd;
	unsigned long long gen;
	const struct kt_rec_fd *rec;       /* NULL when no snapshot saw it */
	const struct kt_origin *origin;    /* its origin then, NULL with rec */
	int snap;
};

struct kt_chain {
	struct kt_step steps[KT_CHAIN_MAX]; /* steps[0] is the node asked for */
	size_t n;
	/* steps[0 .. own) are the descriptor's own history, up to the call
	 * that made it in the process that holds it: a receive (SCM_RIGHTS,
	 * pidfd_getfd) ends it, and the steps beyond are the sender's, told in
	 * the explanation but not the receiver's doing. */
	size_t own;
	bool created; /* the last step is a call the shim saw make it */
};

/* Follow node (pid, start, fd, gen) back through the descriptors it is a
 * copy of. */
void kt_chain_walk(const struct kt_model *m, int pid, unsigned long long start, int fd,
		   unsigned long long gen, struct kt_chain *c);

/* Whether the node's description was made inside the trace: by its own
 * history (a receive counts as made), or by any descriptor joined to it. */
bool kt_chain_made_in_trace(const struct kt_model *m, const struct kt_chain *c, int ofd);

/* The step of the descriptor's own history that copied it onto a number
 * of its own inside the trace (dup, dup2, dup3, fcntl F_DUPFD, before an
 * exec too), the one nearest the description's start; -1 when none: a
 * copy made in the trace of a descriptor from outside is a descriptor made
 * in the trace. */
int kt_chain_copied_at(const struct kt_chain *c);

/* Whether the descriptor's own history (not a sender's) passed through
 * another process than steps[0]'s. */
bool kt_chain_from_other_process(const struct kt_chain *c);

/* "opened by 1234 (server) with socket at main+0x3a (server.c:17) without
 * SOCK_CLOEXEC, inherited by 1235 (server) across fork, kept across exec of
 * /usr/bin/helper": from the creating call to steps[0]. */
void kt_chain_describe(struct kt_str *t, const struct kt_model *m, const struct kt_chain *c,
		       bool say_cloexec);

/* ", kept across exec of PATH": the image exec snapshot snap of proc started. */
void kt_chain_add_exec(struct kt_str *t, const struct kt_model *m, int proc, int snap);

/* The close-on-exec flag of the call that made a descriptor. */
const char *kt_cloexec_flag(int call);

/* " at func+0xNN (file.c:17)" for a call site; nothing when it is NULL. */
void kt_str_add_at(struct kt_str *t, const char *site);

/* "func+0xNN (file.c:17)" into buf, or NULL when site is NULL. */
const char *kt_where_of(const char *site, char *buf, size_t len);

#endif
