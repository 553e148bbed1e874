/* Unit tests of the report side: reading trace directories written by hand,
 * the union-find model (ofd ids, evidence, process ends) and the renderers'
 * escaping. Run by ctest as unit_test_model. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "findings.h"
#include "model.h"
#include "procfs.h"
#include "record.h"
#include "render.h"
#include "table.h"
#include "trace.h"
#include "unrecorded.h"

#include "unit.h"

static unsigned long long own_start_time(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p += 2;
	for (int field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

static int find_proc(const struct kt_model *m, int pid)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].proc->pid == pid)
			return (int)i;
	return -1;
}

static int ofd_of(const struct kt_model *m, int pid, int fd)
{
	int i = find_proc(m, pid);
	if (i < 0)
		return -1;
	for (size_t k = 0; k < m->procs[i].nfds; k++)
		if (m->procs[i].fds[k].fd->rec.fd == fd)
			return m->procs[i].fds[k].ofd;
	return -1;
}

#define HDR "kcmptrace-record\t1\n"
/* fd FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE */

static void test_union_and_ids(void)
{
	const char *dir = new_dir("union");
	/* P (pid 10): fd 0 from outside, fd 3 opened, fd 4 dup of 3, fd 6 pipe. */
	write_file(dir, "10-100.rec",
		   HDR "image\t10\t1\t0\t100\t/bin/p\t1\tp\n"
		       "snap\texit\t0\tok\n"
		       "fd\t0\t1\tchr\t/dev/null\tr\t0\tunknown\t-\t0\t0\t-1\t0\t-\n"
		       "fd\t3\t1\tfile\t/tmp/a\tr\t0\topen\topenat\t0\t0\t-1\t0\t/bin/p+0x10\n"
		       "fd\t4\t1\tfile\t/tmp/a\tr\t0\tdup\tdup\t10\t100\t3\t1\t-\n"
		       "fd\t6\t1\tpipe\tpipe:[9]\tw\t1\topen\tpipe2\t0\t0\t-1\t0\t-\n"
		       "end\n");
	/* C (pid 11), child of P: inherited fd 3; its exec snapshot says fd 5
	 * is the same as X's fd 9 (the last snapshot only says "exec"). */
	write_file(dir, "11-101.rec",
		   HDR "image\t11\t10\t100\t101\t/bin/p\t1\tp\n"
		       "snap\texec\t-1\tok\n"
		       "fd\t3\t1\tfile\t/tmp/a\tr\t0\tinherited\tfork\t10\t100\t3\t1\t-\n"
		       "fd\t5\t2\tfile\t/tmp/b\tw\t0\topen\topen\t0\t0\t-1\t0\t-\n"
		       "same\t5\t2\t12\t102\t9\t4\n"
		       "end\n"
		       "image\t11\t10\t100\t101\t/bin/c\t2\tc\targ\n"
		       "snap\texit\t3\tok\n"
		       "fd\t3\t1\tfile\t/tmp/a\tr\t0\texec\tfork\t10\t100\t3\t1\t-\n"
		       "fd\t5\t2\tfile\t/tmp/b\tw\t0\texec\topen\t0\t0\t-1\t0\t-\n"
		       "end\n");
	/* X (pid 12): its parent is outside the trace; kcmp says its fd 7 is
	 * P's fd 4. fd 8 shares nothing. An unknown record kind is skipped. */
	write_file(dir, "12-102.rec",
		   HDR "image\t12\t1\t0\t102\t/bin/x\t1\tx\n"
		       "future\tsomething\tnew\n"
		       "snap\texit\t0\tok\n"
		       "fd\t7\t3\tfile\t/tmp/a\tr\t0\treceived\trecvmsg\t0\t0\t-1\t0\t-\n"
		       "fd\t8\t1\tsocket\tsocket:[5]\trw\t0\topen\tsocket\t0\t0\t-1\t0\t-\n"
		       "fd\t9\t4\tfile\t/tmp/b\tw\t0\topen\topen\t0\t0\t-1\t0\t-\n"
		       "same\t7\t3\t10\t100\t4\t1\n"
		       "stat\tsnapshot_us\t42\n"
		       "end\n");

	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "load: %s\n", err.msg);
		return;
	}
	struct kt_model *m = kt_model_build(t);
	CHECK(m->nprocs == 3);
	CHECK(m->kcmp_available);
	/* Ids by first appearance: P fd0, P fd3, P fd6, C fd5, X fd8. */
	CHECK(ofd_of(m, 10, 0) == 1);
	CHECK(ofd_of(m, 10, 3) == 2);
	CHECK(ofd_of(m, 10, 4) == 2); /* dup */
	CHECK(ofd_of(m, 10, 6) == 3);
	CHECK(ofd_of(m, 11, 3) == 2); /* inherited, then kept across exec */
	CHECK(ofd_of(m, 11, 5) == 4);
	CHECK(ofd_of(m, 12, 7) == 2); /* kcmp same */
	CHECK(ofd_of(m, 12, 8) == 5);
	CHECK(ofd_of(m, 12, 9) == 4); /* joined through C's exec snapshot */
	CHECK(m->nofds == 5);
	CHECK(m->nshared == 2);
	CHECK(m->ofds[1].nholders == 4);
	CHECK(m->ofds[1].evidence == KT_EVIDENCE_KCMP);
	CHECK(m->ofds[3].evidence == KT_EVIDENCE_KCMP);
	CHECK(m->ofds[0].evidence == KT_EVIDENCE_NONE);
	/* Holders in (process order, fd) order. */
	CHECK(m->ofds[1].holders[0].proc == 0 && m->ofds[1].holders[0].fd == 3);
	CHECK(m->ofds[1].holders[1].proc == 0 && m->ofds[1].holders[1].fd == 4);
	CHECK(m->ofds[1].holders[2].proc == 1 && m->ofds[1].holders[2].fd == 3);
	CHECK(m->ofds[1].holders[3].proc == 2 && m->ofds[1].holders[3].fd == 7);
	/* Tree, program and end. */
	CHECK(m->procs[1].parent == 0);
	CHECK(m->procs[2].parent == -1);
	CHECK(strcmp(m->procs[1].name, "c") == 0);
	CHECK(m->procs[1].end == KT_END_EXIT && m->procs[1].end_value == 3);
	/* leaked-across-exec findings for C's fd 3 and fd 5. */
	kt_findings_find(m, NULL);
	CHECK(m->nfindings == 2);
	CHECK(m->nfindings == 2 && strcmp(m->findings[0].kind, "leaked-across-exec") == 0);

	/* Both renderers run; JSON carries the contract's fields. */
	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	CHECK(kt_render(out, m, KT_FORMAT_JSON) == 0);
	fclose(out);
	CHECK(strstr(json, "\"kcmp\": {\"available\": true}") != NULL);
	CHECK(strstr(json, "\"evidence\": \"kcmp\"") != NULL);
	CHECK(strstr(json, "\"end\": {\"how\": \"exit\", \"status\": 3}") != NULL);
	CHECK(strstr(json, "\"origin\": {\"how\": \"dup\", \"call\": \"dup\", \"pid\": 10, \"fd\": 3") !=
	      NULL);
	CHECK(strstr(json, "\"snapshot_us\": 42") != NULL);
	free(json);
	char *text = NULL;
	out = open_memstream(&text, &len);
	CHECK(kt_render(out, m, KT_FORMAT_TEXT) == 0);
	fclose(out);
	CHECK(strstr(text, "kcmptrace: 3 processes, 2 shared open file descriptions") != NULL);
	CHECK(strstr(text, "inherited from 10 fd 3") != NULL);
	CHECK(strstr(text, "dup of fd 3") != NULL);
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		CHECK(nl != NULL && nl - line <= KT_TEXT_COLUMNS);
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	kt_model_free(m);
	kt_trace_free(t);
}

