/* Findings about descriptors that reach where they should not:
 * leaked-across-exec, and pipe-end-held (a write end kept across exec, a
 * reader keeping a write end, a process keeping the socketpair end it
 * handed over). */
#include "findings_impl.h"
#include "address.h"
#include "shell.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- leaked-across-exec, and pipe write ends kept across exec ---- */

/* Made inheritable on purpose: fcntl(F_SETFD) cleared FD_CLOEXEC on this
 * descriptor (this generation) in the process that execs. */
static bool made_inheritable(const struct kt_process *p, int fd, unsigned long long gen)
{
	for (size_t e = 0; e < p->nevents; e++) {
		const struct kt_rec_event *ev = &p->events[e].rec;
		if (ev->kind == KT_EVENT_SETFD && ev->fd == fd && ev->gen == gen)
			return true;
	}
	return false;
}

/* Placed on purpose: dup2'd onto this very number, or by a spawn file
 * action (made inheritable with F_SETFD: see made_inheritable); by this
 * descriptor's own history, not by a sender's. */
static bool placed(const struct kt_chain *c)
{
	for (size_t i = 0; i < c->own; i++) {
		const struct kt_origin *o = c->steps[i].origin;
		if (o == NULL)
			continue;
		if ((o->call == KT_CALL_DUP2 || o->call == KT_CALL_DUP3) &&
		    c->steps[i].fd == c->steps[0].fd && (o->how == KT_HOW_DUP || o->how == KT_HOW_EXEC))
			return true;
		if (o->call == KT_CALL_POSIX_SPAWN)
			return true;
	}
	return false;
}

/* Passed on purpose by name: the new program's command line names the
 * descriptor as a file, /dev/fd/N or /proc/self/fd/N (bash's <(cmd)). */
static bool named_in_argv(const struct kt_rec_image *im, int fd)
{
	static const char *const dirs[] = {"/dev/fd/", "/proc/self/fd/"};
	char name[32];
	for (int a = 0; im != NULL && a < im->argc; a++)
		for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
			snprintf(name, sizeof name, "%s%d", dirs[d], fd);
			size_t n = strlen(name);
			for (const char *at = strstr(im->argv[a], name); at; at = strstr(at + 1, name))
				if (at[n] == '\0' || at[n] == '/' || at[n] == ',' || at[n] == ':' || at[n] == ' ')
					return true;
		}
	return false;
}

/* The program exec'd after snapshot s, "PATH" or "PATH (set-id program,
 * not traced)" for an image the shim could not follow (it has no image
 * line), or NULL when unknown. */
static const char *exec_target(const struct kt_process *p, size_t s, struct kt_str *buf)
{
	const struct kt_rec_image *next = kt_process_image_at(p, s + 1);
	if (next != NULL)
		return next->exe ? next->exe : next->argc ? next->argv[0] : NULL;
	if (p->untraced_path == NULL || p->untraced_snap != s + 1)
		return NULL;
	kt_str_printf(buf, "%s (%s, not traced)", p->untraced_path,
		      p->untraced_reason ? p->untraced_reason : "untraced");
	return buf->s;
}

/* The finding for mfd, kept across the exec after snapshot s of process i,
 * or, with s SPAWNED, inherited across the exec of its parent's spawn
 * (posix_spawn, popen, system) into i's first image. */
#define SPAWNED ((size_t)-1)

