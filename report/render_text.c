/* The text report: a summary line, shared open file descriptions with their
 * holders and origins, descriptors that share nothing, the process tree and
 * findings, each line fitted to KT_TEXT_COLUMNS. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "blocked.h"
#include "json.h"
#include "render.h"
#include "render_text.h"
#include "shell.h"
#include "symbolize.h"
#include "unrecorded.h"

/* Append s made printable and cut to at most max columns: control bytes and
 * invalid UTF-8 become '?', a cut is shown with "..." at the end, or at the
 * start when keep_tail (the end of a path says most). Returns columns used. */
size_t kt_text_fitted(struct kt_str *l, const char *s, size_t max, bool keep_tail)
{
	/* Collect the characters (byte offset and length of each). */
	size_t n = strlen(s), nchars = 0;
	size_t *offs = kt_xmalloc((n + 1) * sizeof *offs);
	unsigned char *lens = kt_xmalloc(n + 1);
	for (size_t i = 0; i < n;) {
		size_t len = kt_utf8_sequence_length((const unsigned char *)s + i, n - i);
		offs[nchars] = i;
		lens[nchars] = (unsigned char)len; /* 0: invalid, shown as '?' */
		nchars++;
		i += len ? len : 1;
	}
	size_t first = 0, last = nchars; /* the range shown */
	bool cut = nchars > max;
	if (cut) {
		size_t room = max > 3 ? max - 3 : max;
		if (keep_tail)
			first = nchars - room;
		else
			last = room;
		if (max > 3 && keep_tail)
			kt_str_add(l, "...", 3);
	}
	for (size_t c = first; c < last; c++) {
		unsigned char b = (unsigned char)s[offs[c]];
		if (lens[c] == 0 || (lens[c] == 1 && (b < 0x20 || b == 0x7f)))
			kt_str_add(l, "?", 1);
		else
			kt_str_add(l, s + offs[c], lens[c]);
	}
	if (cut && max > 3 && !keep_tail)
		kt_str_add(l, "...", 3);
	free(offs);
	free(lens);
	return cut ? max : nchars;
}

size_t kt_text_room(const struct kt_str *l)
{
	size_t used = kt_utf8_columns(l->s ? l->s : "", l->len);
	return used < KT_TEXT_COLUMNS ? KT_TEXT_COLUMNS - used : 0;
}

void kt_text_flush(struct kt_text_out *o)
{
	if (o->line.len > 0)
		fwrite(o->line.s, 1, o->line.len, o->file);
	fputc('\n', o->file);
	o->line.len = 0;
	if (o->line.s != NULL)
		o->line.s[0] = '\0';
}

void kt_text_proc_label(struct kt_text_out *o, const struct kt_mproc *mp)
{
	kt_str_printf(&o->line, "%*d ", o->pid_width, mp->proc->pid);
	kt_text_style(o, KT_STYLE_PROGRAM);
	size_t used = kt_text_fitted(&o->line, mp->name, KT_TEXT_NAME_COLUMNS, false);
	kt_text_style_end(o);
	for (size_t i = used; i < (size_t)o->name_width; i++)
		kt_str_add(&o->line, " ", 1);
}

/* Where a descriptor was made, for people: "func+0xNN (file.c:17)", then
 * up to stack_frames - 1 of its callers ("< caller+0x10 (main.c:3)"). */
static const char *site_where(const struct kt_model *m, const struct kt_fd *fd, char *buf,
			      size_t len)
{
	if (fd->origin.site == NULL)
		return NULL;
	struct kt_symbol sym;
	kt_symbolize_full(fd->origin.site, &sym);
	size_t used = (size_t)snprintf(buf, len, "%s", sym.where);
	for (size_t i = 0; i < fd->nstack && (int)i + 1 < m->stack_frames && used < len; i++) {
		kt_symbolize_full(fd->stack[i], &sym);
		used += (size_t)snprintf(buf + used, len - used, " < %s", sym.where);
	}
	return buf;
}

/* What the shim did not see made: in a process with no traced parent it
 * came from outside at start; elsewhere we cannot tell. */
static const char *unknown_origin(const struct kt_model *m, size_t proc, const struct kt_rec_fd *fd)
{
	if (kt_model_made_untraced(m, proc, fd))
		/* after the exec into it (else: a child of an untraced image,
		 * inherited or made, we cannot tell) */
		return m->procs[proc].proc->untraced_snap > 0 ? "made by the untraced image"
							      : "origin unknown (untraced image)";
	/* a later generation: the number was in use before */
	return m->procs[proc].parent < 0 && fd->gen <= 2 ? "present at start" : "origin unknown";
}

