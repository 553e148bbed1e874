/* Building the model: processes and their ends, the process tree, and the
 * union-find that turns same/dup/inheritance relations between descriptor
 * nodes into numbered open file descriptions. */
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <uthash.h>

#include "procfs.h"
#include "table.h"

/* ---- union-find over nodes (PID, START, FD, GEN) ---- */

/* All 64-bit so the key has no padding bytes to compare. */
struct node_key {
	int64_t pid;
	uint64_t start;
	int64_t fd;
	uint64_t gen;
};

struct node {
	struct node_key key;
	size_t index;
	UT_hash_handle hh;
};

struct union_find {
	struct node *by_key;   /* uthash */
	size_t *parent;
	size_t *size;
	bool *kcmp;            /* per root after marking: confirmed by kcmp */
	bool *created;         /* per root after marking: opened inside the trace */
	int *ofd;              /* per root: assigned ofd id, 0 = none yet */
	size_t count, cap;
};

static size_t uf_node(struct union_find *uf, int pid, unsigned long long start, int fd,
		      unsigned long long gen)
{
	struct node_key key;
	memset(&key, 0, sizeof key);
	key.pid = pid;
	key.start = start;
	key.fd = fd;
	key.gen = gen;
	struct node *n;
	HASH_FIND(hh, uf->by_key, &key, sizeof key, n);
	if (n != NULL)
		return n->index;
	if (uf->count == uf->cap) {
		uf->cap = uf->cap ? uf->cap * 2 : 64;
		uf->parent = kt_xrealloc(uf->parent, uf->cap * sizeof *uf->parent);
		uf->size = kt_xrealloc(uf->size, uf->cap * sizeof *uf->size);
	}
	n = kt_xcalloc(1, sizeof *n);
	n->key = key;
	n->index = uf->count++;
	uf->parent[n->index] = n->index;
	uf->size[n->index] = 1;
	HASH_ADD(hh, uf->by_key, key, sizeof key, n);
	return n->index;
}

static size_t uf_find(struct union_find *uf, size_t x)
{
	while (uf->parent[x] != x) {
		uf->parent[x] = uf->parent[uf->parent[x]]; /* path halving */
		x = uf->parent[x];
	}
	return x;
}

static void uf_union(struct union_find *uf, size_t a, size_t b)
{
	a = uf_find(uf, a);
	b = uf_find(uf, b);
	if (a == b)
		return;
	if (uf->size[a] < uf->size[b]) {
		size_t t = a;
		a = b;
		b = t;
	}
	uf->parent[b] = a;
	uf->size[a] += uf->size[b];
}

static void uf_free(struct union_find *uf)
{
	struct node *n, *tmp;
	HASH_ITER(hh, uf->by_key, n, tmp)
	{
		HASH_DEL(uf->by_key, n);
		free(n);
	}
	free(uf->parent);
	free(uf->size);
	free(uf->kcmp);
	free(uf->created);
	free(uf->ofd);
}

/* A kcmp "same" edge between two different nodes, remembered until all
 * unions are done so the evidence lands on the final root. */
struct kcmp_edge {
	size_t a, b;
};

/* The model's index of nodes, for findings. */
struct kt_node_info {
	struct node_key key;
	struct kt_node_ref ref;
	size_t uf_index;
	UT_hash_handle hh;
};

static struct kt_node_info *node_info_find(struct kt_node_info *table, int pid,
					   unsigned long long start, int fd, unsigned long long gen)
{
	struct node_key key;
	memset(&key, 0, sizeof key);
	key.pid = pid;
	key.start = start;
	key.fd = fd;
	key.gen = gen;
	struct kt_node_info *n;
	HASH_FIND(hh, table, &key, sizeof key, n);
	return n;
}

