/* The text report: a summary line, shared open file descriptions with their
 * holders and origins, descriptors that share nothing, the process tree and
 * findings, each line fitted to KT_TEXT_COLUMNS. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "json.h"
#include "render.h"
#include "symbolize.h"

const char *kt_site_text(const struct kt_fd *fd, char *buf, size_t buflen)
{
	if (fd->site == NULL)
		return NULL;
	return kt_symbolize(fd->site, buf, buflen);
}

/* A growable string. */
struct line {
	char *s;
	size_t len, cap;
};

static void line_add(struct line *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		l->cap = (l->len + n + 1) * 2;
		l->s = kt_xrealloc(l->s, l->cap);
	}
	memcpy(l->s + l->len, s, n);
	l->len += n;
	l->s[l->len] = '\0';
}

static void line_printf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_printf(struct line *l, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		line_add(l, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Append s made printable and cut to at most max columns: control bytes and
 * invalid UTF-8 become '?', a cut is shown with "..." at the end, or at the
 * start when keep_tail (the end of a path says most). Returns columns used. */
static size_t line_add_fitted(struct line *l, const char *s, size_t max, bool keep_tail)
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
			line_add(l, "...", 3);
	}
	for (size_t c = first; c < last; c++) {
		unsigned char b = (unsigned char)s[offs[c]];
		if (lens[c] == 0 || (lens[c] == 1 && (b < 0x20 || b == 0x7f)))
			line_add(l, "?", 1);
		else
			line_add(l, s + offs[c], lens[c]);
	}
	if (cut && max > 3 && !keep_tail)
		line_add(l, "...", 3);
	free(offs);
	free(lens);
	return cut ? max : nchars;
}

/* Columns used by the line so far (UTF-8 characters). */
static size_t line_columns(const struct line *l)
{
	size_t cols = 0;
	for (size_t i = 0; i < l->len; i++)
		cols += ((unsigned char)l->s[i] & 0xc0) != 0x80;
	return cols;
}

static size_t room_left(const struct line *l)
{
	size_t used = line_columns(l);
	return used < KT_TEXT_COLUMNS ? KT_TEXT_COLUMNS - used : 0;
}

static void line_flush(struct line *l, FILE *out)
{
	if (l->len > 0)
		fwrite(l->s, 1, l->len, out);
	fputc('\n', out);
	l->len = 0;
	if (l->s != NULL)
		l->s[0] = '\0';
}

/* Column widths shared by all sections so the eye can scan down. */
struct layout {
	int pid_width;
	int name_width;
};

#define NAME_MAX_COLUMNS 20

static void add_proc_label(struct line *l, const struct layout *lay, const struct kt_mproc *mp)
{
	line_printf(l, "%*d ", lay->pid_width, mp->proc->pid);
	size_t used = line_add_fitted(l, mp->name, NAME_MAX_COLUMNS, false);
	for (size_t i = used; i < (size_t)lay->name_width; i++)
		line_add(l, " ", 1);
}

static bool process_is_root(const struct kt_model *m, size_t proc)
{
	return m->procs[proc].parent < 0;
}

/* Where a descriptor was made, for people: "func+0xNN (file.c:17)", then
 * up to stack_frames - 1 of its callers ("< caller+0x10 (main.c:3)"). */
static const char *site_where(const struct kt_model *m, const struct kt_fd *fd, char *buf,
			      size_t len)
{
	if (fd->site == NULL)
		return NULL;
	struct kt_symbol sym;
	kt_symbolize_full(fd->site, &sym);
	size_t used = (size_t)snprintf(buf, len, "%s", sym.where);
	for (size_t i = 0; i < fd->nstack && (int)i + 1 < m->stack_frames && used < len; i++) {
		kt_symbolize_full(fd->stack[i], &sym);
		used += (size_t)snprintf(buf + used, len - used, " < %s", sym.where);
	}
	return buf;
}