/* What a descriptor was made as (origin.made), in words. */
static const char *made_words(const char *made)
{
	return strcmp(made, KT_MADE_SHELL_REDIRECTION) == 0 ? "shell redirection" : made;
}

/* The origin in words; caller frees. */
static char *origin_text(const struct kt_model *m, size_t proc, const struct kt_fd *fd)
{
	const struct kt_origin *o = &fd->origin;
	char site_buf[4096];
	const char *site = site_where(m, fd, site_buf, sizeof site_buf);
	const char *call = kt_call_name((enum kt_call)o->call);
	const char *at = site ? " at " : "";
	site = site ? site : "";
	struct kt_str text = {0};
	/* First, so that a line cut to fit keeps it. */
	if (o->made != NULL)
		kt_str_printf(&text, "%s: ", made_words(o->made));
	switch (o->how) {
	case KT_HOW_OPEN:
		kt_str_printf(&text, "%s%s%s", call ? call : "opened", at, site);
		break;
	case KT_HOW_DUP:
		kt_str_printf(&text, "%s of fd %d%s%s", call ? call : "dup", o->src_fd, at, site);
		break;
	case KT_HOW_INHERITED:
		if (o->src_fd >= 0)
			kt_str_printf(&text, "inherited from %d fd %d", o->src_pid, o->src_fd);
		else /* the far end of a pipe its parent's popen made */
			kt_str_printf(&text, "inherited from %d (%s)", o->src_pid, call ? call : "?");
		break;
	case KT_HOW_EXEC:
		kt_str_printf(&text, "kept across exec");
		if (o->before == KT_HOW_DUP)
			kt_str_printf(&text, " (%s of fd %d%s%s)", call ? call : "dup", o->src_fd, at,
				      site);
		else if (o->before == KT_HOW_INHERITED)
			kt_str_printf(&text, " (inherited from %d fd %d)", o->src_pid, o->src_fd);
		else if (call != NULL)
			kt_str_printf(&text, " (%s%s%s)", call, at, site);
		break;
	case KT_HOW_RECEIVED:
		kt_str_printf(&text, "received");
		if (o->src_pid != 0)
			kt_str_printf(&text, " from %d", o->src_pid);
		if (o->src_pid != 0 && o->src_fd >= 0)
			kt_str_printf(&text, " fd %d", o->src_fd);
		if (call != NULL)
			kt_str_printf(&text, " by %s%s%s", call, at, site);
		break;
	default:
		kt_str_printf(&text, "%s", unknown_origin(m, proc, &fd->rec));
		break;
	}
	return kt_str_take(&text);
}

/* The origin after a holder's label: wrapped, never cut (a site's
 * file:line must stay whole). */
static void add_origin(struct kt_text_out *o, const struct kt_model *m, size_t proc, const struct kt_fd *fd)
{
	char *text = origin_text(m, proc, fd);
	kt_text_flow(o, text, 8);
	free(text);
}

/* Characters of s (bytes s[0..n)) that fit in room columns, at least one:
 * how many bytes they take. */
static size_t bytes_fitting(const char *s, size_t n, size_t room)
{
	size_t used = 0, cols = 0;
	while (used < n) {
		size_t len = kt_utf8_sequence_length((const unsigned char *)s + used, n - used);
		len = len ? len : 1;
		if (cols + 1 > room && used > 0)
			break;
		cols++;
		used += len;
	}
	return used;
}

/* One word at the end of the line, split over lines when it is longer
 * than a whole one: nothing of it is cut. */
static void flow_word(struct kt_text_out *o, const char *w, size_t n, size_t indent)
{
	while (n > 0) {
		size_t take = bytes_fitting(w, n, kt_text_room(&o->line));
		char *piece = kt_xmalloc(take + 1);
		memcpy(piece, w, take);
		piece[take] = '\0';
		kt_text_fitted(&o->line, piece, take, false);
		free(piece);
		w += take;
		n -= take;
		if (n > 0) {
			kt_text_flush(o);
			kt_str_printf(&o->line, "%*s", (int)indent, "");
		}
	}
}

