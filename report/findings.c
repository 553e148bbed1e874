/* Findings (see findings.h): each kind's rule, and the explanation of how a
 * descriptor got where it is, told from the call that made it. */
#include "findings.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "symbolize.h"
#include "util.h"

const char *kt_severity_name(enum kt_severity s)
{
	switch (s) {
	case KT_SEVERITY_ERROR:
		return "error";
	case KT_SEVERITY_WARNING:
		return "warning";
	default:
		return "info";
	}
}

size_t kt_findings_gating(const struct kt_model *m, bool count_info)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nfindings; i++)
		n += m->findings[i].severity != KT_SEVERITY_INFO || count_info;
	return n;
}

/* ---- text helpers ---- */

struct text {
	char *s;
	size_t len, cap;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->s = kt_xrealloc(t->s, t->cap);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static char *text_take(struct text *t)
{
	return t->s != NULL ? t->s : kt_xstrdup("");
}

/* "func+0xNN (file.c:17)" or NULL. */
static const char *where_of(const char *site, char *buf, size_t len)
{
	if (site == NULL)
		return NULL;
	struct kt_symbol sym;
	kt_symbolize_full(site, &sym);
	snprintf(buf, len, "%s", sym.where);
	return buf;
}

static void add_at(struct text *t, const char *site)
{
	char buf[1100];
	if (where_of(site, buf, sizeof buf) != NULL)
		text_printf(t, " at %s", buf);
}

static const char *proc_name(const struct kt_model *m, int proc)
{
	return proc >= 0 ? m->procs[proc].name : "?";
}

static const char *target_of(const struct kt_fd *fd)
{
	return fd->target != NULL ? fd->target : "?";
}

static bool is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

/* ---- chains: how a descriptor node got where it is ---- */

#define MAX_CHAIN 64

struct step {
	int proc; /* -1: not in the trace */
	int pid;
	unsigned long long start;
	int fd;
	unsigned long long gen;
	const struct kt_fd *rec; /* NULL when not seen */
	int snap;
};

struct chain {
	struct step steps[MAX_CHAIN]; /* steps[0] is the node asked for */
	size_t n;
	bool created; /* the last step is a call the shim saw make it */
};

static void walk(const struct kt_model *m, int pid, unsigned long long start, int fd,
		 unsigned long long gen, struct chain *c)
{
	c->n = 0;
	c->created = false;
	while (c->n < MAX_CHAIN) {
		struct step *st = &c->steps[c->n++];
		struct kt_node_ref ref;
		st->pid = pid;
		st->start = start;
		st->fd = fd;
		st->gen = gen;
		st->rec = NULL;
		st->snap = -1;
		st->proc = kt_model_find_proc(m, pid, start);
		if (!kt_model_node(m, pid, start, fd, gen, &ref)) {
			/* A traced process passed it on and closed it before any
			 * snapshot: it made it, unless it had it from outside the
			 * trace. Only a process whose parent is not traced can
			 * have; there, 0-2 are taken to be from outside. */
			c->created = c->n > 1 && st->proc >= 0 &&
				     (m->procs[st->proc].parent >= 0 || fd > 2);
			return;
		}
		st->rec = ref.rec;
		st->snap = ref.snap;
		const struct kt_fd *r = ref.rec;
		bool linked = is(r->how, "dup") || is(r->how, "inherited") ||
			      (is(r->how, "exec") && r->src_pid != 0);
		if (linked && r->src_fd >= 0) {
			pid = r->src_pid;
			start = r->src_start;
			fd = r->src_fd;
			gen = r->src_gen;
			continue;
		}
		c->created = is(r->how, "open") || is(r->how, "received") ||
			     (is(r->how, "exec") && r->call != NULL);
		return;
	}
}

/* Whether the node's description was made inside the trace: by its chain,
 * or by any descriptor joined to it (kcmp). */
static bool made_in_trace(const struct kt_model *m, const struct chain *c, int ofd)
{
	return c->created || (ofd > 0 && m->ofds[ofd - 1].created_in_trace);
}

static const char *cloexec_flag(const char *call)
{
	if (call != NULL && (strncmp(call, "socket", 6) == 0 || strncmp(call, "accept", 6) == 0))
		return "SOCK_CLOEXEC";
	return "O_CLOEXEC";
}

/* Path of the image that exec snapshot number snap of proc started. */
static const char *exec_target(const struct kt_model *m, int proc, int snap)
{
	const struct kt_process *p = m->procs[proc].proc;
	size_t execs = 0;
	for (int s = 0; s <= snap && (size_t)s < p->nsnaps; s++)
		execs += !p->snaps[s].at_exit && !p->snaps[s].live;
	if (execs < p->nimages) {
		const struct kt_image *im = &p->images[execs];
		if (im->exe != NULL)
			return im->exe;
		if (im->argc > 0)
			return im->argv[0];
	}
	return NULL;
}

/* The first exec snapshot of proc at or after snapshot from that carries
 * (fd, gen) into the new image, or -1. */
static int exec_carrying(const struct kt_model *m, int proc, int from, int fd,
			 unsigned long long gen)
{
	const struct kt_process *p = m->procs[proc].proc;
	for (size_t s = from < 0 ? 0 : (size_t)from; s < p->nsnaps; s++) {
		const struct kt_snapshot *snap = &p->snaps[s];
		if (snap->at_exit || snap->live)
			continue;
		for (size_t k = 0; k < snap->nfds; k++)
			if (snap->fds[k].fd == fd && snap->fds[k].gen == gen && !snap->fds[k].cloexec)
				return (int)s;
	}
	return -1;
}

static void add_exec(struct text *t, const struct kt_model *m, int proc, int snap)
{
	const char *exe = exec_target(m, proc, snap);
	if (exe != NULL)
		text_printf(t, ", kept across exec of %s", exe);
	else
		text_printf(t, ", kept across an exec");
}

/* "opened by 1234 (server) with socket at main+0x3a (server.c:17) without
 * SOCK_CLOEXEC, inherited by 1235 (server) across fork, kept across exec of
 * /usr/bin/helper": from the creating call to steps[0]. */
static void describe_chain(struct text *t, const struct kt_model *m, const struct chain *c,
			   bool say_cloexec)
{
	const struct step *last = &c->steps[c->n - 1];
	if (last->rec == NULL) {
		text_printf(t, "held by %d", last->pid);
		if (last->proc >= 0)
			text_printf(t, " (%s)", proc_name(m, last->proc));
		text_printf(t, " as fd %d (closed there before its snapshot%s)", last->fd,
			    c->created ? ", probably made there" : "");
	} else if (c->created) {
		const char *call = last->rec->call;
		text_printf(t, "opened by %d (%s) as fd %d", last->pid, proc_name(m, last->proc),
			    last->fd);
		if (call != NULL)
			text_printf(t, " with %s", call);
		add_at(t, last->rec->site);
		if (say_cloexec)
			text_printf(t, " without %s", cloexec_flag(call));
	} else if (last->proc >= 0 && kt_model_made_untraced(m, (size_t)last->proc, last->rec)) {
		text_printf(t, "held by %d (%s) as fd %d, an untraced image (origin unknown)",
			    last->pid, proc_name(m, last->proc), last->fd);
	} else if (last->proc >= 0 && m->procs[last->proc].parent < 0 && last->rec != NULL &&
		   last->rec->gen <= 2) {
		text_printf(t, "present at start in %d (%s) as fd %d, from outside the trace",
			    last->pid, proc_name(m, last->proc), last->fd);
	} else {
		text_printf(t, "held by %d (%s) as fd %d, origin unknown", last->pid,
			    proc_name(m, last->proc), last->fd);
	}
	/* Each step back towards steps[0]; an exec is told where it happened. */
	for (size_t i = c->n; i-- > 0;) {
		const struct step *st = &c->steps[i];
		if (i + 1 < c->n && st->rec != NULL) {
			const struct kt_fd *r = st->rec;
			const struct step *prev = &c->steps[i + 1];
			bool inherited = is(r->how, "inherited") ||
					 (is(r->how, "exec") && (r->src_pid != st->pid ||
								 r->src_start != st->start));
			if (inherited) {
				text_printf(t, ", inherited by %d (%s) across fork", st->pid,
					    proc_name(m, st->proc));
				if (st->fd != prev->fd)
					text_printf(t, " as fd %d", st->fd);
			} else {
				text_printf(t, ", %s onto fd %d", r->call ? r->call : "dup", st->fd);
				add_at(t, r->site);
			}
		}
		if (st->proc >= 0 && i > 0 && c->steps[i - 1].proc != st->proc &&
		    c->steps[i - 1].proc >= 0) {
			/* Carried across an exec of this process before it passed
			 * it on: the next holder started as that image. */
			int e = exec_carrying(m, st->proc, st->snap, st->fd, st->gen);
			const char *exe = e >= 0 ? exec_target(m, st->proc, e) : NULL;
			const struct kt_image *next = m->procs[c->steps[i - 1].proc].first_image;
			if (exe != NULL && next != NULL && is(next->exe, exe))
				add_exec(t, m, st->proc, e);
		}
	}
}

/* ---- adding ---- */

static struct kt_finding *add(struct kt_model *m, const char *kind, enum kt_severity sev, int proc,
			      int fd, int ofd, const char *target)
{
	struct kt_finding *f = KT_PUSH(m->findings, m->nfindings, m->findings_cap);
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->severity = sev;
	f->proc = proc;
	f->fd = fd;
	f->ofd = ofd;
	f->target = target;
	f->program = m->procs[proc].name;
	return f;
}

static bool exists(const struct kt_model *m, const char *kind, int proc, int fd)
{
	for (size_t i = 0; i < m->nfindings; i++)
		if (m->findings[i].proc == proc && m->findings[i].fd == fd &&
		    strcmp(m->findings[i].kind, kind) == 0)
			return true;
	return false;
}

static void relate(struct kt_finding *f, int proc)
{
	if (proc < 0 || proc == f->proc)
		return;
	for (size_t i = 0; i < f->nrelated; i++)
		if (f->related[i] == proc)
			return;
	f->related = kt_xrealloc(f->related, (f->nrelated + 1) * sizeof *f->related);
	f->related[f->nrelated++] = proc;
}

/* ---- leaked-across-exec, and pipe write ends kept across exec ---- */

/* Made inheritable on purpose: fcntl(F_SETFD) cleared FD_CLOEXEC on this
 * descriptor (this generation) in the process that execs. */
static bool made_inheritable(const struct kt_process *p, int fd, unsigned long long gen)
{
	for (size_t e = 0; e < p->nevents; e++)
		if (is(p->events[e].kind, "setfd") && p->events[e].fd == fd && p->events[e].gen == gen)
			return true;
	return false;
}

/* Placed on purpose: dup2'd onto this very number, or by a spawn file
 * action (made inheritable with F_SETFD: see made_inheritable). */
static bool placed(const struct chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct kt_fd *r = c->steps[i].rec;
		if (r == NULL)
			continue;
		if ((is(r->call, "dup2") || is(r->call, "dup3")) && c->steps[i].fd == c->steps[0].fd &&
		    (is(r->how, "dup") || is(r->how, "exec")))
			return true;
		if (is(r->call, "posix_spawn") || is(r->call, "posix_spawnp"))
			return true;
	}
	return false;
}

