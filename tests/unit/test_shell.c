/* Unit tests of shell redirections (report/shell.c): which programs are
 * shells, which descriptors a shell's redirection made (origin.made),
 * whichever number open() returned, and the built-in suppression that
 * keeps them out of the findings. Traces written by hand, as the shim
 * writes bash's and dash's real sequences (strace: open at the lowest free
 * number, dup2 onto the named one, close). Run by ctest as test_shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "model.h"
#include "render.h"
#include "shell.h"
#include "suppress.h"
#include "trace.h"

#include "unit.h"

#define HDR "kcmptrace-record\t1\n"
/* fd FD GEN TYPE TARGET ACCESS CLOEXEC HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE
 * closed FD GEN HOW CALL SRC_PID SRC_START SRC_FD SRC_GEN SITE */

static struct kt_rec_image image(const char *exe, int argc, const char **argv)
{
	return (struct kt_rec_image){.exe = exe, .argc = argc, .argv = argv};
}

static void test_names(void)
{
	const char *bash[] = {"bash", "-c", "x"}, *login[] = {"-bash"}, *sh[] = {"sh", "-c", "x"},
	     *bb_sh[] = {"busybox", "sh", "-c", "x"}, *bb_ls[] = {"busybox", "ls"},
	     *ls[] = {"ls"}, *py[] = {"python3"};
	struct kt_rec_image im;
	CHECK(kt_shell_name("bash") && kt_shell_name("dash") && kt_shell_name("zsh") &&
	      kt_shell_name("ksh") && kt_shell_name("mksh") && kt_shell_name("sh"));
	CHECK(!kt_shell_name("python3") && !kt_shell_name("make") && !kt_shell_name(NULL));
	CHECK(kt_shell_image((im = image("/usr/bin/bash", 3, bash), &im)));
	CHECK(kt_shell_image((im = image("/usr/bin/bash", 1, login), &im)));
	CHECK(kt_shell_image((im = image("/usr/bin/dash", 3, sh), &im)));
	CHECK(kt_shell_image((im = image(NULL, 3, sh), &im)));
	CHECK(kt_shell_image((im = image("/usr/bin/busybox", 4, bb_sh), &im)));
	CHECK(kt_shell_image((im = image("/usr/bin/busybox", 1, sh), &im)));
	CHECK(!kt_shell_image((im = image("/usr/bin/busybox", 2, bb_ls), &im)));
	CHECK(!kt_shell_image((im = image("/usr/bin/busybox", 1, ls), &im)));
	CHECK(!kt_shell_image((im = image("/usr/bin/python3.11", 1, py), &im)));
	CHECK(!kt_shell_image(NULL));
}

/* A process PID (start PID*10, parent PPID, start PPID*10, or none when
 * 1) running SHELL that execs /usr/bin/cat after the exec snapshot lines
 * EXEC_FDS; cat's exit snapshot CAT_FDS. */
static void write_exec(const char *dir, int pid, int ppid, const char *shell,
		       const char *exec_fds, const char *cat_fds)
{
	int pstart = ppid == 1 ? 0 : ppid * 10;
	char name[64], text[8192];
	snprintf(name, sizeof name, "%d-%d.rec", pid, pid * 10);
	snprintf(text, sizeof text,
		 HDR "image\t%d\t%d\t%d\t%d\t%s\t3\tsh\t-c\tscript\n"
		     "snap\texec\t-1\tok\n%send\n"
		     "image\t%d\t%d\t%d\t%d\t/usr/bin/cat\t2\tcat\t/dev/null\n"
		     "snap\texit\t0\tok\n%send\n",
		 pid, ppid, pstart, pid * 10, shell, exec_fds, pid, ppid, pstart, pid * 10, cat_fds);
	write_file(dir, name, text);
}

static struct kt_model *load(const char *dir, struct kt_trace **trace)
{
	struct kt_error err = {{0}};
	*trace = kt_trace_load(dir, &err);
	if (*trace == NULL) {
		fprintf(stderr, "load %s: %s\n", dir, err.msg);
		failures++;
		return NULL;
	}
	struct kt_model *m = kt_model_build(*trace);
	struct kt_findings_options opt = {.leaks = false};
	kt_findings_find(m, &opt);
	return m;
}

/* origin.made of fd in the last snapshot of process pid. */
static const char *made_of(const struct kt_model *m, int pid, int fd)
{
	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t k = 0; m->procs[i].proc->pid == pid && k < m->procs[i].nfds; k++)
			if (m->procs[i].fds[k].fd->rec.fd == fd)
				return m->procs[i].fds[k].fd->origin.made;
	return "(no such descriptor)";
}

