/* What the finders of each kind share (findings.c, findings_exec.c,
 * findings_events.c): adding a finding, and naming what it is about. */
#ifndef KT_FINDINGS_IMPL_H
#define KT_FINDINGS_IMPL_H

#include "chain.h"
#include "findings.h"

/* A new finding about fd (-1: none) of process proc, in the ofd (0: none). */
struct kt_finding *kt_finding_add(struct kt_model *m, const char *kind, enum kt_severity sev,
				  int proc, int fd, int ofd, const char *target);
/* Drop the finding last added (it turned out to be about nothing). */
void kt_finding_drop_last(struct kt_model *m);
bool kt_finding_exists(const struct kt_model *m, const char *kind, int proc, int fd);
/* Another process involved, for pictures (related pids). */
void kt_finding_relate(struct kt_finding *f, int proc);
/* The message and the explanation, from the texts built for them. */
void kt_finding_say(struct kt_finding *f, struct kt_str *message, struct kt_str *explanation);

/* The finding's origin (model.h): the call that made the descriptor the
 * chain is about, as the holder's own history tells (for a received one,
 * the receive). */
void kt_finding_made_by(struct kt_finding *f, const struct kt_model *m, const struct kt_chain *c);
/* The finding's origin: the copy (a dup, step of the chain) that put a
 * descriptor from outside the trace onto the number the finding is about. */
void kt_finding_copied_by(struct kt_finding *f, const struct kt_model *m, const struct kt_chain *c,
			  int step);
/* The finding's origin: call (a name for people) made by f->program at site. */
void kt_finding_called(struct kt_finding *f, const char *call, const char *site);

/* Basename of the program process proc ran when snapshot snap was taken
 * (an event or a descriptor is made by the image running then); its last
 * program when snap is -1. */
const char *kt_program_at(const struct kt_model *m, int proc, int snap);

/* The target of a descriptor, "?" when unknown. */
const char *kt_target_of(const struct kt_rec_fd *fd);

/* The kinds (findings.h), each adding its findings to the model. */
void kt_find_exec_leaks(struct kt_model *m);
void kt_find_readers_holding_writers(struct kt_model *m);
void kt_find_socket_peers_held(struct kt_model *m);
void kt_find_events(struct kt_model *m, bool minus_one);
void kt_find_stdio_duplicated(struct kt_model *m); /* findings_stdio.c */
void kt_find_deadlocks(struct kt_model *m); /* deadlock.c */

#endif