static bool came_from_other_process(const struct chain *c)
{
	for (size_t i = 1; i < c->n; i++)
		if (c->steps[i].pid != c->steps[0].pid || c->steps[i].start != c->steps[0].start)
			return true;
	return false;
}

struct seen {
	int proc, fd;
	unsigned long long gen;
};

static void find_exec_leaks(struct kt_model *m)
{
	struct seen *seen = NULL;
	size_t nseen = 0, seen_cap = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		for (size_t s = 0; s < p->nsnaps; s++) {
			const struct kt_snapshot *snap = &p->snaps[s];
			if (snap->at_exit || snap->live)
				continue;
			for (size_t k = 0; k < snap->nfds; k++) {
				const struct kt_fd *fd = &snap->fds[k];
				if (fd->fd <= 2 || fd->cloexec)
					continue;
				bool dup = false;
				for (size_t d = 0; d < nseen && !dup; d++)
					dup = seen[d].proc == (int)i && seen[d].fd == fd->fd &&
					      seen[d].gen == fd->gen;
				if (dup)
					continue;
				*KT_PUSH(seen, nseen, seen_cap) = (struct seen){(int)i, fd->fd, fd->gen};

				struct chain c;
				walk(m, p->pid, p->start, fd->fd, fd->gen, &c);
				struct kt_node_ref ref;
				int ofd = kt_model_node(m, p->pid, p->start, fd->fd, fd->gen, &ref)
						  ? ref.ofd
						  : 0;
				if (!made_in_trace(m, &c, ofd) || placed(&c) ||
				    made_inheritable(p, fd->fd, fd->gen))
					continue;
				const char *exe = exec_target(m, (int)i, (int)s);
				bool pipe_w = is(fd->type, "pipe") && is(fd->access, "w") &&
					      came_from_other_process(&c);
				struct kt_finding *f =
					add(m, pipe_w ? "pipe-end-held" : "leaked-across-exec",
					    pipe_w ? KT_SEVERITY_ERROR : KT_SEVERITY_WARNING, (int)i,
					    fd->fd, ofd, fd->target);
				for (size_t st = 1; st < c.n; st++)
					relate(f, c.steps[st].proc);
				struct text msg = {0}, why = {0};
				if (pipe_w) {
					text_printf(&msg,
						    "%d %s: fd %d, the write end of %s, was kept across "
						    "exec of %s without being placed there",
						    p->pid, m->procs[i].name, fd->fd, target_of(fd),
						    exe ? exe : "a new program");
					text_printf(&why,
						    "The new program does not know it holds fd %d, a write "
						    "end of %s, so it never closes it: whoever reads the "
						    "pipe sees end of file only once this process exits. "
						    "The descriptor was ",
						    fd->fd, target_of(fd));
				} else {
					text_printf(&msg,
						    "%d %s: fd %d (%s %s) was kept across exec of %s "
						    "without close-on-exec",
						    p->pid, m->procs[i].name, fd->fd, fd->type,
						    target_of(fd), exe ? exe : "a new program");
					text_printf(&why,
						    "The new program inherits fd %d (%s %s) that it does "
						    "not know about: it keeps the %s open (a listening "
						    "socket stays bound, a pipe never reaches end of file, "
						    "a deleted file keeps its space) for as long as it "
						    "runs. The descriptor was ",
						    fd->fd, fd->type, target_of(fd),
						    is(fd->type, "socket") ? "socket" : "description");
				}
				describe_chain(&why, m, &c, true);
				add_exec(&why, m, (int)i, (int)s);
				text_printf(&why,
					    ". Fix: create it with %s (or set FD_CLOEXEC with fcntl), "
					    "or dup2 it onto the number the new program expects.",
					    cloexec_flag(c.steps[c.n - 1].rec ? c.steps[c.n - 1].rec->call
									      : NULL));
				f->message = text_take(&msg);
				f->explanation = text_take(&why);
			}
		}
	}
	free(seen);
}

