/* Unit tests of findings, suppressions, stack lines, contexts of findings,
 * notes in words and the renderers on traces written by hand. Run by ctest
 * as test_findings. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "findings.h"
#include "findings_group.h"
#include "model.h"
#include "notes.h"
#include "render.h"
#include "suppress.h"
#include "trace.h"

#include "unit.h"

static char *render(const struct kt_model *m, enum kt_format format)
{
	char *s = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&s, &len);
	CHECK(kt_render(out, m, format) == 0);
	fclose(out);
	return s;
}

static const struct kt_finding *finding(const struct kt_model *m, const char *kind, int pid)
{
	for (size_t i = 0; i < m->nfindings; i++)
		if (strcmp(m->findings[i].kind, kind) == 0 && m->procs[m->findings[i].proc].proc->pid == pid)
			return &m->findings[i];
	return NULL;
}

static size_t count(const struct kt_model *m, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nfindings; i++)
		n += strcmp(m->findings[i].kind, kind) == 0;
	return n;
}

#define HDR "kcmptrace-record\t1\n"
/* fd FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE */

static struct kt_model *load(const char *dir, bool leaks, struct kt_trace **trace)
{
	struct kt_error err = {{0}};
	*trace = kt_trace_load(dir, &err);
	if (*trace == NULL) {
		fprintf(stderr, "load %s: %s\n", dir, err.msg);
		failures++;
		return NULL;
	}
	struct kt_model *m = kt_model_build(*trace);
	struct kt_findings_options opt = {.leaks = leaks};
	kt_findings_find(m, &opt);
	return m;
}

/* P (10) opens /tmp/f (fd 3, with a stack line), a pipe (4 r, 5 w) and
 * forks C (11) and W (12). C sets O_NONBLOCK on its inherited fd 3, flocks
 * it, closes fd 7 twice and fd -1. W writes the pipe through fd 1 (dup2'd)
 * and exec'd keeping fd 6, a socket P made without SOCK_CLOEXEC. P keeps
 * both ends of the pipe: it reads fd 4, W writes. */
static void write_buggy(const char *dir)
{
	write_file(dir, "10-100.rec",
		   HDR "image\t10\t1\t0\t100\t/nonexistent/p\t1\tp\n"
		       "snap\texit\t0\tok\n"
		       "fd\t3\t1\tfile\t/tmp/f\trw\t0\topen\topenat\t0\t0\t-1\t0\t/nonexistent/p+0x10\n"
		       "stack\t3\t1\t/nonexistent/p+0x20\t/nonexistent/p+0x30\n"
		       "fd\t4\t1\tpipe\tpipe:[9]\tr\t0\topen\tpipe\t0\t0\t-1\t0\t/nonexistent/p+0x40\n"
		       "fd\t5\t1\tpipe\tpipe:[9]\tw\t0\topen\tpipe\t0\t0\t-1\t0\t/nonexistent/p+0x40\n"
		       "fd\t6\t1\tsocket\tsocket:[8]\trw\t0\topen\tsocket\t0\t0\t-1\t0\t/nonexistent/p+0x50\n"
		       "end\n");
	write_file(dir, "11-101.rec",
		   HDR "image\t11\t10\t100\t101\t/nonexistent/p\t1\tp\n"
		       "snap\texit\t0\tok\n"
		       "fd\t3\t1\tfile\t/tmp/f\trw\t0\tinherited\tfork\t10\t100\t3\t1\t-\n"
		       "end\n"
		       "event\tsetfl\t3\t1\t2\t2050\t/nonexistent/p+0x60\n"
		       "event\tflock\t3\t1\t2\t0\t/nonexistent/p+0x70\n"
		       "event\tclose-ebadf\t7\t0\t3\t0\t/nonexistent/p+0x80\n"
		       "event\tclose-ebadf\t-1\t0\t0\t0\t/nonexistent/p+0x90\n"
		       "event\tsomething-new\t3\t1\t0\t0\t-\n");
	write_file(dir, "12-102.rec",
		   HDR "image\t12\t10\t100\t102\t/nonexistent/p\t1\tp\n"
		       "snap\texec\t-1\tok\n"
		       "fd\t1\t3\tpipe\tpipe:[9]\tw\t0\tdup\tdup2\t12\t102\t5\t1\t/nonexistent/p+0xa0\n"
		       "fd\t6\t1\tsocket\tsocket:[8]\trw\t0\tinherited\tfork\t10\t100\t6\t1\t-\n"
		       "end\n"
		       "image\t12\t10\t100\t102\t/nonexistent/w\t1\tw\n"
		       "snap\texit\t0\tok\n"
		       "fd\t1\t3\tpipe\tpipe:[9]\tw\t0\texec\tdup2\t12\t102\t5\t1\t/nonexistent/p+0xa0\n"
		       "fd\t6\t1\tsocket\tsocket:[8]\trw\t0\texec\tfork\t10\t100\t6\t1\t-\n"
		       "end\n");
}

