/* Shell redirections: descriptors a shell opened because the script said
 * so (`exec 3<file`, `cmd 5>file`, `exec {fd}>file`). The script wants the
 * programs it runs to have them, so they are no leak; a built-in
 * suppression (suppress.c, made=shell-redirection) keeps them out of the
 * findings unless --default-suppressions=no.
 *
 * A descriptor is one when its own history, walked back (chain.h), starts
 * with a file opened by name (open, openat, creat...) in a shell's own code
 * (bash, dash, sh, zsh, ksh, mksh, ash, yash, posh, busybox sh), then was
 * at most moved by that shell (dup2, dup3, fcntl F_DUPFD: to the number the
 * script named), inherited across fork and kept across exec. Whether open()
 * returned the named number at once or a lower one that the shell then
 * moved makes no difference. */
#ifndef KT_SHELL_H
#define KT_SHELL_H

#include <stdbool.h>

#include "chain.h"
#include "model.h"

#define KT_MADE_SHELL_REDIRECTION "shell-redirection"

/* Whether a program name (a basename) is a shell's. */
bool kt_shell_name(const char *name);

/* Whether the image runs a shell: its program, or busybox run as sh. */
bool kt_shell_image(const struct kt_rec_image *im);

/* What the chain's descriptor was made as: KT_MADE_SHELL_REDIRECTION, or
 * NULL when nothing special. */
const char *kt_shell_made(const struct kt_model *m, const struct kt_chain *c);

/* Set origin.made of every descriptor of the model's snapshots. */
void kt_shell_mark(struct kt_model *m);

#endif