static void test_ends(void)
{
	const char *dir = new_dir("ends");
	char name[64], text[512];
	unsigned long long me = own_start_time();
	CHECK(me != 0);
	CHECK(kt_proc_alive(getpid(), me));
	CHECK(!kt_proc_alive(getpid(), me + 1));
	/* This test process itself, with no snapshot: running. */
	snprintf(name, sizeof name, "%d-%llu.rec", (int)getpid(), me);
	snprintf(text, sizeof text, HDR "image\t%d\t1\t0\t%llu\t-\t0\n", (int)getpid(), me);
	write_file(dir, name, text);
	/* Same pid, another start time, last snapshot an exec: unknown. */
	snprintf(name, sizeof name, "%d-%llu.rec", (int)getpid(), me + 1);
	snprintf(text, sizeof text,
		 HDR "image\t%d\t1\t0\t%llu\t-\t0\nsnap\texec\t-1\tok\nend\n", (int)getpid(), me + 1);
	write_file(dir, name, text);
	/* A pid the launcher reaped as killed by SIGKILL (its "ended" record). */
	CHECK(WIFSIGNALED(SIGKILL));
	write_file(dir, "4000000-5.rec", HDR "image\t4000000\t1\t0\t5\t/bin/k\t1\tk\nended\t9\n");

	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	struct kt_model *m = kt_model_build(t);
	CHECK(m->nprocs == 3);
	CHECK(m->procs[0].proc->pid == 4000000); /* start 5 sorts first */
	CHECK(m->procs[0].end == KT_END_SIGNAL && m->procs[0].end_value == SIGKILL);
	CHECK(m->procs[1].end == KT_END_RUNNING);
	CHECK(m->procs[2].end == KT_END_UNKNOWN);
	CHECK(strcmp(m->procs[1].name, "?") == 0);
	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	kt_render_json(out, m);
	fclose(out);
	CHECK(strstr(json, "{\"how\": \"running\"}") != NULL);
	CHECK(strstr(json, "{\"how\": \"unknown\"}") != NULL);
	/* status only where there is one: exit status, or the signal number. */
	CHECK(strstr(json, "{\"how\": \"signal\", \"signal\": 9, \"status\": 9}") != NULL);
	CHECK(strstr(json, "\"running\", \"status\"") == NULL);
	free(json);
	kt_model_free(m);
	kt_trace_free(t);
}