/* The origin in words; caller frees. */
static char *origin_text(const struct kt_model *m, size_t proc, const struct kt_fd *fd)
{
	char site_buf[4096];
	const char *site = site_where(m, fd, site_buf, sizeof site_buf);
	const char *how = fd->how;
	struct line text = {0};
	if (strcmp(how, "open") == 0) {
		line_printf(&text, "%s", fd->call ? fd->call : "opened");
		if (site)
			line_printf(&text, " at %s", site);
	} else if (strcmp(how, "dup") == 0) {
		line_printf(&text, "%s of fd %d", fd->call ? fd->call : "dup", fd->src_fd);
		if (site)
			line_printf(&text, " at %s", site);
	} else if (strcmp(how, "inherited") == 0) {
		if (fd->src_fd >= 0)
			line_printf(&text, "inherited from %d fd %d", fd->src_pid, fd->src_fd);
		else /* the far end of a pipe its parent's popen made */
			line_printf(&text, "inherited from %d (%s)", fd->src_pid, fd->call ? fd->call : "?");
	} else if (strcmp(how, "exec") == 0) {
		line_printf(&text, "kept across exec");
		const struct kt_process *p = m->procs[proc].proc;
		if (fd->src_pid != 0 && fd->src_pid == p->pid && fd->src_start == p->start)
			line_printf(&text, " (%s of fd %d%s%s)", fd->call ? fd->call : "dup",
				    fd->src_fd, site ? " at " : "", site ? site : "");
		else if (fd->src_pid != 0)
			line_printf(&text, " (inherited from %d fd %d)", fd->src_pid, fd->src_fd);
		else if (fd->call != NULL)
			line_printf(&text, " (%s%s%s)", fd->call, site ? " at " : "", site ? site : "");
	} else if (strcmp(how, "received") == 0) {
		line_printf(&text, "received");
		if (fd->src_pid != 0)
			line_printf(&text, " from %d fd %d", fd->src_pid, fd->src_fd);
		if (fd->call)
			line_printf(&text, " by %s%s%s", fd->call, site ? " at " : "", site ? site : "");
	} else {
		/* The shim did not see it made: in a process with no traced parent
		 * it came from outside at start; elsewhere we cannot tell. */
		if (kt_model_made_untraced(m, proc, fd))
			/* after the exec into it (else: a child of an untraced image,
			 * inherited or made, we cannot tell) */
			line_printf(&text, m->procs[proc].proc->untraced_snap > 0
						   ? "made by the untraced image"
						   : "origin unknown (untraced image)");
		else
			/* a later generation: the number was in use before */
			line_printf(&text, process_is_root(m, proc) && fd->gen <= 2 ? "present at start"
										  : "origin unknown");
	}
	return text.s != NULL ? text.s : kt_xstrdup("");
}

static void add_origin(struct line *l, const struct kt_model *m, size_t proc,
		       const struct kt_fd *fd)
{
	char *text = origin_text(m, proc, fd);
	line_add_fitted(l, text, room_left(l), false);
	free(text);
}

static size_t columns_of(const char *s)
{
	size_t cols = 0;
	for (; *s != '\0'; s++)
		cols += ((unsigned char)*s & 0xc0) != 0x80;
	return cols;
}

/* A paragraph wrapped at word boundaries to the report's width, every line
 * indented; words longer than a line are cut. */
static void add_paragraph(FILE *out, struct line *l, const char *text, size_t indent)
{
	size_t width = KT_TEXT_COLUMNS - indent;
	const char *p = text;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		/* Take words while they fit. */
		const char *end = p, *last_break = NULL;
		size_t cols = 0;
		for (const char *c = p; *c != '\0'; c++) {
			if (*c == ' ')
				last_break = c;
			cols += ((unsigned char)*c & 0xc0) != 0x80;
			if (cols > width)
				break;
			end = c + 1;
		}
		if (*end != '\0' && last_break != NULL && last_break > p)
			end = last_break;
		char *piece = kt_xmalloc((size_t)(end - p) + 1);
		memcpy(piece, p, (size_t)(end - p));
		piece[end - p] = '\0';
		line_printf(l, "%*s", (int)indent, "");
		line_add_fitted(l, piece, width, false);
		line_flush(l, out);
		free(piece);
		p = end;
	}
}