/* ---- pipe-end-held: a reader that keeps a write end ---- */

/* A process holding both ends of a pipe made in the trace, while another
 * process holds only its write end (a dedicated writer): the reader waits
 * for end of file that its own write end prevents. Processes that all hold
 * both ends (fork without closing, nobody reading to EOF) are not flagged. */
static void find_readers_holding_writers(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		for (size_t k = 0; k < mp->nfds; k++) {
			const struct kt_fd *w = mp->fds[k].fd;
			if (!is(w->type, "pipe") || !is(w->access, "w") || w->target == NULL)
				continue;
			/* Only the first write end of this pipe in this process. */
			bool earlier = false;
			for (size_t e = 0; e < k && !earlier; e++)
				earlier = is(mp->fds[e].fd->type, "pipe") &&
					  is(mp->fds[e].fd->access, "w") &&
					  is(mp->fds[e].fd->target, w->target);
			if (earlier || exists(m, "pipe-end-held", (int)i, w->fd))
				continue;
			const struct kt_fd *r = NULL;
			for (size_t e = 0; e < mp->nfds && r == NULL; e++)
				if (is(mp->fds[e].fd->type, "pipe") && is(mp->fds[e].fd->access, "r") &&
				    is(mp->fds[e].fd->target, w->target))
					r = mp->fds[e].fd;
			if (r == NULL)
				continue;
			/* A dedicated writer elsewhere. */
			int writer = -1, writer_fd = -1;
			for (size_t j = 0; j < m->nprocs && writer < 0; j++) {
				if (j == i)
					continue;
				const struct kt_mproc *q = &m->procs[j];
				int wfd = -1;
				bool reads = false;
				for (size_t e = 0; e < q->nfds; e++) {
					const struct kt_fd *x = q->fds[e].fd;
					if (!is(x->type, "pipe") || !is(x->target, w->target))
						continue;
					if (is(x->access, "r"))
						reads = true;
					else if (wfd < 0)
						wfd = x->fd;
				}
				if (wfd >= 0 && !reads) {
					writer = (int)j;
					writer_fd = wfd;
				}
			}
			if (writer < 0)
				continue;
			struct chain c;
			walk(m, mp->proc->pid, mp->proc->start, w->fd, w->gen, &c);
			if (!made_in_trace(m, &c, mp->fds[k].ofd))
				continue;
			struct kt_finding *f = add(m, "pipe-end-held", KT_SEVERITY_ERROR, (int)i, w->fd,
						   mp->fds[k].ofd, w->target);
			relate(f, writer);
			struct text msg = {0}, why = {0};
			text_printf(&msg,
				    "%d %s: holds fd %d, a write end of %s, while reading its read "
				    "end (fd %d) that %d %s writes to",
				    mp->proc->pid, mp->name, w->fd, w->target, r->fd,
				    m->procs[writer].proc->pid, m->procs[writer].name);
			text_printf(&why,
				    "%d (%s) reads %s through fd %d but also holds its write end, fd "
				    "%d: when the writer, %d (%s) fd %d, is done, a read that waits "
				    "for end of file never returns, because this process itself still "
				    "holds a write end. The write end was ",
				    mp->proc->pid, mp->name, w->target, r->fd, w->fd,
				    m->procs[writer].proc->pid, m->procs[writer].name, writer_fd);
			describe_chain(&why, m, &c, false);
			text_printf(&why, ". Fix: close fd %d in %d (%s) right after the fork that "
					  "gave the writer its copy.",
				    w->fd, mp->proc->pid, mp->name);
			f->message = text_take(&msg);
			f->explanation = text_take(&why);
		}
	}
}