static void exec_leak(struct kt_model *m, size_t i, size_t s, const struct kt_fd *mfd,
		      const struct kt_chain *c, int ofd)
{
	const struct kt_rec_fd *fd = &mfd->rec;
	const struct kt_process *p = m->procs[i].proc;
	struct kt_str exe_buf = {0};
	const struct kt_rec_image *first = m->procs[i].first_image;
	const char *exe = s != SPAWNED  ? exec_target(p, s, &exe_buf)
			  : first == NULL ? NULL
			  : first->exe    ? first->exe
			  : first->argc   ? first->argv[0]
					  : NULL;
	/* "kept across exec of X" or "inherited across posix_spawn of X" */
	struct kt_str crossed = {0};
	if (s != SPAWNED)
		kt_str_printf(&crossed, "kept across exec of %s", exe ? exe : "a new program");
	else
		kt_str_printf(&crossed, "inherited across %s() of %s", p->spawned_by,
			      exe ? exe : "a new program");
	const char *type = kt_fd_type_name(fd->type);
	bool pipe_w = fd->type == KT_FD_PIPE && fd->access == O_WRONLY &&
		      kt_chain_from_other_process(c);
	struct kt_finding *f = kt_finding_add(m, pipe_w ? "pipe-end-held" : "leaked-across-exec",
					      pipe_w ? KT_SEVERITY_ERROR : KT_SEVERITY_WARNING,
					      (int)i, fd->fd, ofd, fd->target);
	kt_finding_made_by(f, m, c);
	for (size_t st = 1; st < c->own; st++)
		kt_finding_relate(f, c->steps[st].proc);
	struct kt_str msg = {0}, why = {0};
	if (pipe_w) {
		kt_str_printf(&msg, "%d %s: fd %d, the write end of %s, was %s without being placed there",
			      p->pid, m->procs[i].name, fd->fd, kt_target_of(fd), crossed.s);
		kt_str_printf(&why,
			      "The new program does not know it holds fd %d, a write end of %s, so it "
			      "never closes it: whoever reads the pipe sees end of file only once "
			      "this process exits. The descriptor was ",
			      fd->fd, kt_target_of(fd));
	} else {
		/* A socket says what it is bound to: "listening on 0.0.0.0:8080". */
		char *shown = kt_target_shown(mfd);
		kt_str_printf(&msg, "%d %s: fd %d (%s %s) was %s without close-on-exec", p->pid,
			      m->procs[i].name, fd->fd, type, shown, crossed.s);
		kt_str_printf(&why,
			      "The new program inherits fd %d (%s %s) that it does not know about: it "
			      "keeps the %s open (a listening socket stays bound, a pipe never reaches "
			      "end of file, a deleted file keeps its space) for as long as it runs. "
			      "The descriptor was ",
			      fd->fd, type, shown,
			      fd->type == KT_FD_SOCKET ? "socket" : "description");
		free(shown);
	}
	kt_chain_describe(&why, m, c, true);
	if (s != SPAWNED)
		kt_chain_add_exec(&why, m, (int)i, (int)s);
	if (f->origin.made != NULL) {
		kt_str_printf(&why,
			      ". A shell opened it for a redirection the script asked for (exec %d<FILE, "
			      "CMD %d>FILE): the script meant the programs it runs to have it. The "
			      "built-in suppression made=shell-redirection drops this finding unless "
			      "--default-suppressions=no; close it in the script (exec %d<&-) or for "
			      "one command (CMD %d<&-) to keep it from this program.",
			      fd->fd, fd->fd, fd->fd, fd->fd);
		kt_finding_say(f, &msg, &why);
		free(exe_buf.s);
		free(crossed.s);
		return;
	}
	const struct kt_origin *made = c->steps[c->own - 1].origin;
	kt_str_printf(&why, ". Fix: create it with %s (or set FD_CLOEXEC with fcntl), or %s onto the "
			    "number the new program expects.",
		      kt_cloexec_flag(made ? made->call : KT_CALL_NONE),
		      s == SPAWNED && strcmp(p->spawned_by, "posix_spawn") == 0
			      ? "place it with posix_spawn_file_actions_adddup2"
			      : "dup2 it");
	kt_finding_say(f, &msg, &why);
	free(exe_buf.s);
	free(crossed.s);
}

struct seen {
	int proc, fd;
	unsigned long long gen;
};

/* Made inheritable on purpose anywhere along the descriptor's own history:
 * by the process that execs, or by a parent before the fork or spawn that
 * passed it on (CPython's os.set_inheritable, then subprocess with
 * close_fds=False). */
static bool chain_made_inheritable(const struct kt_model *m, const struct kt_chain *c)
{
	for (size_t st = 0; st < c->own; st++)
		if (c->steps[st].proc >= 0 &&
		    made_inheritable(m->procs[c->steps[st].proc].proc, c->steps[st].fd, c->steps[st].gen))
			return true;
	return false;
}

/* A process its parent spawned (posix_spawn, popen, system: a clone and an
 * exec inside glibc) started its first image by an exec: what it inherited
 * crossed it, as after fork and exec. Its first snapshot (of that image)
 * shows what it inherited and still held. */