bool kt_model_node(const struct kt_model *m, int pid, unsigned long long start, int fd,
		   unsigned long long gen, struct kt_node_ref *out)
{
	struct kt_node_info *n = node_info_find(m->nodes, pid, start, fd, gen);
	if (n == NULL)
		return false;
	*out = n->ref;
	return true;
}

/* ---- processes ---- */

struct proc_key {
	int64_t pid;
	uint64_t start;
};

struct proc_entry {
	struct proc_key key;
	int index;
	UT_hash_handle hh;
};

static int find_proc(struct proc_entry *table, int pid, unsigned long long start)
{
	struct proc_key key;
	memset(&key, 0, sizeof key);
	key.pid = pid;
	key.start = start;
	struct proc_entry *e;
	HASH_FIND(hh, table, &key, sizeof key, e);
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

/* End of a process: its last snapshot if that is an exit; else what wait()
 * told its traced parent or the launcher; else running if alive now; else
 * unknown. */
static void decide_end(struct kt_mproc *mp, const struct kt_rec_reaped *reaped, size_t nreaped,
		       bool newest_with_pid, const struct kt_process *parent)
{
	if (mp->snap != NULL && mp->snap->head.why == KT_WHY_EXIT) {
		mp->end = KT_END_EXIT;
		mp->end_value = mp->snap->head.status;
		return;
	}
	if (kt_proc_alive(mp->proc->pid, mp->proc->start)) {
		mp->end = KT_END_RUNNING;
		return;
	}
	/* The traced parent that reaped it after a signal. A parent reaps a
	 * pid once per life of it, and the last time is this life's. */
	for (size_t i = parent ? parent->nreaps : 0; i-- > 0;) {
		int st = parent->reaps[i].status;
		if (parent->reaps[i].pid != mp->proc->pid)
			continue;
		if (WIFSIGNALED(st)) {
			mp->end = KT_END_SIGNAL;
			mp->end_value = WTERMSIG(st);
			return;
		}
		if (WIFEXITED(st)) {
			mp->end = KT_END_EXIT;
			mp->end_value = WEXITSTATUS(st);
			return;
		}
	}
	/* A reaped pid can only be matched by number: trust it for the newest
	 * process with that pid (an older one was an earlier life of it). */
	for (size_t i = 0; newest_with_pid && i < nreaped; i++) {
		if (reaped[i].pid != mp->proc->pid)
			continue;
		if (WIFEXITED(reaped[i].status)) {
			mp->end = KT_END_EXIT;
			mp->end_value = WEXITSTATUS(reaped[i].status);
			return;
		}
		if (WIFSIGNALED(reaped[i].status)) {
			mp->end = KT_END_SIGNAL;
			mp->end_value = WTERMSIG(reaped[i].status);
			return;
		}
	}
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

struct kt_model *kt_model_build(const struct kt_trace *trace, const struct kt_rec_reaped *reaped,
				size_t nreaped)
{
	struct kt_model *m = kt_xcalloc(1, sizeof *m);
	m->trace = trace;
	m->nprocs = trace->nprocs;
	m->procs = kt_xcalloc(m->nprocs, sizeof *m->procs);
	m->kcmp_available = true;

	struct proc_entry *table = NULL;
	struct proc_entry *entries = kt_xcalloc(m->nprocs, sizeof *entries);
	for (size_t i = 0; i < m->nprocs; i++) {
		entries[i].key.pid = trace->procs[i].pid;
		entries[i].key.start = trace->procs[i].start;
		entries[i].index = (int)i;
		HASH_ADD(hh, table, key, sizeof entries[i].key, &entries[i]);
	}

	/* Processes: program, parent, last snapshot, end. */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = &trace->procs[i];
		struct kt_mproc *mp = &m->procs[i];
		mp->proc = p;
		mp->image = p->nimages ? &p->images[p->nimages - 1] : NULL;
		mp->first_image = p->nimages ? &p->images[0] : NULL;
		mp->snap = p->nsnaps ? &p->snaps[p->nsnaps - 1] : NULL;
		mp->name = program_name(mp->image);
		mp->parent = -1;
		if (mp->first_image != NULL) {
			mp->ppid = mp->first_image->ppid;
			mp->parent = find_proc(table, mp->ppid, mp->first_image->parent_start);
			if (mp->parent == (int)i)
				mp->parent = -1;
		}
		bool newest_with_pid = true;
		for (size_t j = i + 1; j < m->nprocs; j++)
			if (trace->procs[j].pid == p->pid)
				newest_with_pid = false;
		/* Untraced from its last exec on, unless a later snapshot of its
		 * own shows that exec failed (live ones are taken from outside). */
		if (p->untraced_path != NULL) {
			bool later = false;
			for (size_t k = p->untraced_snap; k < p->nsnaps; k++)
				later = later || kt_snap_own(&p->snaps[k]);
			if (!later) {
				mp->untraced_path = p->untraced_path;
				mp->untraced_reason = p->untraced_reason;
			}
		}
		decide_end(mp, reaped, nreaped, newest_with_pid,
			   mp->parent >= 0 ? &trace->procs[mp->parent] : NULL);
		for (size_t j = 0; j < p->nsnaps; j++) {
			const struct kt_rec_snap *h = &p->snaps[j].head;
			if (h->kcmp != 0 && h->why != KT_WHY_TABLE && m->kcmp_available) {
				m->kcmp_available = false;
				m->kcmp_error = h->kcmp;
			}
		}
	}
	/* Children lists; a parent always sorts before its child by start time,
	 * but do not rely on it: guard against cycles from bad records. */
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

	/* Union-find over the nodes of every snapshot, not only the last: an
	 * exec snapshot or an exited parent can be the link between two
	 * descriptors that still exist. */
	struct union_find uf = {0};
	struct kcmp_edge *kcmp_edges = NULL;
	size_t nkcmp = 0, kcmp_cap = 0;
	size_t *created_nodes = NULL; /* nodes made by an open-like call we saw */
	size_t ncreated = 0, created_cap = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = &trace->procs[i];
		for (size_t s = 0; s < p->nsnaps; s++) {
			const struct kt_snapshot *snap = &p->snaps[s];
			for (size_t k = 0; k < snap->nfds; k++) {
				const struct kt_fd *mfd = &snap->fds[k];
				const struct kt_rec_fd *fd = &mfd->rec;
				size_t self = uf_node(&uf, p->pid, p->start, fd->fd, fd->gen);
				if (node_info_find(m->nodes, p->pid, p->start, fd->fd, fd->gen) ==
				    NULL) {
					struct kt_node_info *ni = kt_xcalloc(1, sizeof *ni);
					ni->key.pid = p->pid;
					ni->key.start = p->start;
					ni->key.fd = fd->fd;
					ni->key.gen = fd->gen;
					ni->ref.rec = mfd;
					ni->ref.proc = (int)i;
					ni->ref.snap = (int)s;
					ni->uf_index = self;
					HASH_ADD(hh, m->nodes, key, sizeof ni->key, ni);
				}
				bool opened_here = fd->how == KT_HOW_OPEN || fd->how == KT_HOW_RECEIVED ||
						   (fd->how == KT_HOW_EXEC && fd->src_pid == 0 &&
						    fd->call != KT_CALL_NONE);
				if (opened_here)
					*KT_PUSH(created_nodes, ncreated, created_cap) = self;
				if (kt_rec_fd_source(fd))
					uf_union(&uf, self,
						 uf_node(&uf, fd->src_pid, fd->src_start, fd->src_fd,
							 fd->src_gen));
			}
			for (size_t k = 0; k < snap->nsames; k++) {
				const struct kt_rec_same *same = &snap->sames[k];
				size_t a = uf_node(&uf, p->pid, p->start, same->fd, same->gen);
				size_t b = uf_node(&uf, same->pid, same->start, same->fd2, same->gen2);
				uf_union(&uf, a, b);
				/* Only a snapshot that had kcmp can give kcmp evidence. */
				if (a != b && snap->head.kcmp == 0) {
					struct kcmp_edge *e = KT_PUSH(kcmp_edges, nkcmp, kcmp_cap);
					e->a = a;
					e->b = b;
				}
			}
		}
	}
	uf.kcmp = kt_xcalloc(uf.count, sizeof *uf.kcmp);
	uf.ofd = kt_xcalloc(uf.count, sizeof *uf.ofd);
	for (size_t k = 0; k < nkcmp; k++)
		uf.kcmp[uf_find(&uf, kcmp_edges[k].a)] = true;
	free(kcmp_edges);
	uf.created = kt_xcalloc(uf.count, sizeof *uf.created);
	for (size_t k = 0; k < ncreated; k++)
		uf.created[uf_find(&uf, created_nodes[k])] = true;
	free(created_nodes);

	/* Number the classes in order of first appearance. */
	size_t ofds_cap = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct kt_mproc *mp = &m->procs[i];
		if (mp->snap == NULL)
			continue;
		mp->nfds = mp->snap->nfds;
		mp->fds = kt_xcalloc(mp->nfds, sizeof *mp->fds);
		for (size_t k = 0; k < mp->nfds; k++) {
			const struct kt_fd *fd = &mp->snap->fds[k];
			size_t root = uf_find(&uf, uf_node(&uf, mp->proc->pid, mp->proc->start,
							   fd->rec.fd, fd->rec.gen));
			if (uf.ofd[root] == 0) {
				struct kt_ofd *o = KT_PUSH(m->ofds, m->nofds, ofds_cap);
				memset(o, 0, sizeof *o);
				o->id = (int)m->nofds;
				o->first = fd;
				o->evidence = uf.kcmp[root]     ? KT_EVIDENCE_KCMP
					      : uf.size[root] > 1 ? KT_EVIDENCE_TRACKED
								  : KT_EVIDENCE_NONE;
				o->created_in_trace = uf.created[root];
				uf.ofd[root] = o->id;
			}
			struct kt_ofd *o = &m->ofds[uf.ofd[root] - 1];
			/* The description's type and target from a holder that
			 * could read them (not a table snapshot's). */
			if (o->first->rec.access == KT_ACCESS_UNKNOWN &&
			    fd->rec.access != KT_ACCESS_UNKNOWN)
				o->first = fd;
			struct kt_holder *h = KT_PUSH(o->holders, o->nholders, o->holders_cap);
			h->proc = (int)i;
			h->fd = fd->rec.fd;
			h->rec = fd;
			if (o->nholders == 2)
				m->nshared++;
			mp->fds[k].fd = fd;
			mp->fds[k].ofd = uf.ofd[root];
		}
	}
	for (struct kt_node_info *ni = m->nodes; ni != NULL; ni = ni->hh.next)
		ni->ref.ofd = uf.ofd[uf_find(&uf, ni->uf_index)];
	uf_free(&uf);
	HASH_CLEAR(hh, table);
	free(entries);
	return m;
}

int kt_model_find_proc(const struct kt_model *m, int pid, unsigned long long start)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].proc->pid == pid && m->procs[i].proc->start == start)
			return (int)i;
	return -1;
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
	}
	free(m->findings);
	struct kt_node_info *ni, *tmp;
	HASH_ITER(hh, m->nodes, ni, tmp)
	{
		HASH_DEL(m->nodes, ni);
		free(ni);
	}
	free(m->ofds);
	free(m->procs);
	free(m);
}

bool kt_model_made_untraced(const struct kt_model *m, size_t proc, const struct kt_rec_fd *fd)
{
	const struct kt_snapshot *snap = m->procs[proc].snap;
	return snap != NULL && snap->observed && (fd->gen & KT_GEN_OBSERVED) != 0;
}