static void test_kcmp_unavailable(void)
{
	const char *dir = new_dir("nokcmp");
	write_file(dir, "20-1.rec",
		   HDR "image\t20\t1\t0\t1\t/bin/a\t1\ta\n"
		       "snap\texit\t0\tunavailable:EPERM\n"
		       "fd\t3\t1\tpipe\tpipe:[1]\tr\t0\topen\tpipe\t0\t0\t-1\t0\t-\n"
		       "fd\t5\t1\tpipe\tpipe:[1]\tr\t0\topen\tfcntl\t0\t0\t-1\t0\t-\n"
		       "same\t5\t1\t20\t1\t3\t1\n"
		       "end\n");
	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	struct kt_model *m = kt_model_build(t);
	CHECK(!m->kcmp_available);
	CHECK(m->kcmp_error == EPERM);
	CHECK(m->nofds == 1 && m->ofds[0].nholders == 2);
	CHECK(m->ofds[0].evidence == KT_EVIDENCE_TRACKED); /* never "kcmp" without kcmp */
	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	kt_render_json(out, m);
	fclose(out);
	CHECK(strstr(json, "\"kcmp\": {\"available\": false, \"detail\": \"unavailable:EPERM\"}") !=
	      NULL);
	CHECK(strstr(json, "\"evidence\": \"kcmp\"") == NULL);
	free(json);
	kt_model_free(m);
	kt_trace_free(t);
}

/* Each bad trace is rejected with a message naming the file (and line). */
static void expect_rejected(const char *name, const char *text, const char *want)
{
	const char *dir = new_dir(name);
	write_file(dir, "30-3.rec", text);
	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t == NULL);
	if (t != NULL) {
		fprintf(stderr, "  %s: accepted\n", name);
		kt_trace_free(t);
		return;
	}
	if (strstr(err.msg, want) == NULL || strstr(err.msg, "30-3.rec") == NULL) {
		fprintf(stderr, "  %s: message '%s' lacks '%s'\n", name, err.msg, want);
		failures++;
	}
}