/* ---- events: status flags, locks, bad closes ---- */

/* Other traced processes that hold the node's description: holders of its
 * ofd elsewhere, and the processes it came from. Returns how many were
 * written into text as "1234 (name) fd 3, ...". */
/* ---- pipe-end-held, sockets: a process keeps the end it handed over ---- */

static int ofd_of_fd(const struct kt_mproc *mp, int fd, const struct kt_fd **rec)
{
	for (size_t k = 0; k < mp->nfds; k++)
		if (mp->fds[k].fd->fd == fd) {
			*rec = mp->fds[k].fd;
			return mp->fds[k].ofd;
		}
	return 0;
}

static bool holds_ofd(const struct kt_mproc *mp, int ofd)
{
	for (size_t k = 0; k < mp->nfds; k++)
		if (mp->fds[k].ofd == ofd)
			return true;
	return false;
}

/* A process holds both ends of a socketpair while another process holds one
 * of them (and not the other): when that process closes its end, this one,
 * talking through its own end, never sees end of file, because it still
 * holds the far end itself. */
static void find_socket_peers_held(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		if (mp->snap == NULL)
			continue;
		for (size_t pp = 0; pp < mp->snap->npeers; pp++) {
			const struct kt_peer *peer = &mp->snap->peers[pp];
			const int ends[2] = {peer->fd, peer->fd2};
			for (int h = 0; h < 2; h++) {
				const struct kt_fd *held = NULL, *own = NULL;
				int ofd_held = ofd_of_fd(mp, ends[h], &held);
				int ofd_own = ofd_of_fd(mp, ends[1 - h], &own);
				if (!ofd_held || !ofd_own || exists(m, "pipe-end-held", (int)i, held->fd))
					continue;
				int user = -1;
				for (size_t j = 0; j < m->nprocs && user < 0; j++)
					if (j != i && holds_ofd(&m->procs[j], ofd_held) &&
					    !holds_ofd(&m->procs[j], ofd_own))
						user = (int)j;
				if (user < 0)
					continue;
				struct chain c;
				walk(m, mp->proc->pid, mp->proc->start, held->fd, held->gen, &c);
				if (!made_in_trace(m, &c, ofd_held))
					continue;
				struct kt_finding *f = add(m, "pipe-end-held", KT_SEVERITY_ERROR, (int)i,
							   held->fd, ofd_held, held->target);
				relate(f, user);
				struct text msg = {0}, why = {0};
				const struct kt_mproc *u = &m->procs[user];
				text_printf(&msg,
					    "%d %s: holds fd %d, the socketpair end that %d %s uses, "
					    "while talking through the other end (fd %d)",
					    mp->proc->pid, mp->name, held->fd, u->proc->pid, u->name,
					    own->fd);
				text_printf(&why,
					    "%d (%s) talks to %d (%s) over a socketpair through fd %d, "
					    "but also holds the other end, fd %d (%s), the one %d uses: "
					    "when %d closes its end or exits, a read on fd %d never sees "
					    "end of file, because this process itself still holds that end. "
					    "It was ",
					    mp->proc->pid, mp->name, u->proc->pid, u->name, own->fd, held->fd,
					    target_of(held), u->proc->pid, u->proc->pid, own->fd);
				describe_chain(&why, m, &c, false);
				text_printf(&why, ". Fix: close fd %d in %d (%s) right after the fork that "
						  "gave %d its copy.",
					    held->fd, mp->proc->pid, mp->name, u->proc->pid);
				f->message = text_take(&msg);
				f->explanation = text_take(&why);
			}
		}
	}
}

