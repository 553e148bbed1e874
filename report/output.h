/* The report's -o FILE: written whole or not at all (output.c). */
#ifndef KT_OUTPUT_H
#define KT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

struct kt_output {
	FILE *f;
	const char *path;  /* as given, for messages */
	char *target;      /* the file to replace (path, its symlinks followed) */
	char *temp;        /* a named temporary next to it, when O_TMPFILE is not had */
	int mode;          /* the mode it gets */
	bool replace;      /* f is a temporary, renamed over target at the end */
};

/* path, or the stream given when path is NULL. Fails (message said) when
 * path cannot be written, without touching it. */
FILE *kt_output_open(struct kt_output *o, const char *path, FILE *by_default);
/* Flush and, for a file, put it in place of path. Returns false (message
 * said) on a write error: path is then left as it was. */
bool kt_output_close(struct kt_output *o);

#endif