static void test_rejections(void)
{
	expect_rejected("truncated", HDR "image\t30\t1\t0\t3\t-\t0\nsnap\texit\t0\tok\n"
					 "fd\t0\t1\tchr\t/dev/null\tr\t0\tunknown\t-\t0\t0\t-1\t0\t-\n",
			":3: snapshot is truncated");
	expect_rejected("magic", "kcmptrace-recorx\t1\n", ":1: not a kcmptrace record");
	expect_rejected("version", "kcmptrace-record\t2\n", ":1: unsupported record version 2");
	expect_rejected("number", HDR "image\t30\t1\tx\t3\t-\t0\n", ":2: bad number 'x'");
	expect_rejected("argc", HDR "image\t30\t1\t0\t3\t-\t2\tonly\n", ":2: image record has ARGC 2");
	expect_rejected("escape", HDR "note\tbad\\q\n", ":2: malformed escape");
	expect_rejected("outside", HDR "end\n", ":2: end record outside a snapshot");
	expect_rejected("fields", HDR "snap\texit\t0\tok\nfd\t1\t2\n", ":3: fd record has 3 fields");
	expect_rejected("status", HDR "snap\texit\t256\tok\nend\n", ":2: bad number '256'");
	expect_rejected("noeol", HDR "image\t30\t1\t0\t3\t-\t0", ":2: last line is truncated");
	/* An empty record is left out (a line on stderr); with nothing else
	 * there, the trace has no records. */
	const char *empty = new_dir("empty");
	write_file(empty, "30-3.rec", "");
	struct kt_error err = {{0}};
	CHECK(kt_trace_load(empty, &err) == NULL && strstr(err.msg, "no trace records") != NULL);
	/* The parser itself still refuses empty text. */
	struct kt_process proc = {0};
	char *none = calloc(1, 1);
	CHECK(!kt_process_parse(&proc, "30-3.rec", none, 0, &err) && strstr(err.msg, "empty record file"));
	kt_process_free(&proc);

	const char *dir = new_dir("norecords");
	CHECK(kt_trace_load(dir, &err) == NULL && strstr(err.msg, "no trace records") != NULL);
	char missing[4200];
	snprintf(missing, sizeof missing, "%s/does-not-exist", root_dir);
	CHECK(kt_trace_load(missing, &err) == NULL && strstr(err.msg, "cannot read") != NULL);
}

static void test_escaping(void)
{
	/* A target with every kind of awkward byte, written with the record
	 * writer, read back, and rendered as JSON. */
	const char target[] = "/tmp/a\tb\nc\\d\x01\x7f\xff\xc3\xa9\"e";
	char data[1024];
	struct kt_buf b = {.data = data, .cap = sizeof data};
	kt_rec_put_fd(&b, &(struct kt_rec_fd){.fd = 3, .gen = 1, .type = KT_FD_FILE, .target = target,
					       .access = O_RDONLY, .how = KT_HOW_OPEN,
					       .call = KT_CALL_OPENAT, .src_fd = -1});
	CHECK(!b.overflow);
	data[b.len] = '\0';
	CHECK(strchr(data, '\n') == data + b.len - 1); /* escaped: one line */

	char text[2048];
	snprintf(text, sizeof text, HDR "image\t40\t1\t0\t4\t-\t1\t\\x01\nsnap\texit\t0\tok\n%send\n",
		 data);
	const char *dir = new_dir("escaping");
	write_file(dir, "40-4.rec", text);
	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "load: %s\n", err.msg);
		return;
	}
	const struct kt_fd *fd = &t->procs[0].snaps[0].fds[0];
	CHECK(strcmp(fd->rec.target, target) == 0);
	CHECK(fd->rec.site == NULL && fd->rec.src_fd == -1 && fd->rec.call == KT_CALL_OPENAT);
	struct kt_model *m = kt_model_build(t);
	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	kt_render_json(out, m);
	fclose(out);
	CHECK(strstr(json, "\"target\": \"/tmp/a\\tb\\nc\\\\d\\u0001\\u007f\\ufffd\xc3\xa9\\\"e\"") !=
	      NULL);
	CHECK(strstr(json, "\"argv\": [\"\\u0001\"]") != NULL);
	free(json);
	char *rendered = NULL;
	out = open_memstream(&rendered, &len);
	kt_render_text(out, m);
	fclose(out);
	CHECK(strchr(rendered, '\x01') == NULL && strchr(rendered, '\t') == NULL);
	free(rendered);
	kt_model_free(m);
	kt_trace_free(t);

	/* Splitting directly: fields, escapes, the max bound, bad escapes. */
	char line[] = "a\\tb\tc\\\\\t\\x41";
	char *f[4];
	CHECK(kt_record_split(line, f, 4) == 3);
	CHECK(strcmp(f[0], "a\tb") == 0 && strcmp(f[1], "c\\") == 0 && strcmp(f[2], "A") == 0);
	char line2[] = "x\ty\tz";
	CHECK(kt_record_split(line2, f, 2) == 2 && strcmp(f[0], "x") == 0);
	char bad1[] = "a\\", bad2[] = "\\x4", bad3[] = "\\r";
	CHECK(kt_record_split(bad1, f, 4) == -1);
	CHECK(kt_record_split(bad2, f, 4) == -1);
	CHECK(kt_record_split(bad3, f, 4) == -1);
	/* Overflow is all or nothing. */
	char small[4];
	struct kt_buf sb = {.data = small, .cap = sizeof small};
	kt_buf_field(&sb, "abcdef");
	CHECK(sb.overflow && sb.len == 1);
}