/* The holders named in a message; the rest are counted ("and N more"),
 * and all of them are in the finding's related pids. */
#define HOLDERS_NAMED 6

static void name_holder(struct text *t, size_t n, int pid, const char *name, int fd)
{
	if (n < HOLDERS_NAMED)
		text_printf(t, "%s%d (%s) fd %d", n ? ", " : "", pid, name, fd);
}

static size_t others_holding(const struct kt_model *m, int proc, const struct chain *c, int ofd,
			     struct text *t, struct kt_finding *f)
{
	size_t n = 0;
	int *listed = kt_xcalloc(m->nprocs, sizeof *listed);
	if (ofd > 0) {
		const struct kt_ofd *o = &m->ofds[ofd - 1];
		for (size_t h = 0; h < o->nholders; h++) {
			int q = o->holders[h].proc;
			if (q == proc || listed[q])
				continue;
			listed[q] = 1;
			name_holder(t, n, m->procs[q].proc->pid, m->procs[q].name, o->holders[h].fd);
			if (f != NULL)
				relate(f, q);
			n++;
		}
	}
	for (size_t i = 1; i < c->n; i++) {
		int q = c->steps[i].proc;
		if (q < 0 || q == proc || listed[q])
			continue;
		listed[q] = 1;
		name_holder(t, n, c->steps[i].pid, m->procs[q].name, c->steps[i].fd);
		if (f != NULL)
			relate(f, q);
		n++;
	}
	if (n > HOLDERS_NAMED)
		text_printf(t, " and %zu more processes", n - HOLDERS_NAMED);
	free(listed);
	return n;
}