static const struct kt_finding *leak(const struct kt_model *m, int pid, int fd)
{
	for (size_t i = 0; i < m->nfindings; i++) {
		const struct kt_finding *f = &m->findings[i];
		if (strcmp(f->kind, "leaked-across-exec") == 0 &&
		    m->procs[f->proc].proc->pid == pid && f->fd == fd)
			return f;
	}
	return NULL;
}

static bool is_redirection(const char *made)
{
	return made != NULL && strcmp(made, KT_MADE_SHELL_REDIRECTION) == 0;
}

/* bash: exec 3<FILE (open returns 3); dash: exec 7>FILE (open returns 3,
 * dup2 onto 7, 3 closed and opened again for something else); bash's
 * child for cmd 5<FILE; a child inheriting bash's exec 7>FILE. */
static void write_shells(const char *dir)
{
	write_exec(dir, 30, 1, "/usr/bin/bash",
		   "fd\t3\t2\tfile\t/etc/hostname\tr\t0\topen\topen\t0\t0\t-1\t0\t/usr/bin/bash+0x10\n",
		   "fd\t3\t2\tfile\t/etc/hostname\tr\t0\texec\topen\t0\t0\t-1\t0\t/usr/bin/bash+0x10\n");
	write_exec(dir, 31, 1, "/usr/bin/dash",
		   "fd\t7\t2\tfile\t/tmp/x\tw\t0\tdup\tdup2\t31\t310\t3\t2\t/usr/bin/dash+0x20\n"
		   "closed\t3\t2\topen\topen\t0\t0\t-1\t0\t/usr/bin/dash+0x10\n"
		   "closed\t3\t4\topen\topen\t0\t0\t-1\t0\t/usr/bin/dash+0x10\n",
		   "fd\t7\t2\tfile\t/tmp/x\tw\t0\texec\tdup2\t31\t310\t3\t2\t/usr/bin/dash+0x20\n");
	/* bash 32 runs `exec 7>FILE` then forks 33 for `cat 5<FILE2`. */
	write_file(dir, "32-320.rec",
		   HDR "image\t32\t1\t0\t320\t/usr/bin/bash\t3\tbash\t-c\tscript\n"
		       "snap\texit\t0\tok\n"
		       "fd\t7\t2\tfile\t/tmp/x\tw\t0\tdup\tdup2\t32\t320\t3\t2\t/usr/bin/bash+0x20\n"
		       "closed\t3\t2\topen\topen\t0\t0\t-1\t0\t/usr/bin/bash+0x10\n"
		       "end\n");
	write_exec(dir, 33, 32, "/usr/bin/bash",
		   "fd\t5\t2\tfile\t/tmp/y\tr\t0\tdup\tdup2\t33\t330\t3\t2\t/usr/bin/bash+0x20\n"
		   "fd\t7\t2\tfile\t/tmp/x\tw\t0\tinherited\tfork\t32\t320\t7\t2\t-\n"
		   "closed\t3\t2\topen\topen\t0\t0\t-1\t0\t/usr/bin/bash+0x10\n",
		   "fd\t5\t2\tfile\t/tmp/y\tr\t0\texec\tdup2\t33\t330\t3\t2\t/usr/bin/bash+0x20\n"
		   "fd\t7\t2\tfile\t/tmp/x\tw\t0\texec\tfork\t32\t320\t7\t2\t-\n");
}

/* What is not a redirection: a program that is no shell opens a file and
 * execs; dash's here-document pipe; a shell's file moved by a library's
 * dup2; a redirection whose open nobody recorded. */
