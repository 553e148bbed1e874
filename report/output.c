/* The report's -o FILE, as strace and valgrind users expect of a log: the
 * report is written into a file of its own next to FILE and renamed over
 * FILE only when complete. A launcher killed (SIGKILL) while its command
 * runs, or while it writes, leaves FILE as it was, or absent, never empty
 * nor cut short. That file is unnamed (O_TMPFILE) until the end, so a kill
 * leaves nothing behind either; a file system without O_TMPFILE gets a
 * hidden temporary (.NAME.XXXXXX) instead.
 * What cannot be renamed over keeps being written in place: a device or a
 * FIFO (-o /dev/stderr), a dangling symlink. */
#include "output.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *in_place(struct kt_output *o)
{
	o->f = fopen(o->path, "we");
	if (o->f == NULL)
		kt_warn("cannot write report to %s: %s", o->path, strerror(errno));
	return o->f;
}

static char *dir_of(const char *path)
{
	char *copy = kt_xstrdup(path);
	char *dir = kt_xstrdup(dirname(copy));
	free(copy);
	return dir;
}

/* A new file in dir: unnamed, else named .BASE.XXXXXX (o->temp). */
static int make_temp(struct kt_output *o, const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char *copy = kt_xstrdup(o->target);
	o->temp = kt_xasprintf("%s/.%s.XXXXXX", dir, basename(copy));
	free(copy);
	fd = mkostemp(o->temp, O_CLOEXEC);
	if (fd < 0) {
		free(o->temp);
		o->temp = NULL;
	}
	return fd;
}

FILE *kt_output_open(struct kt_output *o, const char *path, FILE *by_default)
{
	*o = (struct kt_output){.path = path};
	if (path == NULL)
		return o->f = by_default;
	struct stat st;
	if (stat(path, &st) == 0) {
		/* What fopen would refuse is refused now, as before. */
		if (!S_ISREG(st.st_mode) || access(path, W_OK) != 0)
			return in_place(o);
		o->target = realpath(path, NULL);
		o->mode = (int)(st.st_mode & 07777);
	} else {
		struct stat link;
		if (errno != ENOENT || lstat(path, &link) == 0)
			return in_place(o); /* a dangling symlink: fopen creates its target */
		o->target = kt_xstrdup(path);
		mode_t mask = umask(0);
		umask(mask);
		o->mode = (int)(0666 & ~mask);
	}
	if (o->target == NULL)
		return in_place(o);
	char *dir = dir_of(o->target);
	int fd = make_temp(o, dir);
	free(dir);
	if (fd < 0 || (o->f = fdopen(fd, "w")) == NULL) {
		kt_warn("cannot write report to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (o->temp != NULL)
			unlink(o->temp);
		free(o->target);
		free(o->temp);
		return NULL;
	}
	o->replace = true;
	return o->f;
}

/* Give the unnamed file a name in dir, for rename: a hidden one. */
static char *name_temp(struct kt_output *o)
{
	char *dir = dir_of(o->target);
	char *copy = kt_xstrdup(o->target);
	char from[64];
	snprintf(from, sizeof from, "/proc/self/fd/%d", fileno(o->f));
	char *name = NULL;
	for (int attempt = 0; attempt < 100 && name == NULL; attempt++) {
		char *candidate = kt_xasprintf("%s/.%s.%ld.%d", dir, basename(copy), (long)getpid(), attempt);
		if (linkat(AT_FDCWD, from, AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0)
			name = candidate;
		else
			free(candidate);
		if (name == NULL && errno != EEXIST)
			break;
	}
	free(copy);
	free(dir);
	return name;
}

bool kt_output_close(struct kt_output *o)
{
	if (o->f == stdout || o->f == stderr)
		return fflush(o->f) == 0;
	if (!o->replace) {
		if (fclose(o->f) != 0) {
			kt_warn("cannot write report to %s: %s", o->path, strerror(errno));
			return false;
		}
		return true;
	}
	errno = EIO; /* a write that failed before (ferror) */
	bool ok = !ferror(o->f) && fflush(o->f) == 0 && fchmod(fileno(o->f), (mode_t)o->mode) == 0;
	if (ok && o->temp == NULL && (o->temp = name_temp(o)) == NULL)
		ok = false;
	if (ok && rename(o->temp, o->target) != 0)
		ok = false;
	int err = errno;
	if (fclose(o->f) != 0 && ok) {
		ok = false;
		err = errno;
		unlink(o->target); /* written in part: no report rather than half of one */
	}
	if (!ok) {
		if (o->temp != NULL)
			unlink(o->temp);
		kt_warn("cannot write report to %s: %s", o->path, strerror(err));
	}
	free(o->target);
	free(o->temp);
	return ok;
}
