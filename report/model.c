/* Building the model: processes with their program, parent, children and
 * end, the origin of every descriptor (origin.c) and the open file
 * descriptions they share (ofd.c). */
#include "model.h"
#include "shell.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <uthash.h>

#include "findings.h"
#include "procfs.h"
#include "table.h"

/* The model's index of processes by (pid, start). */
struct kt_proc_index {
	struct {
		int64_t pid;
		uint64_t start;
	} key;
	int index;
	UT_hash_handle hh;
};

int kt_model_find_proc(const struct kt_model *m, int pid, unsigned long long start)
{
	struct kt_proc_index probe, *e;
	memset(&probe, 0, sizeof probe);
	probe.key.pid = pid;
	probe.key.start = start;
	HASH_FIND(hh, m->proc_index, &probe.key, sizeof probe.key, e);
	return e != NULL ? e->index : -1;
}

static const char *program_name(const struct kt_rec_image *im)
{
	if (im == NULL)
		return "?";
	if (im->argc > 0 && im->argv[0][0] != '\0' && strcmp(im->argv[0], "-") != 0)
		return kt_basename(im->argv[0]);
	if (im->exe != NULL)
		return kt_basename(im->exe);
	return "?";
}

/* The end a raw wait status tells; false for a stop or a continue. */
static bool end_of_status(struct kt_mproc *mp, int st)
{
	if (WIFSIGNALED(st)) {
		mp->end = KT_END_SIGNAL;
		mp->end_value = WTERMSIG(st);
		return true;
	}
	if (WIFEXITED(st)) {
		mp->end = KT_END_EXIT;
		mp->end_value = WEXITSTATUS(st);
		return true;
	}
	return false;
}

/* End of a process: its last snapshot if that is an exit; else running if
 * alive now; else what wait() told its traced parent or the launcher (its
 * "ended" record); else unknown. */
static void decide_end(struct kt_mproc *mp, const struct kt_process *parent)
{
	const struct kt_process *p = mp->proc;
	if (mp->snap != NULL && mp->snap->head.why == KT_WHY_EXIT) {
		mp->end = KT_END_EXIT;
		mp->end_value = mp->snap->head.status;
		return;
	}
	if (kt_proc_alive(p->pid, p->start)) {
		mp->end = KT_END_RUNNING;
		return;
	}
	/* The traced parent that reaped it. A parent reaps a pid once per
	 * life of it, and the last time is this life's. */
	for (size_t i = parent ? parent->nreaps : 0; i-- > 0;)
		if (parent->reaps[i].pid == p->pid && end_of_status(mp, parent->reaps[i].status)) {
			mp->reaped_time = parent->reaps[i].time;
			return;
		}
	if (p->ended && end_of_status(mp, p->ended_status))
		return;
	mp->end = KT_END_UNKNOWN;
}

const char *kt_model_end_text(const struct kt_mproc *mp, char *buf, size_t len)
{
	switch (mp->end) {
	case KT_END_EXIT:
		snprintf(buf, len, "exit %d", mp->end_value);
		break;
	case KT_END_SIGNAL:
		snprintf(buf, len, "killed by signal %d", mp->end_value);
		break;
	case KT_END_RUNNING:
		snprintf(buf, len, "running");
		break;
	default:
		snprintf(buf, len, "end unknown");
		break;
	}
	return buf;
}

/* Untraced from its last exec on, unless a later snapshot of its own shows
 * that exec failed (live ones are taken from outside). */
static void decide_untraced(struct kt_mproc *mp, const struct kt_process *p)
{
	if (p->untraced_path == NULL)
		return;
	for (size_t k = p->untraced_snap; k < p->nsnaps; k++)
		if (kt_snap_own(&p->snaps[k]))
			return;
	mp->untraced_path = p->untraced_path;
	mp->untraced_reason = p->untraced_reason;
}