static void write_others(const char *dir)
{
	write_exec(dir, 40, 1, "/nonexistent/p",
		   "fd\t3\t2\tfile\t/etc/hostname\tr\t0\topen\topen\t0\t0\t-1\t0\t/nonexistent/p+0x10\n",
		   "fd\t3\t2\tfile\t/etc/hostname\tr\t0\texec\topen\t0\t0\t-1\t0\t/nonexistent/p+0x10\n");
	write_exec(dir, 41, 1, "/usr/bin/dash",
		   "fd\t4\t2\tpipe\tpipe:[5]\tr\t0\topen\tpipe\t0\t0\t-1\t0\t/usr/bin/dash+0x30\n",
		   "fd\t4\t2\tpipe\tpipe:[5]\tr\t0\texec\tpipe\t0\t0\t-1\t0\t/usr/bin/dash+0x30\n");
	write_exec(dir, 42, 1, "/usr/bin/bash",
		   "fd\t9\t2\tfile\t/tmp/z\tr\t0\tdup\tdup2\t42\t420\t3\t2\t/usr/lib/libplugin.so+0x40\n"
		   "closed\t3\t2\topen\topen\t0\t0\t-1\t0\t/usr/bin/bash+0x10\n",
		   "fd\t9\t2\tfile\t/tmp/z\tr\t0\texec\tdup2\t42\t420\t3\t2\t/usr/lib/libplugin.so+0x40\n");
	write_exec(dir, 43, 1, "/usr/bin/bash",
		   "fd\t6\t2\tfile\t/tmp/w\tr\t0\tdup\tdup2\t43\t430\t3\t2\t/usr/bin/bash+0x20\n",
		   "fd\t6\t2\tfile\t/tmp/w\tr\t0\texec\tdup2\t43\t430\t3\t2\t/usr/bin/bash+0x20\n");
}

static void test_recognised(void)
{
	const char *dir = new_dir("shells");
	write_shells(dir);
	write_others(dir);
	struct kt_trace *t;
	struct kt_model *m = load(dir, &t);
	if (m == NULL)
		return;
	/* The same verdict whether open() returned the number (30) or the
	 * shell moved it there (31, 33), in the shell and in a child. */
	CHECK(is_redirection(made_of(m, 30, 3)));
	CHECK(is_redirection(made_of(m, 31, 7)));
	CHECK(is_redirection(made_of(m, 32, 7)));
	CHECK(is_redirection(made_of(m, 33, 5)));
	CHECK(is_redirection(made_of(m, 33, 7)));
	CHECK(made_of(m, 40, 3) == NULL);
	CHECK(made_of(m, 41, 4) == NULL);
	CHECK(made_of(m, 42, 9) == NULL);
	CHECK(made_of(m, 43, 6) == NULL);

	/* Each redirection that reached cat is a finding, placed or not, with
	 * its origin made so. */
	const struct kt_finding *f;
	CHECK((f = leak(m, 30, 3)) != NULL && is_redirection(f->origin.made) &&
	      strstr(f->explanation, "redirection the script asked for") != NULL);
	CHECK((f = leak(m, 31, 7)) != NULL && is_redirection(f->origin.made));
	CHECK((f = leak(m, 33, 5)) != NULL && is_redirection(f->origin.made));
	CHECK((f = leak(m, 40, 3)) != NULL && f->origin.made == NULL);
	CHECK((f = leak(m, 41, 4)) != NULL && f->origin.made == NULL);
	/* Placed by dup2 and not a shell's redirection: no finding, as before. */
	CHECK(leak(m, 42, 9) == NULL && leak(m, 43, 6) == NULL);

	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	CHECK(kt_render(out, m, KT_FORMAT_JSON) == 0);
	fclose(out);
	CHECK(strstr(json, "\"made\": \"shell-redirection\"") != NULL);
	free(json);

	/* The built-in rules drop exactly the redirections. */
	size_t before = m->nfindings;
	struct kt_suppressions s = {0};
	CHECK(kt_suppressions_load_defaults(&s));
	kt_suppressions_apply(&s, m);
	kt_suppressions_free(&s);
	CHECK(m->nsuppressed == 4 && m->nfindings == before - 4);
	CHECK(leak(m, 30, 3) == NULL && leak(m, 31, 7) == NULL && leak(m, 40, 3) != NULL &&
	      leak(m, 41, 4) != NULL);
	kt_model_free(m);
	kt_trace_free(t);
}

static void test_rules(void)
{
	const char *dir = new_dir("rules");
	write_file(dir, "good.supp", "made=shell-redirection kind=leaked-across-exec\nmade=shell-*\n");
	write_file(dir, "empty.supp", "made=\n");
	char path[4400];
	struct kt_suppressions s = {0};
	struct kt_error err = {{0}};
	snprintf(path, sizeof path, "%s/good.supp", dir);
	CHECK(kt_suppressions_load(&s, path, &err) && s.n == 2 && s.rules[0].made != NULL);
	kt_suppressions_free(&s);
	snprintf(path, sizeof path, "%s/empty.supp", dir);
	CHECK(!kt_suppressions_load(&s, path, &err) && strstr(err.msg, "empty value for made"));
	kt_suppressions_free(&s);
}

int main(void)
{
	unit_begin("test_shell");
	test_names();
	test_recognised();
	test_rules();
	return unit_end("test_shell");
}