static void flag_names(struct text *t, unsigned long long changed, unsigned long long after)
{
	static const struct {
		unsigned long long flag;
		const char *name;
	} flags[] = {
		{O_NONBLOCK, "O_NONBLOCK"}, {O_APPEND, "O_APPEND"}, {O_ASYNC, "O_ASYNC"},
#ifdef O_DIRECT
		{O_DIRECT, "O_DIRECT"},
#endif
#ifdef O_NOATIME
		{O_NOATIME, "O_NOATIME"},
#endif
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (!(changed & flags[i].flag))
			continue;
		text_printf(t, "%s%s %s", n++ ? ", " : "", after & flags[i].flag ? "set" : "cleared",
			    flags[i].name);
		changed &= ~flags[i].flag;
	}
	if (changed)
		text_printf(t, "%schanged flags 0%llo", n ? ", " : "", changed);
}

static const struct kt_fd *event_fd(const struct kt_model *m, int proc, const struct kt_event *ev,
				    int *ofd)
{
	struct kt_node_ref ref;
	const struct kt_process *p = m->procs[proc].proc;
	*ofd = 0;
	if (!kt_model_node(m, p->pid, p->start, ev->fd, ev->gen, &ref))
		return NULL;
	*ofd = ref.ofd;
	return ref.rec;
}

static bool event_seen(const struct kt_process *p, size_t upto, const struct kt_event *ev)
{
	for (size_t e = 0; e < upto; e++) {
		const struct kt_event *x = &p->events[e];
		if (strcmp(x->kind, ev->kind) == 0 && x->fd == ev->fd && x->gen == ev->gen &&
		    x->arg1 == ev->arg1 && x->arg2 == ev->arg2 && (x->site == ev->site ||
		    (x->site && ev->site && strcmp(x->site, ev->site) == 0)))
			return true;
	}
	return false;
}