void kt_text_flow(struct kt_text_out *o, const char *text, size_t indent)
{
	bool first = true;
	for (const char *p = text; *p != '\0';) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t n = strcspn(p, " ");
		size_t cols = kt_utf8_columns(p, n) + (first ? 0 : 1);
		if (cols > kt_text_room(&o->line) && kt_utf8_columns(o->line.s, o->line.len) > indent) {
			kt_text_flush(o);
			kt_str_printf(&o->line, "%*s", (int)indent, "");
		} else if (!first) {
			kt_str_add(&o->line, " ", 1);
		}
		flow_word(o, p, n, indent);
		first = false;
		p += n;
	}
}

/* A paragraph wrapped at word boundaries to the report's width, every line
 * indented; a word longer than a line goes on over the next. */
void kt_text_paragraph(struct kt_text_out *o, const char *text, size_t indent)
{
	kt_str_printf(&o->line, "%*s", (int)indent, "");
	kt_text_flow(o, text, indent);
	kt_text_flush(o);
}

/* "not recorded (seccomp)": its notes say what and why. */
static void add_unrecorded_mark(struct kt_text_out *o, const struct kt_mproc *mp)
{
	const struct kt_process *p = mp->proc;
	if (p->nunrecorded == 0)
		return;
	const struct kt_rec_unrecorded *u = &p->unrecorded[p->nunrecorded - 1];
	const char *cause = kt_unrecorded_cause(u);
	kt_str_printf(&o->line, "  not recorded");
	if (u->what == KT_LOST_EXEC)
		kt_str_printf(&o->line, " after exec of %s", kt_unrecorded_program(mp));
	if (cause != NULL)
		kt_str_printf(&o->line, " (%s)", cause);
}

static void render_tree(struct kt_text_out *o, const struct kt_model *m, int proc, int depth)
{
	const struct kt_mproc *mp = &m->procs[proc];
	char end[64];
	kt_model_end_text(mp, end, sizeof end);
	int indent = depth < 20 ? depth : 20; /* deep chains stay readable */
	kt_str_printf(&o->line, "  %*s%d ", 2 * indent, "", mp->proc->pid);
	kt_text_style(o, KT_STYLE_PROGRAM);
	kt_text_fitted(&o->line, mp->name, KT_TEXT_NAME_COLUMNS, false);
	kt_text_style_end(o);
	kt_str_printf(&o->line, "  %s", end);
	/* A live snapshot: what it waits in ("running, in read on fd 3"). */
	if (mp->end == KT_END_RUNNING && mp->snap != NULL && mp->snap->blocked != NULL &&
	    mp->snap->blocked->kind != KT_BLOCK_RUNNING) {
		char what[160];
		kt_blocked_describe(mp->snap->blocked, what, sizeof what);
		kt_str_printf(&o->line, ", in %s", what);
	}
	add_unrecorded_mark(o, mp);
	if (mp->untraced_path != NULL) {
		/* Its descriptors are the ones it held just before that exec. */
		kt_str_printf(&o->line, "  untraced after exec of %s (%s)", mp->untraced_path,
			      mp->untraced_reason);
	} else if (mp->image != NULL && mp->image->argc > 1) {
		struct kt_str args = {0};
		for (int a = 0; a < mp->image->argc; a++) {
			if (a > 0)
				kt_str_add(&args, " ", 1);
			kt_str_add(&args, mp->image->argv[a], strlen(mp->image->argv[a]));
		}
		kt_str_add(&o->line, "  ", 2);
		kt_text_fitted(&o->line, args.s, kt_text_room(&o->line), false);
		free(args.s);
	}
	kt_text_flush(o);
	for (size_t c = 0; c < mp->nchildren; c++)
		render_tree(o, m, mp->children[c], depth + 1);
}

static void render_summary(struct kt_text_out *o, const struct kt_model *m)
{
	size_t running = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		running += m->procs[i].end == KT_END_RUNNING;
	kt_str_printf(&o->line, "kcmptrace: %zu process%s, %zu shared open file description%s",
		      m->nprocs, m->nprocs == 1 ? "" : "es", m->nshared, m->nshared == 1 ? "" : "s");
	if (running > 0)
		kt_str_printf(&o->line, " (%zu process%s still running)", running,
			      running == 1 ? "" : "es");
	kt_text_flush(o);
	if (!m->kcmp_available) {
		kt_str_printf(&o->line, "kcmp unavailable (");
		kt_text_fitted(&o->line, kt_errno_name(m->kcmp_error), 30, false);
		kt_str_printf(&o->line, "): sharing below comes from dup/fork tracking only");
		kt_text_flush(o);
	}
	kt_text_flush(o);
}

