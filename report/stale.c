/* Temporary traces left behind by runs that were killed (SIGKILL of the
 * launcher, of the last traced process of a plain LD_PRELOAD run): the next
 * run removes those it can prove stale (stale.h). */
#include "stale.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracedir.h"
#include "util.h"

/* A run between making its directory and writing its first name in it
 * must not lose it: only directories untouched for this long are judged. */
#define STALE_AFTER_SECONDS 60

/* "kcmptrace.XXXXXX", as kt_trace_make_temp names them. */
static bool temp_trace_name(const char *name)
{
	return strncmp(name, "kcmptrace.", 10) == 0 && strlen(name) == 16;
}

/* A directory of ours: not a link, our user's, no one else can write it. */
static bool ours(int dfd, const char *name, time_t now)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	       st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
	       now - st.st_mtime >= STALE_AFTER_SECONDS;
}

void kt_clean_stale_traces(void)
{
	const char *parent = kt_trace_tmp_parent();
	DIR *d = opendir(parent);
	if (d == NULL)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!temp_trace_name(e->d_name) || !ours(dirfd(d), e->d_name, now))
			continue;
		char *path = kt_xasprintf("%s/%s", parent, e->d_name);
		/* What is not a trace's own name keeps the directory. */
		if (kt_trace_stale(path))
			(void)kt_trace_remove(path);
		free(path);
	}
	closedir(d);
}
