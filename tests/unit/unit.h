/* What the unit tests share: a check macro that counts checks and
 * failures, and a temporary root for the trace directories they write by
 * hand. Header only: every .c file of tests/unit is a test program of its own. */
#ifndef KT_UNIT_H
#define KT_UNIT_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int failures, checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static char root_dir[4096];

/* Make the temporary root ($TMPDIR or /tmp) for this test program. */
static inline void unit_begin(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root_dir, sizeof root_dir, "%s/kt-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (mkdtemp(root_dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
}

static inline int unit_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Report and return the exit status. */
static inline int unit_result(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d of %d checks failed\n", name, failures, checks);
		return 1;
	}
	printf("%s: all %d checks passed\n", name, checks);
	return 0;
}

/* Remove the root; report and return the exit status. */
static inline int unit_end(const char *name)
{
	nftw(root_dir, unit_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return unit_result(name);
}

/* A fresh empty trace directory under the root. */
static inline const char *new_dir(const char *name)
{
	static char path[4200];
	snprintf(path, sizeof path, "%s/%s", root_dir, name);
	if (mkdir(path, 0700) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

#endif