/* Basename of the program the process ran when snapshot snap was taken
 * (an event is noted by the image that made the call). */
static const char *program_at(const struct kt_model *m, int proc, int snap)
{
	const struct kt_process *p = m->procs[proc].proc;
	size_t execs = 0;
	for (int s = 0; s < snap && (size_t)s < p->nsnaps; s++)
		execs += !p->snaps[s].at_exit && !p->snaps[s].live;
	if (snap < 0 || execs >= p->nimages)
		return m->procs[proc].name;
	const struct kt_image *im = &p->images[execs];
	if (im->argc > 0 && im->argv[0][0] != '\0')
		return kt_basename(im->argv[0]);
	return im->exe != NULL ? kt_basename(im->exe) : m->procs[proc].name;
}

static void shared_event(struct kt_model *m, int proc, const struct kt_event *ev, bool lock)
{
	const struct kt_process *p = m->procs[proc].proc;
	int ofd;
	const struct kt_fd *fd = event_fd(m, proc, ev, &ofd);
	if (fd == NULL)
		return;
	struct chain c;
	walk(m, p->pid, p->start, ev->fd, ev->gen, &c);
	struct text holders = {0};
	struct kt_finding *f = add(m, lock ? "shared-lock" : "shared-status-flags",
				   KT_SEVERITY_WARNING, proc, ev->fd, ofd, fd->target);
	f->program = program_at(m, proc, ev->snap);
	if (others_holding(m, proc, &c, ofd, &holders, f) == 0) {
		free(f->related);
		m->nfindings--;
		free(holders.s);
		return;
	}
	char where[1100];
	const char *at = where_of(ev->site, where, sizeof where);
	struct text msg = {0}, why = {0}, what = {0};
	if (lock) {
		const char *how = is(ev->kind, "flock")
					  ? ((ev->arg1 & LOCK_EX) ? "flock(LOCK_EX)" : "flock(LOCK_SH)")
					  : (ev->arg1 == F_WRLCK ? "an OFD write lock (F_OFD_SETLK)"
								 : "an OFD read lock (F_OFD_SETLK)");
		text_printf(&msg, "%d %s: took %s on fd %d (%s), a description also held by %s",
			    p->pid, m->procs[proc].name, how, ev->fd, target_of(fd), holders.s);
		text_printf(&why,
			    "%d (%s) took %s on fd %d (%s)%s%s. The lock belongs to the open file "
			    "description, not to the process: %s hold%s the same description, so "
			    "they hold the lock too, can unlock it for everyone, and it is released "
			    "only when the last of them closes it. The descriptor was ",
			    p->pid, m->procs[proc].name, how, ev->fd, target_of(fd), at ? " at " : "",
			    at ? at : "", holders.s, strchr(holders.s, ',') ? "" : "s");
		describe_chain(&why, m, &c, false);
		text_printf(&why, ". Fix: open the file again in the process that locks it (a new "
				  "description), or lock with F_SETLK (per process).");
	} else {
		flag_names(&what, (unsigned long long)(ev->arg1 ^ ev->arg2),
			   (unsigned long long)ev->arg2);
		text_printf(&msg, "%d %s: fcntl(F_SETFL) %s on fd %d (%s), a description also held by %s",
			    p->pid, m->procs[proc].name, what.s ? what.s : "changed nothing", ev->fd,
			    target_of(fd), holders.s);
		bool nonblock = ((ev->arg1 ^ ev->arg2) & O_NONBLOCK) != 0;
		text_printf(&why,
			    "%d (%s) %s on fd %d (%s) with fcntl(F_SETFL)%s%s. Status flags belong "
			    "to the open file description, so the change applies to %s as well%s. "
			    "The descriptor was ",
			    p->pid, m->procs[proc].name, what.s ? what.s : "changed nothing", ev->fd,
			    target_of(fd), at ? " at " : "", at ? at : "", holders.s,
			    nonblock ? ((ev->arg2 & O_NONBLOCK)
						? ": their reads and writes that used to block now fail "
						  "with EAGAIN"
						: ": their reads and writes now block where they expected "
						  "EAGAIN")
				     : "");
		describe_chain(&why, m, &c, false);
		text_printf(&why, ". Fix: open or create a description of its own for this process "
				  "instead of changing a shared one (or set the flag per call, e.g. "
				  "MSG_DONTWAIT / preadv2 RWF_NOWAIT).");
	}
	f->message = text_take(&msg);
	f->explanation = text_take(&why);
	free(what.s);
	free(holders.s);
}