static void render_tree(FILE *out, const struct kt_model *m, struct line *l,
			const struct layout *lay, int proc, int depth)
{
	const struct kt_mproc *mp = &m->procs[proc];
	char end[64];
	kt_model_end_text(mp, end, sizeof end);
	int indent = depth < 20 ? depth : 20; /* deep chains stay readable */
	line_printf(l, "  %*s%d ", 2 * indent, "", mp->proc->pid);
	line_add_fitted(l, mp->name, NAME_MAX_COLUMNS, false);
	line_printf(l, "  %s", end);
	if (mp->untraced_path != NULL) {
		/* Its descriptors are the ones it held just before that exec. */
		line_printf(l, "  untraced after exec of %s (%s)", mp->untraced_path,
			    mp->untraced_reason);
	} else if (mp->image != NULL && mp->image->argc > 1) {
		struct line args = {0};
		for (int a = 0; a < mp->image->argc; a++) {
			if (a > 0)
				line_add(&args, " ", 1);
			line_add(&args, mp->image->argv[a], strlen(mp->image->argv[a]));
		}
		line_add(l, "  ", 2);
		line_add_fitted(l, args.s, room_left(l), false);
		free(args.s);
	}
	line_flush(l, out);
	for (size_t c = 0; c < mp->nchildren; c++)
		render_tree(out, m, l, lay, mp->children[c], depth + 1);
}

