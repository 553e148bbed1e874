/* Open file descriptions: every descriptor node (PID, START, FD, GEN) of
 * every snapshot, joined by a union-find over the relations the trace
 * records (a copy: dup, inheritance, exec, a received descriptor; kcmp's
 * "same"), then numbered in order of first appearance in the processes'
 * last snapshots. Every snapshot counts, not only the last: an exec
 * snapshot or an exited parent can be the link between two descriptors
 * that still exist. */
#include "model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* All 64-bit so the key has no padding bytes to compare. */
struct node_key {
	int64_t pid;
	uint64_t start;
	int64_t fd;
	uint64_t gen;
};

/* A node: where a snapshot saw it first (ref.rec NULL when it is only
 * named as a source or by kcmp), and its place in the union-find. */
struct kt_node_info {
	struct node_key key;
	struct kt_node_ref ref;
	size_t index;
	UT_hash_handle hh;
};

struct union_find {
	struct kt_node_info **nodes; /* by index */
	size_t *parent, *size;
	bool *kcmp;    /* a kcmp "same" link starts at this node */
	bool *created; /* this node was made by a call the shim saw */
	size_t count, cap;
};

static struct kt_node_info *node_find(struct kt_node_info *table, int pid, unsigned long long start,
				      int fd, unsigned long long gen)
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

static void uf_grow(struct union_find *uf)
{
	uf->cap = uf->cap ? uf->cap * 2 : 64;
	uf->nodes = kt_xrealloc(uf->nodes, uf->cap * sizeof *uf->nodes);
	uf->parent = kt_xrealloc(uf->parent, uf->cap * sizeof *uf->parent);
	uf->size = kt_xrealloc(uf->size, uf->cap * sizeof *uf->size);
	uf->kcmp = kt_xrealloc(uf->kcmp, uf->cap * sizeof *uf->kcmp);
	uf->created = kt_xrealloc(uf->created, uf->cap * sizeof *uf->created);
}

/* The node's index, made on first sight. */
static size_t node(struct kt_model *m, struct union_find *uf, int pid, unsigned long long start,
		   int fd, unsigned long long gen)
{
	struct kt_node_info *n = node_find(m->nodes, pid, start, fd, gen);
	if (n != NULL)
		return n->index;
	if (uf->count == uf->cap)
		uf_grow(uf);
	n = kt_xcalloc(1, sizeof *n);
	n->key = (struct node_key){pid, (uint64_t)start, fd, (uint64_t)gen};
	n->index = uf->count++;
	uf->nodes[n->index] = n;
	uf->parent[n->index] = n->index;
	uf->size[n->index] = 1;
	uf->kcmp[n->index] = uf->created[n->index] = false;
	HASH_ADD(hh, m->nodes, key, sizeof n->key, n);
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

/* The relations of snapshot s of process i: each descriptor, open or
 * closed, with its source, and kcmp's "same" links. */
static void unite_snapshot(struct kt_model *m, struct union_find *uf, size_t i, size_t s)
{
	const struct kt_process *p = &m->trace->procs[i];
	const struct kt_snapshot *snap = &p->snaps[s];
	for (size_t k = 0; k < snap->nfds + snap->nclosed; k++) {
		const struct kt_fd *fd = k < snap->nfds ? &snap->fds[k] : &snap->closed[k - snap->nfds];
		const struct kt_origin *o = &fd->origin;
		size_t self = node(m, uf, p->pid, p->start, fd->rec.fd, fd->rec.gen);
		struct kt_node_info *n = uf->nodes[self];
		if (n->ref.rec == NULL)
			n->ref = (struct kt_node_ref){fd, (int)i, (int)s, 0};
		uf->created[self] = uf->created[self] || o->created;
		if (o->linked)
			uf_union(uf, self, node(m, uf, o->src_pid, o->src_start, o->src_fd, o->src_gen));
	}
	for (size_t k = 0; k < snap->nsames; k++) {
		const struct kt_rec_same *same = &snap->sames[k];
		size_t a = node(m, uf, p->pid, p->start, same->fd, same->gen);
		size_t b = node(m, uf, same->pid, same->start, same->fd2, same->gen2);
		uf_union(uf, a, b);
		/* Only a snapshot that had kcmp can give kcmp evidence. */
		if (a != b && snap->head.kcmp == 0)
			uf->kcmp[a] = true;
	}
}

/* The record of fd FD generation GEN in snapshot snap: its fd or closed
 * record, or NULL. */
static const struct kt_rec_fd *record_in(const struct kt_snapshot *snap, int fd, unsigned long long gen)
{
	for (size_t k = 0; k < snap->nfds + snap->nclosed; k++) {
		const struct kt_rec_fd *r = k < snap->nfds ? &snap->fds[k].rec : &snap->closed[k - snap->nfds].rec;
		if (r->fd == fd && r->gen == gen)
			return r;
	}
	return NULL;
}

/* A descriptor got of process p, received when the sender's copy was gone
 * (record.h "ino"): joined to the description of that file that the
 * socket's peer process sent, when it sent exactly one; several cannot be
 * told apart and are not guessed at. Without a known peer (a socketpair's
 * peer is the process that made it) it stays a description of its own. */
static void unite_received(struct kt_model *m, struct union_find *uf, const struct kt_process *p,
			   const struct kt_snapshot *snap, const struct kt_rec_ino *got)
{
	const struct kt_rec_fd *r = record_in(snap, got->fd, got->gen);
	int peer = r != NULL && r->src_pid > 0 ? kt_model_find_proc(m, r->src_pid, r->src_start) : -1;
	/* A sender gone at the receipt is known by its pid only: the one
	 * process of the trace with it, if pids were not reused. */
	for (size_t i = 0; r != NULL && r->src_pid > 0 && r->src_start == 0 && i < m->nprocs; i++)
		if (m->trace->procs[i].pid == r->src_pid)
			peer = peer == -1 ? (int)i : -2;
	if (peer < 0)
		return;
	const struct kt_process *sender = &m->trace->procs[peer];
	size_t match = SIZE_MAX;
	bool several = false;
	for (size_t t = 0; t < sender->nsnaps; t++)
		for (size_t q = 0; q < sender->snaps[t].ninos; q++) {
			const struct kt_rec_ino *sent = &sender->snaps[t].inos[q];
			if (!sent->sent || sent->dev != got->dev || sent->ino != got->ino)
				continue;
			size_t root = uf_find(uf, node(m, uf, sender->pid, sender->start, sent->fd, sent->gen));
			several = several || (match != SIZE_MAX && match != root);
			match = root;
		}
	if (match != SIZE_MAX && !several)
		uf_union(uf, node(m, uf, p->pid, p->start, got->fd, got->gen), match);
}

/* After every other relation, so that each sent descriptor's class is
 * complete. */
static void unite_all_received(struct kt_model *m, struct union_find *uf)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = &m->trace->procs[i];
		for (size_t s = 0; s < p->nsnaps; s++)
			for (size_t k = 0; k < p->snaps[s].ninos; k++)
				if (!p->snaps[s].inos[k].sent)
					unite_received(m, uf, p, &p->snaps[s], &p->snaps[s].inos[k]);
	}
}