static void test_buggy(void)
{
	const char *dir = new_dir("buggy");
	write_buggy(dir);
	struct kt_trace *t;
	struct kt_model *m = load(dir, false, &t);
	if (m == NULL)
		return;
	/* The stack line reached its fd. */
	const struct kt_fd *fd3 = &t->procs[0].snaps[0].fds[0];
	CHECK(fd3->rec.fd == 3 && fd3->nstack == 2 && strcmp(fd3->stack[1], "/nonexistent/p+0x30") == 0);
	CHECK(t->procs[1].nevents == 5);

	const struct kt_finding *f;
	CHECK((f = finding(m, "leaked-across-exec", 12)) != NULL);
	if (f) {
		CHECK(f->fd == 6 && f->severity == KT_SEVERITY_WARNING);
		CHECK(strstr(f->explanation, "opened by 10 (p) as fd 6 with socket at p+0x50 "
					     "without SOCK_CLOEXEC, inherited by 12 (w) across fork, "
					     "kept across exec of /nonexistent/w") != NULL);
	}
	/* fd 1 was dup2'd there on purpose: not a leak. */
	CHECK(count(m, "leaked-across-exec") == 1);
	CHECK((f = finding(m, "pipe-end-held", 10)) != NULL);
	if (f) {
		CHECK(f->fd == 5 && f->severity == KT_SEVERITY_ERROR);
		CHECK(strstr(f->message, "12 w") != NULL);
	}
	CHECK(count(m, "pipe-end-held") == 1);
	CHECK((f = finding(m, "shared-status-flags", 11)) != NULL);
	if (f)
		CHECK(strstr(f->message, "set O_NONBLOCK") != NULL && strstr(f->message, "10 (p) fd 3"));
	CHECK((f = finding(m, "shared-lock", 11)) != NULL);
	if (f)
		CHECK(strstr(f->message, "flock(LOCK_EX)") != NULL);
	CHECK((f = finding(m, "bad-close", 11)) != NULL);
	if (f)
		CHECK(f->fd == 7 && strstr(f->message, "double close") != NULL);
	CHECK(count(m, "bad-close") == 1); /* close(-1) is not one */
	CHECK(count(m, "open-at-exit") == 0);
	CHECK(kt_findings_gating(m, false) == m->nfindings);

	char *json = render(m, KT_FORMAT_JSON);
	CHECK(strstr(json, "\"stack\": [\"p+0x20\", \"p+0x30\"]") != NULL);
	CHECK(strstr(json, "\"kind\": \"pipe-end-held\", \"severity\": \"error\", \"pid\": 10") != NULL);
	CHECK(strstr(json, "\"suppressed\": 0}") != NULL);
	free(json);
	m->stack_frames = 3;
	char *text = render(m, KT_FORMAT_TEXT);
	CHECK(strstr(text, "openat at p+0x10 < p+0x20 < p+0x30") != NULL);
	CHECK(strstr(text, "error pipe-end-held") != NULL);
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		CHECK(nl != NULL && nl - line <= KT_TEXT_COLUMNS);
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	char *dot = render(m, KT_FORMAT_DOT);
	CHECK(strncmp(dot, "digraph kcmptrace {", 19) == 0);
	CHECK(strstr(dot, "p0 -> p1") != NULL);
	CHECK(strstr(dot, "label=\"fd 5\", color=red") != NULL);
	free(dot);
	kt_model_free(m);
	kt_trace_free(t);

	/* --leaks: open-at-exit, info. */
	m = load(dir, true, &t);
	CHECK(m != NULL && count(m, "open-at-exit") > 0);
	CHECK(m != NULL && kt_findings_gating(m, false) < kt_findings_gating(m, true));
	kt_model_free(m);
	kt_trace_free(t);
}

