/* Contexts of findings (findings_group.h): the key that puts findings
 * together, and the target pattern a context is told with. */
#include "findings_group.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "util.h"

/* s with every run of digits written as one '*': what the numbers of
 * pipe:[INODE] or a temporary file's name do not change. */
static void add_masked(struct kt_str *t, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			kt_str_add(t, p, 1);
		else if (p == s || !isdigit((unsigned char)p[-1]))
			kt_str_add(t, "*", 1);
	}
}

static bool is_path(const char *target)
{
	return target != NULL && target[0] == '/';
}

/* Where a pattern may cut: at a '/' in a path, at punctuation elsewhere. */
static bool boundary(char c, bool path)
{
	return path ? c == '/' : !isalnum((unsigned char)c);
}

/* The common prefix and suffix of strings s[0..n), cut at boundaries, with
 * '*' between them; s[0] when they are all the same. */
static void add_common(struct kt_str *t, const char *const *s, size_t n, bool path)
{
	size_t len0 = strlen(s[0]), pre = len0, suf = len0, shortest = len0;
	bool same = true;
	for (size_t i = 1; i < n; i++) {
		size_t len = strlen(s[i]), p = 0, q = 0;
		while (p < pre && p < len && s[0][p] == s[i][p])
			p++;
		while (q < suf && q < len && s[0][len0 - 1 - q] == s[i][len - 1 - q])
			q++;
		pre = p;
		suf = q;
		shortest = len < shortest ? len : shortest;
		same = same && strcmp(s[0], s[i]) == 0;
	}
	if (same) {
		kt_str_add(t, s[0], len0);
		return;
	}
	while (pre > 0 && !boundary(s[0][pre - 1], path))
		pre--;
	if (suf > shortest - pre)
		suf = shortest - pre;
	while (suf > 0 && !boundary(s[0][len0 - suf], path))
		suf--;
	kt_str_add(t, s[0], pre);
	kt_str_add(t, "*", 1);
	kt_str_add(t, s[0] + len0 - suf, suf);
}

char *kt_target_pattern(const char *const *targets, size_t n)
{
	struct kt_str t = {0};
	bool paths = true;
	for (size_t i = 0; i < n; i++)
		paths = paths && is_path(targets[i]);
	if (n == 0 || !paths) {
		if (n > 0)
			add_common(&t, targets, n, false);
		return kt_str_take(&t);
	}
	/* Directories (without the last '/') and last components apart. */
	const char **dirs = kt_xmalloc(n * sizeof *dirs);
	bool same_base = true;
	const char *base0 = kt_basename(targets[0]);
	for (size_t i = 0; i < n; i++) {
		const char *base = kt_basename(targets[i]);
		size_t dir_len = base > targets[i] ? (size_t)(base - targets[i]) - 1 : 0;
		char *dir = kt_xmalloc(dir_len + 1);
		memcpy(dir, targets[i], dir_len);
		dir[dir_len] = '\0';
		dirs[i] = dir;
		same_base = same_base && strcmp(base, base0) == 0;
	}
	add_common(&t, dirs, n, true);
	kt_str_add(&t, "/", 1);
	if (same_base)
		kt_str_add(&t, base0, strlen(base0));
	else
		add_masked(&t, base0);
	for (size_t i = 0; i < n; i++)
		free((char *)dirs[i]);
	free(dirs);
	return kt_str_take(&t);
}

/* What findings of one context share: kind, severity, origin and the shape
 * of the target (a path's last component, digits aside; a pipe's or
 * socket's kind). Fields are separated by '\n', which none contains. */
static char *context_key(const struct kt_finding *f)
{
	struct kt_str k = {0};
	const struct kt_finding_origin *o = &f->origin;
	kt_str_printf(&k, "%s\n%d\n%s\n%s\n%s\n", f->kind, (int)f->severity,
		      o->program ? o->program : "", o->call ? o->call : "", o->site ? o->site : "");
	if (is_path(f->target)) {
		kt_str_add(&k, "/", 1);
		add_masked(&k, kt_basename(f->target));
	} else if (f->target != NULL) {
		add_masked(&k, f->target); /* never empty, never starting with '/' */
	}
	return kt_str_take(&k);
}

struct key_entry {
	char *key;
	int id;
	UT_hash_handle hh;
};

static void add_member(struct kt_finding_context *c, const struct kt_finding *f)
{
	c->count++;
	if (c->nprocs == 0 || c->procs[c->nprocs - 1] != f->proc) {
		/* A process's findings are next to each other (sorted by process). */
		c->procs = kt_xrealloc(c->procs, (c->nprocs + 1) * sizeof *c->procs);
		c->procs[c->nprocs++] = f->proc;
	}
	if (f->fd >= 0 && (c->fd_min < 0 || f->fd < c->fd_min))
		c->fd_min = f->fd;
	if (f->fd > c->fd_max)
		c->fd_max = f->fd;
}

/* The target of each context: the pattern of its findings' targets. */
static void context_targets(const struct kt_model *m, struct kt_finding_contexts *cx)
{
	for (size_t c = 0; c < cx->n; c++) {
		struct kt_finding_context *ctx = &cx->items[c];
		const char **targets = kt_xmalloc(ctx->count * sizeof *targets);
		size_t n = 0;
		for (size_t i = ctx->first; i < m->nfindings && n < ctx->count; i++)
			if (cx->of[i] == ctx->id && m->findings[i].target != NULL)
				targets[n++] = m->findings[i].target;
		ctx->target = n > 0 ? kt_target_pattern(targets, n) : NULL;
		free(targets);
	}
}

void kt_finding_contexts_build(const struct kt_model *m, struct kt_finding_contexts *cx)
{
	memset(cx, 0, sizeof *cx);
	cx->of = kt_xcalloc(m->nfindings, sizeof *cx->of);
	struct key_entry *index = NULL, *e, *tmp;
	size_t cap = 0;
	for (size_t i = 0; i < m->nfindings; i++) {
		const struct kt_finding *f = &m->findings[i];
		char *key = context_key(f);
		HASH_FIND_STR(index, key, e);
		if (e == NULL) {
			struct kt_finding_context *c = KT_PUSH(cx->items, cx->n, cap);
			*c = (struct kt_finding_context){.id = (int)cx->n, .first = i, .fd_min = -1,
							 .fd_max = -1};
			e = kt_xmalloc(sizeof *e);
			e->key = key;
			e->id = c->id;
			HASH_ADD_KEYPTR(hh, index, e->key, strlen(e->key), e);
		} else {
			free(key);
		}
		cx->of[i] = e->id;
		add_member(&cx->items[e->id - 1], f);
		cx->by_severity[f->severity]++;
	}
	HASH_ITER(hh, index, e, tmp) {
		HASH_DEL(index, e);
		free(e->key);
		free(e);
	}
	context_targets(m, cx);
}

void kt_finding_contexts_free(struct kt_finding_contexts *cx)
{
	for (size_t c = 0; c < cx->n; c++) {
		free(cx->items[c].procs);
		free(cx->items[c].target);
	}
	free(cx->items);
	free(cx->of);
	memset(cx, 0, sizeof *cx);
}