static void spawn_leaks(struct kt_model *m, size_t i, struct seen **seen, size_t *nseen,
			size_t *seen_cap)
{
	const struct kt_process *p = m->procs[i].proc;
	if (p->spawned_by == NULL || p->nsnaps == 0 || p->nimages == 0)
		return;
	const struct kt_snapshot *snap = &p->snaps[0];
	/* What it still held, then what it had closed (its "closed" records):
	 * the new program closing it does not undo the crossing. */
	for (size_t k = 0; k < snap->nfds + snap->nclosed; k++) {
		bool closed = k >= snap->nfds;
		const struct kt_fd *kfd = closed ? &snap->closed[k - snap->nfds] : &snap->fds[k];
		/* Its close-on-exec flag now is the new program's doing: it
		 * crossed the exec without. */
		if (kfd->rec.fd <= 2 || kfd->rec.how != KT_HOW_INHERITED ||
		    kfd->origin.how != KT_HOW_INHERITED)
			continue;
		bool dup = false;
		for (size_t d = 0; d < *nseen && !dup; d++)
			dup = (*seen)[d].proc == (int)i && (*seen)[d].fd == kfd->rec.fd &&
			      (*seen)[d].gen == kfd->rec.gen;
		if (dup)
			continue;
		*KT_PUSH(*seen, *nseen, *seen_cap) = (struct seen){(int)i, kfd->rec.fd, kfd->rec.gen};
		struct kt_chain c;
		kt_chain_walk(m, p->pid, p->start, kfd->rec.fd, kfd->rec.gen, &c);
		/* A closed record has no type or target: its parent's copy tells. */
		struct kt_rec_fd rec = kfd->rec;
		for (size_t st = 1; closed && st < c.n && rec.target == NULL; st++)
			if (c.steps[st].rec != NULL && c.steps[st].rec->target != NULL) {
				rec.type = c.steps[st].rec->type;
				rec.target = c.steps[st].rec->target;
				rec.access = c.steps[st].rec->access;
			}
		struct kt_fd shown = *kfd;
		shown.rec = rec;
		const struct kt_rec_fd *fd = &rec;
		struct kt_node_ref ref;
		int ofd = kt_model_node(m, p->pid, p->start, fd->fd, fd->gen, &ref) ? ref.ofd : 0;
		bool redirection = kt_shell_made(m, &c) != NULL;
		if (kt_chain_made_in_trace(m, &c, ofd) && (redirection || !placed(&c)) &&
		    !chain_made_inheritable(m, &c) && !named_in_argv(&p->images[0], fd->fd))
			exec_leak(m, i, SPAWNED, &shown, &c, ofd);
	}
}

void kt_find_exec_leaks(struct kt_model *m)
{
	struct seen *seen = NULL;
	size_t nseen = 0, seen_cap = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_process *p = m->procs[i].proc;
		spawn_leaks(m, i, &seen, &nseen, &seen_cap);
		for (size_t s = 0; s < p->nsnaps; s++) {
			const struct kt_snapshot *snap = &p->snaps[s];
			if (snap->head.why != KT_WHY_EXEC)
				continue;
			for (size_t k = 0; k < snap->nfds; k++) {
				const struct kt_fd *mfd = &snap->fds[k];
				const struct kt_rec_fd *fd = &mfd->rec;
				if (fd->fd <= 2 || fd->cloexec)
					continue;
				bool dup = false;
				for (size_t d = 0; d < nseen && !dup; d++)
					dup = seen[d].proc == (int)i && seen[d].fd == fd->fd &&
					      seen[d].gen == fd->gen;
				if (dup)
					continue;
				*KT_PUSH(seen, nseen, seen_cap) = (struct seen){(int)i, fd->fd, fd->gen};

				struct kt_chain c;
				kt_chain_walk(m, p->pid, p->start, fd->fd, fd->gen, &c);
				struct kt_node_ref ref;
				int ofd = kt_model_node(m, p->pid, p->start, fd->fd, fd->gen, &ref)
						  ? ref.ofd
						  : 0;
				/* A shell's redirection is reported whichever number open()
				 * returned (a default suppression keeps it quiet). */
				bool redirection = kt_shell_made(m, &c) != NULL;
				if (kt_chain_made_in_trace(m, &c, ofd) && (redirection || !placed(&c)) &&
				    !chain_made_inheritable(m, &c) &&
				    !named_in_argv(kt_process_image_at(p, s + 1), fd->fd))
					exec_leak(m, i, s, mfd, &c, ofd);
			}
		}
	}
	free(seen);
}

/* ---- pipe-end-held: a reader that keeps a write end ---- */

static bool pipe_end(const struct kt_rec_fd *fd, int access, const char *target)
{
	return fd->type == KT_FD_PIPE && fd->access == access && fd->target != NULL &&
	       strcmp(fd->target, target) == 0;
}