/* A closed descriptor (a "closed" record) links what was copied from it to
 * where it came from: bash's fd 1 restored from its saved copy fd 11 is
 * the description its child inherited before the save. */
static void test_closed_links(void)
{
	const char *dir = new_dir("closed");
	write_file(dir, "10-100.rec",
		   HDR "image\t10\t1\t0\t100\t/bin/sh\t1\tsh\n"
		       "snap\texit\t0\tok\n"
		       "fd\t1\t6\tfile\t/tmp/out\tw\t0\tdup\tdup2\t10\t100\t11\t2\t-\n"
		       "closed\t11\t2\tdup\tfcntl\t10\t100\t1\t2\t-\n"
		       "end\n");
	write_file(dir, "12-101.rec",
		   HDR "image\t12\t10\t100\t101\t/bin/ls\t1\tls\n"
		       "snap\texit\t0\tok\n"
		       "fd\t1\t2\tfile\t/tmp/out\tw\t0\tinherited\tfork\t10\t100\t1\t2\t-\n"
		       "end\n");
	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "load: %s\n", err.msg);
		return;
	}
	struct kt_model *m = kt_model_build(t);
	CHECK(ofd_of(m, 10, 1) == ofd_of(m, 12, 1));
	CHECK(m->nofds == 1 && m->ofds[0].nholders == 2); /* the closed one holds nothing */
	kt_model_free(m);
	kt_trace_free(t);

	/* malformed: a dup without a source */
	write_file(dir, "10-100.rec",
		   HDR "image\t10\t1\t0\t100\t/bin/sh\t1\tsh\n"
		       "snap\texit\t0\tok\n"
		       "closed\t11\t2\tdup\tfcntl\t0\t0\t-1\t0\t-\n"
		       "end\n");
	CHECK(kt_trace_load(dir, &err) == NULL && strstr(err.msg, "has no source") != NULL);
}

/* What a newer writer may add is read, not rejected: a call this reader
 * does not know (read as none), a kcmp errno it has no name for, a header
 * line again (a kind of record it skips). */
static void test_lenient(void)
{
	const char *dir = new_dir("lenient");
	write_file(dir, "10-100.rec",
		   HDR "image\t10\t1\t0\t100\t/bin/p\t1\tp\n"
		       "snap\texit\t0\tunavailable:ENOTSUP\n"
		       "fd\t3\t2\tfile\t/tmp/a\tr\t0\topen\tfrobnicate\t0\t0\t-1\t0\t-\n"
		       "end\n" HDR);
	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "load: %s\n", err.msg);
		return;
	}
	CHECK(t->procs[0].snaps[0].fds[0].rec.call == KT_CALL_NONE);
	CHECK(t->procs[0].snaps[0].head.kcmp == EIO);
	kt_trace_free(t);
}