/* The class of root r as an ofd, numbered on first sight. */
static struct kt_ofd *class_ofd(struct kt_model *m, struct union_find *uf, int *ofd_of_root,
				size_t *ofds_cap, size_t r, const struct kt_fd *fd)
{
	if (ofd_of_root[r] == 0) {
		struct kt_ofd *o = KT_PUSH(m->ofds, m->nofds, *ofds_cap);
		memset(o, 0, sizeof *o);
		o->id = (int)m->nofds;
		o->first = fd;
		o->evidence = uf->kcmp[r]      ? KT_EVIDENCE_KCMP
			      : uf->size[r] > 1 ? KT_EVIDENCE_TRACKED
						: KT_EVIDENCE_NONE;
		o->created_in_trace = uf->created[r];
		ofd_of_root[r] = o->id;
	}
	return &m->ofds[ofd_of_root[r] - 1];
}

/* Number the classes held in last snapshots, in process order. */
static void number_ofds(struct kt_model *m, struct union_find *uf)
{
	int *ofd_of_root = kt_xcalloc(uf->count, sizeof *ofd_of_root);
	size_t ofds_cap = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct kt_mproc *mp = &m->procs[i];
		if (mp->snap == NULL)
			continue;
		mp->nfds = mp->snap->nfds;
		mp->fds = kt_xcalloc(mp->nfds, sizeof *mp->fds);
		for (size_t k = 0; k < mp->nfds; k++) {
			const struct kt_fd *fd = &mp->snap->fds[k];
			size_t r = uf_find(uf, node(m, uf, mp->proc->pid, mp->proc->start, fd->rec.fd,
						    fd->rec.gen));
			struct kt_ofd *o = class_ofd(m, uf, ofd_of_root, &ofds_cap, r, fd);
			/* The description's type and target from a holder that
			 * could read them (not a table snapshot's). */
			if (o->first->rec.access == KT_ACCESS_UNKNOWN &&
			    fd->rec.access != KT_ACCESS_UNKNOWN)
				o->first = fd;
			*KT_PUSH(o->holders, o->nholders, o->holders_cap) =
				(struct kt_holder){(int)i, fd->rec.fd, fd};
			if (o->nholders == 2)
				m->nshared++;
			mp->fds[k] = (struct kt_mfd){fd, o->id};
		}
	}
	for (size_t x = 0; x < uf->count; x++)
		uf->nodes[x]->ref.ofd = ofd_of_root[uf_find(uf, x)];
	free(ofd_of_root);
}

void kt_model_group(struct kt_model *m)
{
	struct union_find uf = {0};
	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t s = 0; s < m->trace->procs[i].nsnaps; s++)
			unite_snapshot(m, &uf, i, s);
	unite_all_received(m, &uf);
	/* Mark the roots: evidence and creation of any member is the class's. */
	for (size_t x = 0; x < uf.count; x++) {
		size_t r = uf_find(&uf, x);
		uf.kcmp[r] = uf.kcmp[r] || uf.kcmp[x];
		uf.created[r] = uf.created[r] || uf.created[x];
	}
	number_ofds(m, &uf);
	free(uf.nodes);
	free(uf.parent);
	free(uf.size);
	free(uf.kcmp);
	free(uf.created);
}

bool kt_model_node(const struct kt_model *m, int pid, unsigned long long start, int fd,
		   unsigned long long gen, struct kt_node_ref *out)
{
	struct kt_node_info *n = node_find(m->nodes, pid, start, fd, gen);
	if (n == NULL || n->ref.rec == NULL)
		return false;
	*out = n->ref;
	return true;
}

void kt_model_free_nodes(struct kt_model *m)
{
	struct kt_node_info *n, *tmp;
	HASH_ITER(hh, m->nodes, n, tmp)
	{
		HASH_DEL(m->nodes, n);
		free(n);
	}
}