/* All three hold both ends of a pipe and a file, like exit_orders: clean. */
static void test_clean(void)
{
	const char *dir = new_dir("clean");
	write_file(dir, "20-200.rec",
		   HDR "image\t20\t1\t0\t200\t/nonexistent/e\t1\te\n"
		       "snap\texit\t0\tok\n"
		       "fd\t0\t1\tchr\t/dev/pts/0\trw\t0\tunknown\t-\t0\t0\t-1\t0\t-\n"
		       "fd\t3\t1\tpipe\tpipe:[7]\tr\t0\topen\tpipe\t0\t0\t-1\t0\t-\n"
		       "fd\t4\t1\tpipe\tpipe:[7]\tw\t0\topen\tpipe\t0\t0\t-1\t0\t-\n"
		       "fd\t9\t1\tpipe\tpipe:[1]\tw\t0\tunknown\t-\t0\t0\t-1\t0\t-\n"
		       "end\n");
	for (int c = 21; c <= 22; c++) {
		char name[64], text[2048];
		snprintf(name, sizeof name, "%d-%d.rec", c, c * 10);
		snprintf(text, sizeof text,
			 HDR "image\t%d\t20\t200\t%d\t/nonexistent/e\t1\te\n"
			     "snap\texit\t0\tok\n"
			     "fd\t0\t1\tchr\t/dev/pts/0\trw\t0\tinherited\tfork\t20\t200\t0\t1\t-\n"
			     "fd\t3\t1\tpipe\tpipe:[7]\tr\t0\tinherited\tfork\t20\t200\t3\t1\t-\n"
			     "fd\t4\t1\tpipe\tpipe:[7]\tw\t0\tinherited\tfork\t20\t200\t4\t1\t-\n"
			     "fd\t9\t1\tpipe\tpipe:[1]\tw\t0\tinherited\tfork\t20\t200\t9\t1\t-\n"
			     "end\n"
			     "event\tsetfl\t0\t1\t2\t2050\t-\n",
			 c, c * 10);
		write_file(dir, name, text);
	}
	struct kt_trace *t;
	struct kt_model *m = load(dir, false, &t);
	if (m == NULL)
		return;
	/* The terminal from outside is shared, but only with traced
	 * processes: a child setting O_NONBLOCK on it is a finding; nothing
	 * else is. */
	CHECK(count(m, "pipe-end-held") == 0);
	CHECK(count(m, "leaked-across-exec") == 0);
	CHECK(count(m, "shared-status-flags") == 2);
	kt_model_free(m);
	kt_trace_free(t);
}

static void test_target_pattern(void)
{
	static const struct {
		const char *targets[3];
		const char *want;
	} cases[] = {
		{{"/b/tests/CMakeFiles/a.dir/link.txt", "/b/tests/CMakeFiles/bb.dir/link.txt", NULL},
		 "/b/tests/CMakeFiles/*/link.txt"},
		{{"/b/tests/CMakeFiles/a.dir/link.txt", "/b/CMakeFiles/c.dir/link.txt", NULL},
		 "/b/*/link.txt"},
		{{"pipe:[18268596]", "pipe:[18269574]", "pipe:[7]"}, "pipe:[*]"},
		{{"/tmp/cc12.s", "/tmp/cc345.s", NULL}, "/tmp/cc*.s"},
		{{"/dev/pts/3", "/dev/pts/14", NULL}, "/dev/pts/*"},
		{{"/etc/passwd", "/etc/passwd", NULL}, "/etc/passwd"},
		{{"/x1", "/x2", NULL}, "/x*"},
		{{"socket:[1]", "/tmp/s", NULL}, "*"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = cases[i].targets[2] ? 3 : 2;
		char *got = kt_target_pattern(cases[i].targets, n);
		if (strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "  pattern of %s, %s: got '%s', want '%s'\n", cases[i].targets[0],
				cases[i].targets[1], got, cases[i].want);
			failures++;
		}
		checks++;
		free(got);
	}
}

/* Every note the shim or the report writes is told in words, with what it
 * means and what to do, and without a raw errno number. */
