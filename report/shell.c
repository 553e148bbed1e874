/* Shell redirections (shell.h): recognised from a descriptor's history. */
#include "shell.h"

#include <string.h>

static const char *const shells[] = {"bash", "rbash", "dash", "sh", "zsh", "ksh", "ksh93",
				     "mksh", "lksh", "pdksh", "ash", "yash", "posh", NULL};

/* The shells busybox runs as applets. */
static const char *const busybox_shells[] = {"sh", "ash", "hush", NULL};

static bool listed(const char *const *names, const char *name)
{
	for (size_t i = 0; name != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

bool kt_shell_name(const char *name)
{
	return listed(shells, name);
}

/* busybox as a shell: called sh (a link), or `busybox sh ...`. */
static bool busybox_shell(const struct kt_rec_image *im)
{
	if (im->argc > 0 && listed(busybox_shells, kt_basename(im->argv[0])))
		return true;
	return im->argc > 1 && strcmp(kt_basename(im->argv[0]), "busybox") == 0 &&
	       listed(busybox_shells, im->argv[1]);
}

bool kt_shell_image(const struct kt_rec_image *im)
{
	if (im == NULL)
		return false;
	const char *exe = im->exe != NULL ? kt_basename(im->exe) : NULL;
	if (exe != NULL && strcmp(exe, "busybox") == 0)
		return busybox_shell(im);
	if (exe != NULL)
		return kt_shell_name(exe);
	return im->argc > 0 && kt_shell_name(kt_basename(im->argv[0]));
}

/* The image that made step st's descriptor: the one running at its
 * snapshot, or, for one kept across an exec, the image before. */
static const struct kt_rec_image *maker_image(const struct kt_model *m, const struct kt_step *st)
{
	if (st->proc < 0 || st->snap < 0)
		return NULL;
	size_t snap = (size_t)st->snap;
	if (st->origin->how == KT_HOW_EXEC && snap > 0)
		snap--;
	return kt_process_image_at(m->procs[st->proc].proc, snap);
}

/* Whether the call that made step st was a shell's own: its call site is in
 * a shell's program (not a library it loaded), or, with no site, the image
 * then was a shell. */
static bool made_by_shell(const struct kt_model *m, const struct kt_step *st)
{
	const struct kt_rec_image *im = maker_image(m, st);
	const char *site = st->origin->site;
	const char *plus = site != NULL ? strstr(site, "+0x") : NULL;
	if (plus == NULL)
		return kt_shell_image(im);
	char module[4096];
	size_t n = (size_t)(plus - site);
	if (n >= sizeof module)
		return false;
	memcpy(module, site, n);
	module[n] = '\0';
	const char *base = kt_basename(module);
	if (strcmp(base, "busybox") == 0)
		return im != NULL && busybox_shell(im);
	return kt_shell_name(base);
}

/* A file opened by name (not a pipe, socket or a dup). */
static bool opens_by_name(int call)
{
	switch (call) {
	case KT_CALL_OPEN: case KT_CALL_OPEN64: case KT_CALL_OPENAT: case KT_CALL_OPENAT64:
	case KT_CALL_CREAT: case KT_CALL_CREAT64: case KT_CALL_OPEN_2: case KT_CALL_OPEN64_2:
	case KT_CALL_OPENAT_2: case KT_CALL_OPENAT64_2:
		return true;
	default:
		return false;
	}
}

/* How a shell moves a descriptor to the number the script named. */
static bool moves(int call)
{
	return call == KT_CALL_DUP2 || call == KT_CALL_DUP3 || call == KT_CALL_FCNTL ||
	       call == KT_CALL_DUP;
}

/* One step of the descriptor's own history: the shell's move, a fork, or
 * an exec that kept it. The how of a step kept across exec is what it was
 * before (origin.c). */
static bool step_ok(const struct kt_model *m, const struct kt_step *st)
{
	enum kt_how how = st->origin->how == KT_HOW_EXEC ? st->origin->before : st->origin->how;
	if (how == KT_HOW_INHERITED)
		return true;
	return how == KT_HOW_DUP && moves(st->origin->call) && made_by_shell(m, st);
}

const char *kt_shell_made(const struct kt_model *m, const struct kt_chain *c)
{
	if (c->n == 0 || c->own == 0)
		return NULL;
	const struct kt_step *root = &c->steps[c->own - 1];
	const struct kt_origin *o = root->origin;
	if (o == NULL || !o->created || o->linked || !opens_by_name(o->call) ||
	    !made_by_shell(m, root))
		return NULL;
	for (size_t i = 0; i + 1 < c->own; i++)
		if (c->steps[i].origin == NULL || !step_ok(m, &c->steps[i]))
			return NULL;
	return KT_MADE_SHELL_REDIRECTION;
}

void kt_shell_mark(struct kt_model *m)
{
	for (size_t i = 0; i < m->trace->nprocs; i++) {
		struct kt_process *p = &m->trace->procs[i];
		for (size_t s = 0; s < p->nsnaps; s++) {
			struct kt_snapshot *snap = &p->snaps[s];
			for (size_t k = 0; k < snap->nfds; k++) {
				struct kt_fd *fd = &snap->fds[k];
				struct kt_chain c;
				kt_chain_walk(m, p->pid, p->start, fd->rec.fd, fd->rec.gen, &c);
				fd->origin.made = kt_shell_made(m, &c);
			}
		}
	}
}