/* Whether process j had ended before process i was forked: it never
 * wrote to anything i read. Unknown times say no. */
static bool ended_before_fork_of(const struct kt_model *m, size_t j, size_t i)
{
	unsigned long long forked = m->procs[i].proc->fork_time;
	const struct kt_process *q = m->procs[j].proc;
	const struct kt_snapshot *s = m->procs[j].snap;
	if (forked == 0)
		return false;
	/* Reaped before: ended before (a pool's workers killed by SIGTERM
	 * leave no snapshot of their own). */
	if (m->procs[j].reaped_time != 0 && m->procs[j].reaped_time < forked)
		return true;
	if (s == NULL || s->head.time == 0 ||
	    (s->head.why != KT_WHY_EXIT && s->head.why != KT_WHY_EXIT_OBSERVED))
		return false;
	unsigned long long end = q->end_time != 0 ? q->end_time : s->head.time;
	return end < forked;
}

/* The process (not i) that holds only write ends of the pipe, and its
 * first write end; -1 when none. One that had ended before i was forked
 * is no writer of i's. */
static int dedicated_writer(const struct kt_model *m, size_t i, const char *target, int *writer_fd)
{
	for (size_t j = 0; j < m->nprocs; j++) {
		if (j == i || ended_before_fork_of(m, j, i))
			continue;
		const struct kt_mproc *q = &m->procs[j];
		int wfd = -1;
		bool reads = false;
		for (size_t e = 0; e < q->nfds; e++) {
			const struct kt_rec_fd *x = &q->fds[e].fd->rec;
			if (x->type != KT_FD_PIPE || x->target == NULL || strcmp(x->target, target) != 0)
				continue;
			if (x->access == O_RDONLY)
				reads = true;
			else if (wfd < 0)
				wfd = x->fd;
		}
		if (wfd >= 0 && !reads) {
			*writer_fd = wfd;
			return (int)j;
		}
	}
	return -1;
}

static void reader_holds_writer(struct kt_model *m, size_t i, size_t k, const struct kt_rec_fd *r,
				int writer, int writer_fd)
{
	const struct kt_mproc *mp = &m->procs[i];
	const struct kt_rec_fd *w = &mp->fds[k].fd->rec;
	struct kt_chain c;
	kt_chain_walk(m, mp->proc->pid, mp->proc->start, w->fd, w->gen, &c);
	if (!kt_chain_made_in_trace(m, &c, mp->fds[k].ofd))
		return;
	struct kt_finding *f = kt_finding_add(m, "pipe-end-held", KT_SEVERITY_ERROR, (int)i, w->fd,
					      mp->fds[k].ofd, w->target);
	kt_finding_made_by(f, m, &c);
	kt_finding_relate(f, writer);
	const struct kt_mproc *wp = &m->procs[writer];
	struct kt_str msg = {0}, why = {0};
	kt_str_printf(&msg,
		      "%d %s: holds fd %d, a write end of %s, and its read end (fd %d) "
		      "that %d %s writes to",
		      mp->proc->pid, mp->name, w->fd, w->target, r->fd, wp->proc->pid, wp->name);
	kt_str_printf(&why,
		      "%d (%s) holds the read end of %s, fd %d, and also a write end, fd %d: when "
		      "the writer, %d (%s) fd %d, is done, a read of fd %d that waits for end of "
		      "file never returns, because this process itself still holds a write end "
		      "(whether it reads is not recorded; a live snapshot of a hang shows it). The "
		      "write end was ",
		      mp->proc->pid, mp->name, w->target, r->fd, w->fd, wp->proc->pid, wp->name,
		      writer_fd, r->fd);
	kt_chain_describe(&why, m, &c, false);
	kt_str_printf(&why,
		      ". Fix: close fd %d in %d (%s) right after the fork that gave the writer its copy.",
		      w->fd, mp->proc->pid, mp->name);
	kt_finding_say(f, &msg, &why);
}

/* A process holding both ends of a pipe made in the trace, while another
 * process holds only its write end (a dedicated writer): the reader waits
 * for end of file that its own write end prevents. Processes that all hold
 * both ends (fork without closing, nobody reading to EOF) are not flagged. */