/* Process i: program, parent, last snapshot, end. */
static void describe_process(struct kt_model *m, size_t i)
{
	const struct kt_process *p = &m->trace->procs[i];
	struct kt_mproc *mp = &m->procs[i];
	mp->proc = p;
	mp->image = p->nimages ? &p->images[p->nimages - 1] : NULL;
	mp->first_image = p->nimages ? &p->images[0] : NULL;
	mp->snap = p->nsnaps ? &p->snaps[p->nsnaps - 1] : NULL;
	mp->name = program_name(mp->image);
	mp->parent = -1;
	if (mp->first_image != NULL) {
		mp->ppid = mp->first_image->ppid;
		mp->parent = kt_model_find_proc(m, mp->ppid, mp->first_image->parent_start);
		if (mp->parent == (int)i)
			mp->parent = -1;
	}
	decide_untraced(mp, p);
	decide_end(mp, mp->parent >= 0 ? &m->trace->procs[mp->parent] : NULL);
	for (size_t j = 0; j < p->nsnaps && m->kcmp_available; j++) {
		const struct kt_rec_snap *h = &p->snaps[j].head;
		if (h->kcmp != 0 && h->why != KT_WHY_TABLE) {
			m->kcmp_available = false;
			m->kcmp_error = h->kcmp;
		}
	}
}

/* Children lists; a parent always sorts before its child by start time,
 * but do not rely on it: guard against cycles from bad records. */
static void link_children(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		int parent = m->procs[i].parent;
		if (parent < 0)
			continue;
		bool cycle = false;
		for (int a = parent, steps = 0; a >= 0; a = m->procs[a].parent)
			if (a == (int)i || ++steps > (int)m->nprocs) {
				cycle = true;
				break;
			}
		if (cycle) {
			m->procs[i].parent = -1;
			continue;
		}
		struct kt_mproc *pp = &m->procs[parent];
		*KT_PUSH(pp->children, pp->nchildren, pp->children_cap) = (int)i;
	}
}

struct kt_model *kt_model_build(struct kt_trace *trace)
{
	struct kt_model *m = kt_xcalloc(1, sizeof *m);
	m->trace = trace;
	m->nprocs = trace->nprocs;
	m->procs = kt_xcalloc(m->nprocs, sizeof *m->procs);
	m->kcmp_available = true;
	m->proc_entries = kt_xcalloc(m->nprocs, sizeof *m->proc_entries);
	for (size_t i = 0; i < m->nprocs; i++) {
		struct kt_proc_index *e = &m->proc_entries[i];
		e->key.pid = trace->procs[i].pid;
		e->key.start = trace->procs[i].start;
		e->index = (int)i;
		HASH_ADD(hh, m->proc_index, key, sizeof e->key, e);
	}
	for (size_t i = 0; i < m->nprocs; i++)
		describe_process(m, i);
	link_children(m);
	kt_model_origins(trace);
	kt_model_group(m);
	kt_shell_mark(m);
	return m;
}

void kt_model_free(struct kt_model *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nprocs; i++) {
		free(m->procs[i].fds);
		free(m->procs[i].children);
	}
	for (size_t i = 0; i < m->nofds; i++)
		free(m->ofds[i].holders);
	for (size_t i = 0; i < m->nfindings; i++) {
		free(m->findings[i].message);
		free(m->findings[i].explanation);
		free(m->findings[i].related);
		kt_finding_free_cycle(&m->findings[i]);
	}
	free(m->findings);
	kt_model_free_nodes(m);
	HASH_CLEAR(hh, m->proc_index);
	free(m->proc_entries);
	free(m->ofds);
	free(m->procs);
	free(m);
}

bool kt_model_made_untraced(const struct kt_model *m, size_t proc, const struct kt_rec_fd *fd)
{
	const struct kt_snapshot *snap = m->procs[proc].snap;
	return snap != NULL && snap->observed && (fd->gen & KT_GEN_OBSERVED) != 0;
}