static void bad_close(struct kt_model *m, int proc, const struct kt_event *ev)
{
	const struct kt_process *p = m->procs[proc].proc;
	if (ev->fd < 0)
		return; /* close(-1): an unset descriptor, harmless */
	char where[1100];
	const char *at = where_of(ev->site, where, sizeof where);
	struct kt_finding *f = add(m, "bad-close", KT_SEVERITY_ERROR, proc, ev->fd, 0, NULL);
	const char *prog = f->program = program_at(m, proc, ev->snap);
	struct text msg = {0}, why = {0};
	const char *what = ev->arg1 == 0       ? "was never opened"
			   : (ev->arg1 & 1) != 0 ? "had already been closed (a double close)"
						 : "was not open (closed behind the tracer's back)";
	text_printf(&msg, "%d %s: close(%d)%s%s failed with EBADF: fd %d %s", p->pid, prog,
		    ev->fd, at ? " at " : "", at ? at : "", ev->fd, what);
	text_printf(&why,
		    "%d (%s) called close(%d)%s%s, but fd %d %s. Here the call only failed; had "
		    "another thread, a library or a later open taken the number %d in between, "
		    "this close would have closed that descriptor instead, and its owner would "
		    "then read, write or close the wrong file. Fix: close each descriptor once "
		    "and set the variable to -1 after closing it.",
		    p->pid, prog, ev->fd, at ? " at " : "", at ? at : "", ev->fd, what, ev->fd);
	f->message = text_take(&msg);
	f->explanation = text_take(&why);
}

static void find_events(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		for (size_t e = 0; e < p->nevents; e++) {
			const struct kt_event *ev = &p->events[e];
			if (event_seen(p, e, ev))
				continue; /* noted again by a later snapshot */
			if (is(ev->kind, "setfl"))
				shared_event(m, (int)i, ev, false);
			else if (is(ev->kind, "flock") || is(ev->kind, "ofd-lock"))
				shared_event(m, (int)i, ev, true);
			else if (is(ev->kind, "close-ebadf"))
				bad_close(m, (int)i, ev);
		}
	}
}

/* ---- open-at-exit (--leaks) ---- */

static void find_open_at_exit(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		if (mp->snap == NULL || !mp->snap->at_exit)
			continue;
		for (size_t k = 0; k < mp->nfds; k++) {
			const struct kt_fd *fd = mp->fds[k].fd;
			if (fd->fd <= 2)
				continue;
			struct chain c;
			walk(m, mp->proc->pid, mp->proc->start, fd->fd, fd->gen, &c);
			if (!made_in_trace(m, &c, mp->fds[k].ofd))
				continue;
			struct kt_finding *f = add(m, "open-at-exit", KT_SEVERITY_INFO, (int)i, fd->fd,
						   mp->fds[k].ofd, fd->target);
			struct text msg = {0}, why = {0};
			text_printf(&msg, "%d %s: fd %d (%s %s) is still open at exit", mp->proc->pid,
				    mp->name, fd->fd, fd->type, target_of(fd));
			text_printf(&why,
				    "%d (%s) exited with fd %d (%s %s) open: the kernel closes it, "
				    "but a long-running program that forgets it leaks a descriptor "
				    "each time. The descriptor was ",
				    mp->proc->pid, mp->name, fd->fd, fd->type, target_of(fd));
			describe_chain(&why, m, &c, false);
			text_printf(&why, ".");
			f->message = text_take(&msg);
			f->explanation = text_take(&why);
		}
	}
}

static int compare_findings(const void *a, const void *b)
{
	const struct kt_finding *x = a, *y = b;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

void kt_findings_find(struct kt_model *m, const struct kt_findings_options *opt)
{
	find_exec_leaks(m);
	find_readers_holding_writers(m);
	find_socket_peers_held(m);
	find_events(m);
	if (opt != NULL && opt->leaks)
		find_open_at_exit(m);
	if (m->nfindings > 1)
		qsort(m->findings, m->nfindings, sizeof *m->findings, compare_findings);
}