void kt_find_readers_holding_writers(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		for (size_t k = 0; k < mp->nfds; k++) {
			const struct kt_rec_fd *w = &mp->fds[k].fd->rec;
			if (w->type != KT_FD_PIPE || w->access != O_WRONLY || w->target == NULL)
				continue;
			/* Only the first write end of this pipe in this process. */
			bool earlier = false;
			for (size_t e = 0; e < k && !earlier; e++)
				earlier = pipe_end(&mp->fds[e].fd->rec, O_WRONLY, w->target);
			if (earlier || kt_finding_exists(m, "pipe-end-held", (int)i, w->fd))
				continue;
			const struct kt_rec_fd *r = NULL;
			for (size_t e = 0; e < mp->nfds && r == NULL; e++)
				if (pipe_end(&mp->fds[e].fd->rec, O_RDONLY, w->target))
					r = &mp->fds[e].fd->rec;
			int writer_fd = -1;
			int writer = r != NULL ? dedicated_writer(m, i, w->target, &writer_fd) : -1;
			if (writer >= 0)
				reader_holds_writer(m, i, k, r, writer, writer_fd);
		}
	}
}

/* ---- pipe-end-held, sockets: a process keeps the end it handed over ---- */

static int ofd_of_fd(const struct kt_mproc *mp, int fd, const struct kt_rec_fd **rec)
{
	for (size_t k = 0; k < mp->nfds; k++)
		if (mp->fds[k].fd->rec.fd == fd) {
			*rec = &mp->fds[k].fd->rec;
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

static void peer_held(struct kt_model *m, size_t i, const struct kt_rec_fd *held, int ofd_held,
		      const struct kt_rec_fd *own, int user)
{
	const struct kt_mproc *mp = &m->procs[i];
	struct kt_chain c;
	kt_chain_walk(m, mp->proc->pid, mp->proc->start, held->fd, held->gen, &c);
	if (!kt_chain_made_in_trace(m, &c, ofd_held))
		return;
	struct kt_finding *f = kt_finding_add(m, "pipe-end-held", KT_SEVERITY_ERROR, (int)i, held->fd,
					      ofd_held, held->target);
	kt_finding_made_by(f, m, &c);
	kt_finding_relate(f, user);
	struct kt_str msg = {0}, why = {0};
	const struct kt_mproc *u = &m->procs[user];
	kt_str_printf(&msg,
		      "%d %s: holds fd %d, the socketpair end that %d %s uses, while talking through "
		      "the other end (fd %d)",
		      mp->proc->pid, mp->name, held->fd, u->proc->pid, u->name, own->fd);
	kt_str_printf(&why,
		      "%d (%s) talks to %d (%s) over a socketpair through fd %d, but also holds the "
		      "other end, fd %d (%s), the one %d uses: when %d closes its end or exits, a "
		      "read on fd %d never sees end of file, because this process itself still "
		      "holds that end. It was ",
		      mp->proc->pid, mp->name, u->proc->pid, u->name, own->fd, held->fd,
		      kt_target_of(held), u->proc->pid, u->proc->pid, own->fd);
	kt_chain_describe(&why, m, &c, false);
	kt_str_printf(&why, ". Fix: close fd %d in %d (%s) right after the fork that gave %d its copy.",
		      held->fd, mp->proc->pid, mp->name, u->proc->pid);
	kt_finding_say(f, &msg, &why);
}

/* A process holds both ends of a socketpair while another process holds one
 * of them (and not the other): when that process closes its end, this one,
 * talking through its own end, never sees end of file, because it still
 * holds the far end itself. */
void kt_find_socket_peers_held(struct kt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		for (size_t pp = 0; mp->snap != NULL && pp < mp->snap->npeers; pp++) {
			const struct kt_rec_peer *peer = &mp->snap->peers[pp];
			const int ends[2] = {peer->fd, peer->fd2};
			for (int h = 0; h < 2; h++) {
				const struct kt_rec_fd *held = NULL, *own = NULL;
				int ofd_held = ofd_of_fd(mp, ends[h], &held);
				int ofd_own = ofd_of_fd(mp, ends[1 - h], &own);
				if (!ofd_held || !ofd_own ||
				    kt_finding_exists(m, "pipe-end-held", (int)i, held->fd))
					continue;
				int user = -1;
				for (size_t j = 0; j < m->nprocs && user < 0; j++)
					if (j != i && holds_ofd(&m->procs[j], ofd_held) &&
					    !holds_ofd(&m->procs[j], ofd_own))
						user = (int)j;
				if (user >= 0)
					peer_held(m, i, held, ofd_held, own, user);
			}
		}
	}
}