static void test_remove_dir(void)
{
	/* A trace: records, the marker, live/ with a table and one being made. */
	const char *dir = new_dir("remove");
	char live[4400], path[4400];
	write_file(dir, "1-1.rec", HDR);
	write_file(dir, "reported", "");
	snprintf(live, sizeof live, "%s/live", dir);
	CHECK(mkdir(live, 0700) == 0);
	write_file(live, "1-1.tbl", "x");
	write_file(live, ".2-2.fork-0.tbl", "x");
	CHECK(kt_trace_dir_has_records(dir) == 1);
	CHECK(kt_trace_remove_dir(dir) == 0);
	CHECK(access(dir, F_OK) != 0);

	/* Only what a trace holds is removed: a file of someone else's stays,
	 * and so does the directory; a live link to a directory that is not
	 * one of ours on /dev/shm is not followed. */
	dir = new_dir("remove-foreign");
	const char *other = new_dir("remove-other");
	write_file(dir, "1-1.rec", HDR);
	write_file(dir, "notes.txt", "mine");
	write_file(other, "1-1.tbl", "not a trace's");
	snprintf(live, sizeof live, "%s/live", dir);
	CHECK(symlink(other, live) == 0);
	CHECK(kt_trace_remove_dir(dir) != 0 && errno == ENOTEMPTY);
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	CHECK(access(path, F_OK) == 0);
	snprintf(path, sizeof path, "%s/1-1.rec", dir);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof path, "%s/1-1.tbl", other);
	CHECK(access(path, F_OK) == 0);
	CHECK(access(live, F_OK) != 0); /* the link itself is ours to remove */
}

/* A process whose trace could not be written in full: its "unrecorded"
 * records read, rendered in JSON and text; the report's move of what a
 * table kept (its loss, a fork child named in it) into the records. */