void kt_render_text(FILE *out, const struct kt_model *m)
{
	struct line l = {0};
	struct layout lay = {1, 1};
	size_t running = 0, nunshared = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		int digits = snprintf(NULL, 0, "%d", m->procs[i].proc->pid);
		if (digits > lay.pid_width)
			lay.pid_width = digits;
		struct line tmp = {0};
		int w = (int)line_add_fitted(&tmp, m->procs[i].name, NAME_MAX_COLUMNS, false);
		free(tmp.s);
		if (w > lay.name_width)
			lay.name_width = w;
		running += m->procs[i].end == KT_END_RUNNING;
	}
	for (size_t i = 0; i < m->nofds; i++)
		nunshared += m->ofds[i].nholders == 1;

	line_printf(&l, "kcmptrace: %zu process%s, %zu shared open file description%s", m->nprocs,
		    m->nprocs == 1 ? "" : "es", m->nshared, m->nshared == 1 ? "" : "s");
	if (running > 0)
		line_printf(&l, " (%zu process%s still running)", running, running == 1 ? "" : "es");
	line_flush(&l, out);
	if (!m->kcmp_available) {
		const char *why = m->kcmp_detail ? strchr(m->kcmp_detail, ':') : NULL;
		line_printf(&l, "kcmp unavailable");
		if (why != NULL) {
			line_add(&l, " (", 2);
			line_add_fitted(&l, why + 1, 30, false);
			line_add(&l, ")", 1);
		}
		line_printf(&l, ": sharing below comes from dup/fork tracking only");
		line_flush(&l, out);
	}

	line_flush(&l, out);
	line_printf(&l, "Shared open file descriptions%s", m->nshared ? "" : ": none");
	line_flush(&l, out);
	for (size_t i = 0; i < m->nofds; i++) {
		const struct kt_ofd *o = &m->ofds[i];
		if (o->nholders < 2)
			continue;
		line_printf(&l, "  ofd %d  %s  %s  ", o->id, o->first->type,
			    o->first->access ? o->first->access : "?");
		const char *evidence = o->evidence == KT_EVIDENCE_KCMP ? "  (kcmp)" : "  (tracked)";
		size_t room = room_left(&l);
		room = room > strlen(evidence) ? room - strlen(evidence) : 0;
		line_add_fitted(&l, o->first->target ? o->first->target : "?", room, true);
		line_add(&l, evidence, strlen(evidence));
		line_flush(&l, out);
		for (size_t h = 0; h < o->nholders; h++) {
			const struct kt_mproc *mp = &m->procs[o->holders[h].proc];
			line_add(&l, "    ", 4);
			add_proc_label(&l, &lay, mp);
			line_printf(&l, "  fd %-2d  ", o->holders[h].fd);
			add_origin(&l, m, (size_t)o->holders[h].proc, o->holders[h].rec);
			line_flush(&l, out);
		}
	}

	if (nunshared > 0) {
		line_printf(&l, "Descriptors that share nothing");
		line_flush(&l, out);
		for (size_t i = 0; i < m->nprocs; i++) {
			const struct kt_mproc *mp = &m->procs[i];
			for (size_t k = 0; k < mp->nfds; k++) {
				const struct kt_fd *fd = mp->fds[k].fd;
				if (m->ofds[mp->fds[k].ofd - 1].nholders != 1)
					continue;
				line_add(&l, "  ", 2);
				add_proc_label(&l, &lay, mp);
				line_printf(&l, "  fd %-2d  %-4s %-2s ", fd->fd, fd->type,
					    fd->access ? fd->access : "?");
				/* Share the room between target and origin; the
				 * target keeps at least half when both are long. */
				const char *target = fd->target ? fd->target : "?";
				char *origin = origin_text(m, i, fd);
				size_t room = room_left(&l), target_cols = columns_of(target);
				size_t origin_cols = columns_of(origin) + 3; /* "  (" ... ")" */
				if (target_cols + origin_cols + 1 > room) {
					size_t half = room / 2;
					size_t budget = room > origin_cols + 1 ? room - origin_cols - 1 : 0;
					if (budget < half)
						budget = target_cols < half ? target_cols : half;
					target_cols = budget;
				}
				line_add_fitted(&l, target, target_cols, true);
				if (room_left(&l) >= 12) {
					line_add(&l, "  (", 3);
					line_add_fitted(&l, origin, room_left(&l) - 1, false);
					line_add(&l, ")", 1);
				}
				free(origin);
				line_flush(&l, out);
			}
		}
	}

	line_printf(&l, "Process tree");
	line_flush(&l, out);
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].parent < 0)
			render_tree(out, m, &l, &lay, (int)i, 0);

	if (m->nfindings > 0 || m->nsuppressed > 0) {
		line_printf(&l, "Findings");
		if (m->nfindings == 0)
			line_printf(&l, ": none");
		if (m->nsuppressed > 0)
			line_printf(&l, " (%zu suppressed)", m->nsuppressed);
		line_flush(&l, out);
		for (size_t i = 0; i < m->nfindings; i++) {
			const struct kt_finding *f = &m->findings[i];
			const struct kt_mproc *mp = &m->procs[f->proc];
			line_printf(&l, "  %s %s  %d ", kt_severity_name(f->severity), f->kind,
				    mp->proc->pid);
			line_add_fitted(&l, mp->name, NAME_MAX_COLUMNS, false);
			if (f->fd >= 0)
				line_printf(&l, "  fd %d", f->fd);
			if (f->target != NULL) {
				line_add(&l, "  ", 2);
				line_add_fitted(&l, f->target, room_left(&l), true);
			}
			line_flush(&l, out);
			if (f->explanation != NULL)
				add_paragraph(out, &l, f->explanation, 4);
		}
	}

	bool notes_header = false;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct kt_mproc *mp = &m->procs[i];
		for (size_t k = 0; k < mp->proc->nnotes; k++) {
			if (!notes_header) {
				line_printf(&l, "Notes");
				line_flush(&l, out);
				notes_header = true;
			}
			line_add(&l, "  ", 2);
			add_proc_label(&l, &lay, mp);
			line_add(&l, "  ", 2);
			line_add_fitted(&l, mp->proc->notes[k], room_left(&l), false);
			line_flush(&l, out);
		}
	}
	free(l.s);
}