void kt_text_count(struct kt_str *t, size_t n)
{
	if (n >= 1000) {
		kt_text_count(t, n / 1000);
		kt_str_printf(t, ",%03zu", n % 1000);
	} else {
		kt_str_printf(t, "%zu", n);
	}
}

/* A description held by more than HOLDERS_LISTED_MAX descriptors lists its
 * first HOLDERS_LISTED holders and sums all of them up by program (a
 * build's stdio is held by every compiler it runs); JSON lists them all. */
#define HOLDERS_LISTED_MAX 10
#define HOLDERS_LISTED 5
#define PROGRAMS_NAMED 10

struct program_count {
	const char *name;
	size_t procs, first;
};

static int by_count(const void *a, const void *b)
{
	const struct program_count *x = a, *y = b;
	if (x->procs != y->procs)
		return x->procs > y->procs ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* One item of a list after a lead on the line, ", " between items, a new
 * line (indented 6) when the item does not fit; never cut inside an item. */
static void add_list_item(struct kt_text_out *o, const char *item, bool first)
{
	size_t cols = kt_utf8_columns(item, strlen(item));
	if (!first)
		kt_str_add(&o->line, ",", 1);
	if (kt_text_room(&o->line) < cols + 1) {
		kt_text_flush(o);
		kt_str_add(&o->line, "     ", 5);
	}
	kt_str_add(&o->line, " ", 1);
	kt_text_fitted(&o->line, item, kt_text_room(&o->line), false);
}

/* "1,303 holders in 1,303 processes, the first 5 above: make (3), cc (140), ..." */
static void render_holders_summed(struct kt_text_out *o, const struct kt_model *m,
				  const struct kt_ofd *ofd)
{
	struct program_count *progs = NULL;
	size_t nprogs = 0, cap = 0, nprocs = 0;
	for (size_t h = 0; h < ofd->nholders; h++) {
		int proc = ofd->holders[h].proc;
		if (h > 0 && ofd->holders[h - 1].proc == proc)
			continue; /* the same process (holders are in process order) */
		nprocs++;
		size_t p = 0;
		while (p < nprogs && strcmp(progs[p].name, m->procs[proc].name) != 0)
			p++;
		if (p == nprogs)
			*KT_PUSH(progs, nprogs, cap) = (struct program_count){m->procs[proc].name, 0, p};
		progs[p].procs++;
	}
	qsort(progs, nprogs, sizeof *progs, by_count);
	struct kt_str t = {0};
	kt_str_add(&o->line, "    ", 4);
	kt_text_count(&o->line, ofd->nholders);
	kt_str_printf(&o->line, " holders in ");
	kt_text_count(&o->line, nprocs);
	kt_str_printf(&o->line, " processes, the first %d above:", HOLDERS_LISTED);
	size_t others = 0;
	for (size_t p = 0; p < nprogs; p++) {
		if (p >= PROGRAMS_NAMED) {
			others += progs[p].procs;
			continue;
		}
		t.len = 0;
		kt_str_printf(&t, "%s (", progs[p].name);
		kt_text_count(&t, progs[p].procs);
		kt_str_add(&t, ")", 1);
		add_list_item(o, t.s, p == 0);
	}
	if (others > 0) {
		t.len = 0;
		kt_str_printf(&t, "and %zu other programs (", nprogs - PROGRAMS_NAMED);
		kt_text_count(&t, others);
		kt_str_printf(&t, " processes)");
		add_list_item(o, t.s, false);
	}
	kt_text_flush(o);
	free(t.s);
	free(progs);
}

static void render_shared(struct kt_text_out *o, const struct kt_model *m)
{
	kt_text_styled(o, KT_STYLE_HEADING, "Shared open file descriptions");
	kt_str_printf(&o->line, "%s", m->nshared ? "" : ": none");
	kt_text_flush(o);
	for (size_t i = 0; i < m->nofds; i++) {
		const struct kt_ofd *ofd = &m->ofds[i];
		const struct kt_rec_fd *first = &ofd->first->rec;
		if (ofd->nholders < 2)
			continue;
		const char *access = kt_access_name(first->access);
		kt_str_printf(&o->line, "  ofd %d  %s  %s  ", ofd->id, kt_fd_type_name(first->type),
			      access ? access : "?");
		const char *evidence = ofd->evidence == KT_EVIDENCE_KCMP ? "  (kcmp)" : "  (tracked)";
		size_t room = kt_text_room(&o->line);
		room = room > strlen(evidence) ? room - strlen(evidence) : 0;
		char *shown = kt_target_shown(ofd->first);
		kt_text_fitted(&o->line, shown, room, true);
		free(shown);
		kt_str_add(&o->line, evidence, strlen(evidence));
		kt_text_flush(o);
		bool summed = ofd->nholders > HOLDERS_LISTED_MAX;
		for (size_t h = 0; h < ofd->nholders && (!summed || h < HOLDERS_LISTED); h++) {
			kt_str_add(&o->line, "    ", 4);
			kt_text_proc_label(o, &m->procs[ofd->holders[h].proc]);
			kt_str_printf(&o->line, "  fd %-2d  ", ofd->holders[h].fd);
			add_origin(o, m, (size_t)ofd->holders[h].proc, ofd->holders[h].rec);
			kt_text_flush(o);
		}
		if (summed)
			render_holders_summed(o, m, ofd);
	}
}

/* One descriptor that shares nothing: target, then its origin, wrapped
 * onto the next lines when long (a site is never cut). */
static void render_unshared_fd(struct kt_text_out *o, const struct kt_model *m, size_t i,
			       const struct kt_fd *mfd)
{
	const struct kt_rec_fd *fd = &mfd->rec;
	const char *access = kt_access_name(fd->access);
	kt_str_add(&o->line, "  ", 2);
	kt_text_proc_label(o, &m->procs[i]);
	kt_str_printf(&o->line, "  fd %-2d  %-4s %-2s ", fd->fd, kt_fd_type_name(fd->type),
		      access ? access : "?");
	char *target = kt_target_shown(mfd);
	char *origin = origin_text(m, i, mfd);
	size_t room = kt_text_room(&o->line), target_cols = kt_utf8_columns(target, strlen(target));
	size_t origin_cols = kt_utf8_columns(origin, strlen(origin)) + 3; /* "  (" ... ")" */
	/* The origin wraps: the target keeps what it needs, short of the
	 * room for the origin's first word. */
	if (target_cols + origin_cols + 1 > room && target_cols + 14 > room)
		target_cols = room > 28 ? room - 14 : room / 2;
	kt_text_fitted(&o->line, target, target_cols, true);
	/* The origin wraps onto the next lines rather than losing its site. */
	char *said = kt_xasprintf("(%s)", origin);
	kt_str_add(&o->line, "  ", 2);
	kt_text_flow(o, said, 8);
	free(said);
	free(origin);
	free(target);
	kt_text_flush(o);
}

static void render_unshared(struct kt_text_out *o, const struct kt_model *m)
{
	size_t nunshared = 0;
	for (size_t i = 0; i < m->nofds; i++)
		nunshared += m->ofds[i].nholders == 1;
	if (nunshared == 0)
		return;
	kt_text_styled(o, KT_STYLE_HEADING, "Descriptors that share nothing");
	kt_text_flush(o);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		for (size_t k = 0; k < mp->nfds; k++)
			if (m->ofds[mp->fds[k].ofd - 1].nholders == 1)
				render_unshared_fd(o, m, i, mp->fds[k].fd);
	}
}

void kt_render_text(FILE *file, const struct kt_model *m)
{
	struct kt_text_out o = {.file = file, .pid_width = 1, .name_width = 1, .color = m->color};
	for (size_t i = 0; i < m->nprocs; i++) {
		int digits = snprintf(NULL, 0, "%d", m->procs[i].proc->pid);
		if (digits > o.pid_width)
			o.pid_width = digits;
		struct kt_str tmp = {0};
		int w = (int)kt_text_fitted(&tmp, m->procs[i].name, KT_TEXT_NAME_COLUMNS, false);
		free(tmp.s);
		if (w > o.name_width)
			o.name_width = w;
	}
	if (!m->quiet) {
		render_summary(&o, m);
		render_shared(&o, m);
		render_unshared(&o, m);
		kt_text_styled(&o, KT_STYLE_HEADING, "Process tree");
		kt_text_flush(&o);
		for (size_t i = 0; i < m->nprocs; i++)
			if (m->procs[i].parent < 0)
				render_tree(&o, m, (int)i, 0);
	}
	kt_text_findings(&o, m);
	kt_text_notes(&o, m);
	free(o.line.s);
}