static void test_unrecorded(void)
{
	const char *dir = new_dir("unrecorded");
	write_file(dir, "4000001-7.rec",
		   HDR "image\t4000001\t1\t0\t7\t/bin/man\t2\tman\tls\n"
		       "unrecorded\texec\tENOSYS\tseccomp\t/usr/bin/preconv\n"
		       "unrecorded\texit\tEWHATEVER\t-\t-\n");
	/* Its table in live/: an exit loss, and a child that named itself. */
	char live[4400];
	snprintf(live, sizeof live, "%s/live", dir);
	CHECK(mkdir(live, 0700) == 0);
	size_t size = kt_table_file_size(8);
	struct kt_table_header *h = calloc(1, size);
	memcpy(h->magic, KT_TABLE_MAGIC, sizeof h->magic);
	h->pid = 4000001;
	h->start = 7;
	h->capacity = 8;
	atomic_init(&h->lost.what_plus1, KT_LOST_EXIT + 1);
	h->lost.err = EPERM;
	h->lost.seccomp = 0; /* EPERM without a filter: permissions */
	atomic_init(&h->nlost_children, 1);
	atomic_init(&h->lost_children[0].pid, 4000002);
	h->lost_children[0].start = 8;
	h->lost_children[0].err = ENOSYS;
	h->lost_children[0].seccomp = 1;
	char path[4500];
	snprintf(path, sizeof path, "%s/4000001-7.tbl", live);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL && fwrite(h, 1, size, f) == size);
	if (f)
		fclose(f);
	free(h);
	kt_trace_collect_unrecorded(dir);
	kt_trace_collect_unrecorded(dir); /* nothing added twice */

	struct kt_error err = {{0}};
	struct kt_trace *t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL) {
		fprintf(stderr, "load: %s\n", err.msg);
		return;
	}
	CHECK(t->nprocs == 2);
	const struct kt_process *p = &t->procs[0], *c = &t->procs[1];
	CHECK(p->nunrecorded == 3);
	CHECK(p->unrecorded[0].what == KT_LOST_EXEC && p->unrecorded[0].err == ENOSYS &&
	      p->unrecorded[0].seccomp && strcmp(p->unrecorded[0].path, "/usr/bin/preconv") == 0);
	CHECK(p->unrecorded[1].what == KT_LOST_EXIT && p->unrecorded[1].err == 0 &&
	      !p->unrecorded[1].seccomp && p->unrecorded[1].path == NULL);
	CHECK(p->unrecorded[2].what == KT_LOST_EXIT && p->unrecorded[2].err == EPERM);
	CHECK(c->pid == 4000002 && c->start == 8 && c->nimages == 1 && c->nunrecorded == 1);
	CHECK(c->images[0].ppid == 4000001 && c->images[0].parent_start == 7 &&
	      c->images[0].argc == 2 && strcmp(c->images[0].exe, "/bin/man") == 0);
	CHECK(c->unrecorded[0].what == KT_LOST_FORK && c->unrecorded[0].err == ENOSYS);

	struct kt_model *m = kt_model_build(t);
	CHECK(strcmp(kt_unrecorded_program(&m->procs[0]), "preconv") == 0);
	CHECK(strcmp(kt_unrecorded_program(&m->procs[1]), "man") == 0);
	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	kt_render_json(out, m);
	fclose(out);
	CHECK(strstr(json, "\"unrecorded\": [{\"what\": \"exec\", \"errno\": \"ENOSYS\", "
			   "\"cause\": \"seccomp\", \"exe\": \"/usr/bin/preconv\", \"reason\": "
			   "\"a seccomp filter refused writing the trace (ENOSYS)\"}") != NULL);
	CHECK(strstr(json, "{\"what\": \"exit\", \"errno\": null, \"cause\": null, \"exe\": null, "
			   "\"reason\": \"reason unknown\"}") != NULL);
	CHECK(strstr(json, "\"cause\": \"permission\"") != NULL);
	free(json);
	out = open_memstream(&json, &len);
	kt_render_text(out, m);
	fclose(out);
	CHECK(strstr(json, "not recorded (permission)") != NULL);
	CHECK(strstr(json, "4000002 man  end unknown  not recorded (seccomp)") != NULL);
	CHECK(strstr(json, "Nothing but its fork could be recorded (it could not get a table)") != NULL);
	CHECK(strstr(json, "in 1 process: 4000002 man") != NULL);
	CHECK(strstr(json, "MAN_DISABLE_SECCOMP=1") != NULL);
	free(json);
	kt_model_free(m);
	kt_trace_free(t);
	/* Ended with neither a snapshot nor a table: its end is marked lost,
	 * in its record too; one that ended with its own snapshot is not. */
	dir = new_dir("unrecorded-end");
	write_file(dir, "4000003-9.rec", HDR "image\t4000003\t1\t0\t9\t/bin/x\t1\tx\n");
	write_file(dir, "4000004-9.rec", HDR "image\t4000004\t1\t0\t9\t/bin/y\t1\ty\n"
						"snap\texit\t0\tok\nend\n");
	t = kt_trace_load(dir, &err);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	kt_trace_infer_unrecorded(t);
	CHECK(t->procs[0].nunrecorded == 1 && t->procs[0].unrecorded[0].what == KT_LOST_END);
	CHECK(t->procs[1].nunrecorded == 0);
	kt_trace_free(t);
	t = kt_trace_load(dir, &err);
	CHECK(t != NULL && t->procs[0].nunrecorded == 1 && t->procs[1].nunrecorded == 0);
	if (t != NULL)
		kt_trace_free(t);
	expect_rejected("unrecorded-what", HDR "unrecorded\tnever\t-\t-\t-\n",
			":2: unknown unrecorded WHAT 'never'");
	expect_rejected("unrecorded-cause", HDR "unrecorded\texit\tEPERM\tsun\t-\n",
			":2: unknown unrecorded CAUSE 'sun'");
}

int main(void)
{
	unit_begin("test_model");
	test_union_and_ids();
	test_ends();
	test_kcmp_unavailable();
	test_rejections();
	test_escaping();
	test_closed_links();
	test_lenient();
	test_remove_dir();
	test_unrecorded();
	return unit_end("test_model");
}
