/* Fuzz target: the whole path a trace directory takes through the report
 * (trace loader, record parser, model, findings, every renderer).
 *
 * One input is up to MAX_FILES record files, each after a line "%%NAME"
 * (NAME: PID-START, the file is then NAME.rec; anything else gets a name of
 * its own), text before the first such line being a file too. They are
 * written to a private directory; processes are not looked up in /proc.
 * Built with clang -fsanitize=fuzzer (scripts/fuzz); in other builds
 * main() below replays the inputs named on the command line (the seed
 * corpus and tests/fuzz/regressions, run by ctest). */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "findings.h"
#include "model.h"
#include "render.h"
#include "symbolize.h"
#include "trace.h"

#define MAX_FILES 6

static char dir[64];
static char outcome[1100]; /* what the last input gave, for the replay */
static char written[MAX_FILES][160];
static int nwritten;

/* The file's name from "%%NAME" (at most 40 digits and '-'), else FILE<i>. */
static void file_name(char *out, size_t n, const char *name, size_t len, int i)
{
	bool ok = len > 0 && len <= 40 && isdigit((unsigned char)name[0]);
	for (size_t k = 0; ok && k < len; k++)
		ok = isdigit((unsigned char)name[k]) || name[k] == '-';
	if (ok)
		snprintf(out, n, "%s/%.*s.rec", dir, (int)len, name);
	else
		snprintf(out, n, "%s/%d-%d.rec", dir, 4194400 + i, 1000 + i);
}

static void write_file(const char *path, const char *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, p, len) != (ssize_t)len)
		abort();
	close(fd);
	strcpy(written[nwritten++], path);
}

static void write_records(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *name = NULL;
	size_t name_len = 0;
	nwritten = 0;
	for (int i = 0; i < MAX_FILES && p < end; i++) {
		if (end - p >= 2 && p[0] == '%' && p[1] == '%') {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			name = p + 2;
			name_len = (size_t)((nl ? nl : end) - name);
			p = nl ? nl + 1 : end;
		}
		const char *next = i + 1 < MAX_FILES ? memmem(p, (size_t)(end - p), "\n%%", 3) : NULL;
		const char *stop = next ? next + 1 : end;
		char path[160];
		file_name(path, sizeof path, name, name_len, i);
		if (access(path, F_OK) != 0)
			write_file(path, p, (size_t)(stop - p));
		p = stop;
		name = NULL;
	}
}

static void remove_records(void)
{
	for (int i = 0; i < nwritten; i++)
		unlink(written[i]);
}

static void render_all(struct kt_model *model)
{
	static const enum kt_format formats[] = {KT_FORMAT_TEXT, KT_FORMAT_JSON, KT_FORMAT_DOT};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);
		if (out == NULL)
			abort();
		kt_render(out, model, formats[i]);
		fclose(out);
		free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/kt_fuzz.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	write_records(data, size);
	struct kt_error err = {{0}};
	struct kt_trace *trace = kt_trace_load(dir, &err);
	if (trace == NULL)
		snprintf(outcome, sizeof outcome, "rejected: %s", err.msg);
	else
		snprintf(outcome, sizeof outcome, "%zu processes", trace->nprocs);
	if (trace != NULL) {
		struct kt_model *model = kt_model_build(trace);
		struct kt_findings_options options = {.leaks = true};
		kt_findings_find(model, &options);
		model->stack_frames = 2;
		render_all(model);
		kt_model_free(model);
		kt_trace_free(trace);
		kt_symbolize_reset();
	}
	remove_records();
	return 0;
}

#ifndef KT_LIBFUZZER
/* Replay: each argument is an input file (a crash found once). */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (f == NULL) {
			fprintf(stderr, "fuzz_trace: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		static uint8_t buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		printf("%s: %s\n", argv[i], outcome);
	}
	rmdir(dir);
	return 0;
}
#endif