static void test_note_words(void)
{
	static const struct {
		const char *note, *want, *kind;
	} cases[] = {
		{"kcmp failed on some comparisons; errno 9", "EBADF (Bad file descriptor): a descriptor "
		 "was closed while it was being compared", "kcmp-failed 9"},
		{"kcmp failed on some comparisons; errno 1", "EPERM", "kcmp-failed 1"},
		{"kcmp failed on some comparisons; errno 38", "ENOSYS", "kcmp-failed 38"},
		{"kcmp failed on some comparisons; errno 5", "EIO", "kcmp-failed 5"},
		{"cannot compare with process 4242: permission denied",
		 "Could not compare with process 4242: permission to list its descriptors was denied",
		 "compare-denied"},
		{"and 17 more closed descriptors not written (no room)", "17 descriptors the process had "
		 "closed were not written", "closed-not-written"},
		{"and 3 more closes of descriptors already closed", "3 more closes of descriptors already "
		 "closed", "bad-closes-not-written"},
		{"and 5 more uses of descriptors not open", "5 more calls on descriptors that were not "
		 "open", "bad-uses-not-written"},
		{"ended without a snapshot: descriptors from its table, no kcmp",
		 "ended without a snapshot", "no-snapshot"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct kt_note_words w;
		kt_note_words(cases[i].note, &w);
		char *text = kt_note_paragraph(cases[i].note);
		bool ok = strstr(w.what, cases[i].want) != NULL && strcmp(w.kind, cases[i].kind) == 0 &&
			  w.meaning != NULL && w.advice != NULL && strstr(text, "errno") == NULL &&
			  strstr(text, w.advice) != NULL;
		if (!ok) {
			fprintf(stderr, "  note '%s': got '%s' (kind %s)\n", cases[i].note, text, w.kind);
			failures++;
		}
		checks++;
		free(text);
		kt_note_words_free(&w);
	}
	/* One this version does not know: as it is. */
	char *text = kt_note_paragraph("a note of the future.");
	CHECK(strcmp(text, "a note of the future.") == 0);
	free(text);
}

/* P (30) opens /tmp/g (fd 3) without O_CLOEXEC and forks 31, 32, 33, which
 * exec keeping it: three findings of one origin, one context. P's snapshot
 * has a note with a raw errno. */
static void write_many(const char *dir)
{
	write_file(dir, "30-300.rec",
		   HDR "image\t30\t1\t0\t300\t/nonexistent/p\t1\tp\n"
		       "snap\texit\t0\tok\n"
		       "fd\t3\t1\tfile\t/tmp/g\tr\t0\topen\topenat\t0\t0\t-1\t0\t/nonexistent/p+0x10\n"
		       "stack\t3\t1\t/nonexistent/p+0x20\t/nonexistent/p+0x30\n"
		       "note\tkcmp failed on some comparisons; errno 9\n"
		       "end\n");
	for (int c = 31; c <= 33; c++) {
		char name[64], text[2048];
		snprintf(name, sizeof name, "%d-%d.rec", c, c * 10);
		snprintf(text, sizeof text,
			 HDR "image\t%d\t30\t300\t%d\t/nonexistent/p\t1\tp\n"
			     "snap\texec\t-1\tok\n"
			     "fd\t3\t1\tfile\t/tmp/g\tr\t0\tinherited\tfork\t30\t300\t3\t1\t-\n"
			     "end\n"
			     "image\t%d\t30\t300\t%d\t/nonexistent/q\t1\tq\n"
			     "snap\texit\t0\tok\n"
			     "fd\t3\t1\tfile\t/tmp/g\tr\t0\texec\tfork\t30\t300\t3\t1\t-\n"
			     "end\n",
			 c, c * 10, c, c * 10);
		write_file(dir, name, text);
	}
}

static void test_contexts(void)
{
	const char *dir = new_dir("many");
	write_many(dir);
	struct kt_trace *t;
	struct kt_model *m = load(dir, false, &t);
	if (m == NULL)
		return;
	CHECK(count(m, "leaked-across-exec") == 3);
	struct kt_finding_contexts cx;
	kt_finding_contexts_build(m, &cx);
	CHECK(cx.n == 1 && cx.items[0].count == 3 && cx.items[0].nprocs == 3);
	CHECK(cx.n == 1 && cx.items[0].fd_min == 3 && cx.items[0].fd_max == 3);
	CHECK(cx.n == 1 && strcmp(cx.items[0].target, "/tmp/g") == 0);
	CHECK(cx.by_severity[KT_SEVERITY_WARNING] == 3);
	kt_finding_contexts_free(&cx);
	const struct kt_finding *f = finding(m, "leaked-across-exec", 32);
	CHECK(f != NULL && f->origin.call && strcmp(f->origin.call, "openat") == 0);
	CHECK(f != NULL && f->origin.program && strcmp(f->origin.program, "p") == 0);
	CHECK(f != NULL && f->origin.nstack == 2);

	m->stack_frames = 3;
	char *text = render(m, KT_FORMAT_TEXT);
	CHECK(strstr(text, "Findings: 3 in 1 context (3 warnings)\n"
			   "  warning leaked-across-exec  fd 3  /tmp/g\n"
			   "    x3 in 3 processes: 31 q, 32 q, 33 q\n"
			   "    origin: openat in p at p+0x10\n"
			   "      < p+0x20\n"
			   "      < p+0x30\n"
			   "    The first, 31 (q): ") != NULL);
	CHECK(strstr(text, "EBADF") != NULL && strstr(text, "errno") == NULL);
	CHECK(strstr(text, "    in 1 process: 30 p\n") != NULL);
	free(text);
	char *json = render(m, KT_FORMAT_JSON);
	CHECK(strstr(json, "\"finding_contexts\": [\n  {\"id\": 1, \"kind\": \"leaked-across-exec\", "
			   "\"severity\": \"warning\", \"count\": 3, \"processes\": 3, "
			   "\"pids\": [31, 32, 33], \"fd\": 3, \"target\": \"/tmp/g\"") != NULL);
	CHECK(strstr(json, "\"context\": 1, \"origin\": {\"call\": \"openat\", \"program\": \"p\", "
			   "\"site\": \"p+0x10\", \"stack\": [\"p+0x20\", \"p+0x30\"]}") != NULL);
	CHECK(strstr(json, "errno") == NULL && strstr(json, "EBADF") != NULL);
	free(json);
	m->quiet = true;
	text = render(m, KT_FORMAT_TEXT);
	CHECK(strncmp(text, "Findings: 3 in 1 context", 24) == 0);
	CHECK(strstr(text, "Process tree") == NULL);
	CHECK(strstr(text, "\nNotes: 1 kind (the trace is incomplete); run without --quiet") != NULL);
	CHECK(strstr(text, "EBADF") == NULL);
	free(text);
	kt_model_free(m);
	kt_trace_free(t);
}

static void test_suppressions(void)
{
	const char *dir = new_dir("suppress");
	write_buggy(dir);
	write_file(dir, "rules", "# intended\n"
				 "kind=pipe-end-held program=p target=pipe:*  # the reader\n"
				 "\n"
				 "kind=shared-* program=[xp]\n");
	char path[4400];
	snprintf(path, sizeof path, "%s/rules", dir);
	struct kt_suppressions s = {0};
	struct kt_error err = {{0}};
	CHECK(kt_suppressions_load(&s, path, &err));
	CHECK(s.n == 2);
	struct kt_trace *t;
	struct kt_model *m = load(dir, false, &t);
	if (m != NULL) {
		size_t before = m->nfindings;
		kt_suppressions_apply(&s, m);
		CHECK(m->nsuppressed == 3 && m->nfindings == before - 3);
		CHECK(count(m, "pipe-end-held") == 0 && count(m, "bad-close") == 1);
		char *json = render(m, KT_FORMAT_JSON);
		CHECK(strstr(json, "\"suppressed\": 3}") != NULL);
		free(json);
		kt_model_free(m);
		kt_trace_free(t);
	}
	kt_suppressions_free(&s);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{"kind=nope\n", ":1: unknown finding kind 'nope'"},
		{"\nkind=bad-close colour=red\n", ":2: unknown key 'colour'"},
		{"program\n", ":1: 'program' is not key=value"},
		{"target=\n", ":1: empty value for target"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(dir, "bad", bad[i].text);
		snprintf(path, sizeof path, "%s/bad", dir);
		struct kt_suppressions b = {0};
		CHECK(!kt_suppressions_load(&b, path, &err));
		if (strstr(err.msg, bad[i].want) == NULL) {
			fprintf(stderr, "  suppression '%s': message '%s'\n", bad[i].text, err.msg);
			failures++;
		}
		kt_suppressions_free(&b);
	}
	struct kt_suppressions b = {0};
	snprintf(path, sizeof path, "%s/missing", dir);
	CHECK(!kt_suppressions_load(&b, path, &err) && strstr(err.msg, "cannot read") != NULL);
}

/* The real end (end-fd records) decides open-at-exit: fd 3, closed by an
 * exit handler, is none; fd 5, opened there, is one. A bad close names the
 * earlier close and the open; a close_range over closed numbers is one. */
static void test_real_end_and_closes(void)
{
	const char *dir = new_dir("real_end");
	write_file(dir, "30-300.rec",
		   HDR "image\t30\t1\t0\t300\t/nonexistent/q\t1\tq\n"
		       "snap\texit\t0\tok\n"
		       "fd\t3\t2\tfile\t/tmp/a\tr\t0\topen\topenat\t0\t0\t-1\t0\t/nonexistent/q+0x10\n"
		       "fd\t4\t2\tfile\t/tmp/b\tr\t0\topen\topenat\t0\t0\t-1\t0\t/nonexistent/q+0x20\n"
		       "end\n"
		       "event\tclose-ebadf\t7\t0\t3\t0\t/nonexistent/q+0x30\t/nonexistent/q+0x40\tclose"
		       "\t/nonexistent/q+0x50\n"
		       "event\tclose-ebadf\t8\t0\t5\t1\t/nonexistent/q+0x60\t-\tclose_range\t-\n"
		       "event\tclose-ebadf\t9\t0\t4\t0\t/nonexistent/q+0x70\t/nonexistent/q+0x40\t-\t-\n"
		       "end-fd\t4\t2\tfile\t/tmp/b\tr\t0\topen\topenat\t0\t0\t-1\t0\t/nonexistent/q+0x20\n"
		       "end-fd\t5\t2\tfile\t/tmp/c\tr\t0\topen\topen\t0\t0\t-1\t0\t/nonexistent/q+0x80\n"
		       "end-fds\t2\n");
	struct kt_trace *t;
	struct kt_model *m = load(dir, true, &t);
	if (m == NULL)
		return;
	CHECK(t->procs[0].end_known && t->procs[0].nend_fds == 2);
	CHECK(count(m, "open-at-exit") == 2);
	for (size_t i = 0; i < m->nfindings; i++) {
		const struct kt_finding *f = &m->findings[i];
		if (strcmp(f->kind, "open-at-exit") == 0) {
			CHECK(f->fd == 4 || f->fd == 5);
			if (f->fd == 5)
				CHECK(strstr(f->explanation, "made by open at q+0x80 as fd 5 after main "
							     "returned") != NULL);
		} else if (f->fd == 7) {
			CHECK(strstr(f->message, "double close) by close() at q+0x50; it was opened at "
						 "q+0x40") != NULL);
		} else if (f->fd == 8) {
			CHECK(strstr(f->message, "close_range() at q+0x60 closed fd 8 again") != NULL &&
			      strcmp(f->origin.call, "close_range") == 0);
		} else if (f->fd == 9) {
			CHECK(strstr(f->message, "closed behind the tracer's back") != NULL);
		}
	}
	CHECK(count(m, "bad-close") == 3);
	kt_model_free(m);
	kt_trace_free(t);

	/* end-fds counts its lines: a record that says otherwise is corrupt */
	const char *bad = new_dir("real_end_bad");
	write_file(bad, "31-310.rec",
		   HDR "image\t31\t1\t0\t310\t/nonexistent/q\t1\tq\n"
		       "end-fd\t5\t2\tfile\t/tmp/c\tr\t0\topen\topen\t0\t0\t-1\t0\t-\n"
		       "end-fds\t3\n");
	struct kt_error err = {{0}};
	struct kt_trace *tb = kt_trace_load(bad, &err);
	CHECK(tb == NULL && strstr(err.msg, "end-fds") != NULL);
	if (tb)
		kt_trace_free(tb);
}

/* bad-use events: a read after a tracked close names the close and the
 * open; a write on a number closed behind the tracer's back says so; an
 * fstat of a number never open (ARG1 0) says that; a call of a value this
 * reader does not know is still told. */
static void test_bad_use(void)
{
	const char *dir = new_dir("bad_use");
	write_file(dir, "40-400.rec",
		   HDR "image\t40\t1\t0\t400\t/nonexistent/u\t1\tu\n"
		       "snap\texit\t0\tok\n"
		       "end\n"
		       "event\tbad-use\t5\t0\t3\t1\t/nonexistent/u+0x30\t/nonexistent/u+0x10\tclose"
		       "\t/nonexistent/u+0x20\n"
		       "event\tbad-use\t6\t0\t2\t2\t/nonexistent/u+0x40\t/nonexistent/u+0x10\t-\t-\n"
		       "event\tbad-use\t7\t0\t0\t8\t/nonexistent/u+0x50\n"
		       "event\tbad-use\t8\t0\t0\t99\t/nonexistent/u+0x60\n");
	struct kt_trace *t;
	struct kt_model *m = load(dir, true, &t);
	if (m == NULL)
		return;
	CHECK(count(m, "bad-use") == 4);
	for (size_t i = 0; i < m->nfindings; i++) {
		const struct kt_finding *f = &m->findings[i];
		CHECK(strcmp(f->kind, "bad-use") == 0 && f->severity == KT_SEVERITY_ERROR);
		if (f->fd == 5)
			CHECK(strstr(f->message, "read(5) at u+0x30 failed with EBADF: fd 5 was closed by "
						 "close() at u+0x20 (opened at u+0x10)") != NULL &&
			      strcmp(f->origin.call, "read") == 0);
		else if (f->fd == 6)
			CHECK(strstr(f->message, "write(6) at u+0x40 failed with EBADF: fd 6 was not open "
						 "(closed behind the tracer's back") != NULL);
		else if (f->fd == 7)
			CHECK(strstr(f->message, "fstat(7) at u+0x50 failed with EBADF: fd 7 was never open") !=
			      NULL);
		else
			CHECK(f->fd == 8 && strstr(f->message, "a call(8)") != NULL);
	}
	kt_model_free(m);
	kt_trace_free(t);
}

/* P (10) forks C (11) at time 500 and D (12) at 1500; C sets O_NONBLOCK
 * on its inherited fd 3 at 1000: P held the description then, D got it
 * with the flag set. Without times (older traces) D is named too. */
static void write_setfl_order(const char *dir, bool times)
{
	write_file(dir, "10-100.rec",
		   HDR "image\t10\t1\t0\t100\t/nonexistent/p\t1\tp\n"
		       "snap\texit\t0\tok\n"
		       "fd\t3\t1\tpipe\tpipe:[9]\tr\t0\topen\tpipe\t0\t0\t-1\t0\t-\n"
		       "end\n");
	write_file(dir, "11-101.rec",
		   times ? HDR "image\t11\t10\t100\t101\t/nonexistent/p\t1\tp\n"
			       "forked\t500\n"
			       "snap\texit\t0\tok\n"
			       "fd\t3\t1\tpipe\tpipe:[9]\tr\t0\tinherited\tfork\t10\t100\t3\t1\t-\n"
			       "end\n"
			       "event\tsetfl\t3\t1\t0\t2048\t-\t1000\n"
			 : HDR "image\t11\t10\t100\t101\t/nonexistent/p\t1\tp\n"
			       "snap\texit\t0\tok\n"
			       "fd\t3\t1\tpipe\tpipe:[9]\tr\t0\tinherited\tfork\t10\t100\t3\t1\t-\n"
			       "end\n"
			       "event\tsetfl\t3\t1\t0\t2048\t-\n");
	write_file(dir, "12-102.rec",
		   HDR "image\t12\t10\t100\t102\t/nonexistent/p\t1\tp\n"
		       "forked\t1500\n"
		       "snap\texit\t0\tok\n"
		       "fd\t3\t1\tpipe\tpipe:[9]\tr\t0\tinherited\tfork\t10\t100\t3\t1\t-\n"
		       "end\n");
}

static void test_setfl_order(void)
{
	for (int times = 0; times < 2; times++) {
		const char *dir = new_dir(times ? "setfl-times" : "setfl-no-times");
		write_setfl_order(dir, times);
		struct kt_trace *t;
		struct kt_model *m = load(dir, false, &t);
		if (m == NULL)
			return;
		CHECK(t->procs[1].fork_time == (times ? 500 : 0) && t->procs[2].fork_time == 1500);
		CHECK(t->procs[1].events[0].rec.time == (times ? 1000 : 0));
		const struct kt_finding *f = finding(m, "shared-status-flags", 11);
		CHECK(f != NULL);
		if (f) {
			CHECK(strstr(f->message, "also held by 10 (p) fd 3") != NULL);
			CHECK((strstr(f->message, "12 (p)") != NULL) == !times);
		}
		kt_model_free(m);
		kt_trace_free(t);
	}
}

/* P (40) forks C (41) with 47 bytes in stdout's buffer and 5 in a stream
 * on fd 4; C's exit writes them again (the stdio-copied events, the fd 4
 * one written twice); the event kind's name reads back. */
static void test_stdio_copied(void)
{
	CHECK(kt_event_from_name("stdio-copied") == KT_EVENT_STDIO_COPIED);
	CHECK(strcmp(kt_event_name(KT_EVENT_STDIO_COPIED), "stdio-copied") == 0);
	const char *dir = new_dir("stdio_copied");
	write_file(dir, "40-400.rec",
		   HDR "image\t40\t1\t0\t400\t/nonexistent/s\t1\ts\n"
		       "snap\texit\t0\tok\n"
		       "fd\t1\t2\tpipe\tpipe:[5]\tw\t0\tunknown\t-\t0\t0\t-1\t0\t-\n"
		       "end\n");
	write_file(dir, "41-401.rec",
		   HDR "image\t41\t40\t400\t401\t/nonexistent/s\t1\ts\n"
		       "snap\texit\t0\tok\n"
		       "fd\t1\t2\tpipe\tpipe:[5]\tw\t0\tinherited\tfork\t40\t400\t1\t2\t-\n"
		       "fd\t4\t2\tfile\t/tmp/log\tw\t0\tinherited\tfork\t40\t400\t4\t2\t-\n"
		       "end\n"
		       "event\tstdio-copied\t1\t2\t47\t1\t/nonexistent/s+0x90\n"
		       "event\tstdio-copied\t4\t2\t5\t0\t/nonexistent/s+0x90\n"
		       "event\tstdio-copied\t4\t2\t5\t0\t/nonexistent/s+0x90\n");
	struct kt_trace *t;
	struct kt_model *m = load(dir, false, &t);
	if (m == NULL)
		return;
	CHECK(count(m, "stdio-buffer-duplicated") == 2);
	for (size_t i = 0; i < m->nfindings; i++) {
		const struct kt_finding *f = &m->findings[i];
		if (strcmp(f->kind, "stdio-buffer-duplicated") != 0)
			continue;
		CHECK(m->procs[f->proc].proc->pid == 41 && f->severity == KT_SEVERITY_WARNING);
		CHECK(f->nrelated == 1 && m->procs[f->related[0]].proc->pid == 40);
		CHECK(strcmp(f->origin.call, "fork") == 0);
		CHECK(strstr(f->explanation, "Fix: fflush(NULL) before fork, or _exit() in the child.") != NULL);
		if (f->fd == 1)
			CHECK(f->bytes == 47 && strcmp(f->target, "pipe:[5]") == 0 &&
			      strstr(f->message, "41 s: 47 bytes of stdout (fd 1, pipe:[5]) buffered before "
						 "fork() at s+0x90 by 40 (s)") != NULL);
		else
			CHECK(f->fd == 4 && f->bytes == 5 && strstr(f->message, "of a stream (fd 4, /tmp/log)"));
	}
	char *json = render(m, KT_FORMAT_JSON);
	CHECK(json && strstr(json, "\"bytes\": 47") != NULL);
	free(json);
	kt_model_free(m);
	kt_trace_free(t);
}

int main(void)
{
	unit_begin("test_findings");
	test_buggy();
	test_setfl_order();
	test_clean();
	test_real_end_and_closes();
	test_suppressions();
	test_target_pattern();
	test_note_words();
	test_contexts();
	test_stdio_copied();
	test_bad_use();
	return unit_end("test_findings");
}
