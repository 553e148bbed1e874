/* The report of a plain LD_PRELOAD run (no launcher): the first traced
 * process renders it with the CLI at its exit, and the last traced
 * process of the tree removes a temporary trace. */
#include "shim.h"
#include "procfs.h"
#include "sys.h"
#include "tracedir.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* The report goes to the program's stderr as it was at start: a program
 * that closes fd 2 must not lose it (nor put it on its stdout). */
static struct {
	int known;
	dev_t dev;
	ino_t ino;
	char path[4096]; /* what /proc/self/fd/2 named */
} start_stderr;

void kt_plain_remember_stderr(void)
{
	struct stat st;
	if (kt_sys_fstat(2, &st) != 0)
		return;
	ssize_t n = kt_sys_readlinkat(AT_FDCWD, "/proc/self/fd/2", start_stderr.path,
				      sizeof start_stderr.path - 1);
	start_stderr.path[n > 0 ? n : 0] = '\0';
	start_stderr.dev = st.st_dev;
	start_stderr.ino = st.st_ino;
	start_stderr.known = 1;
}

/* In the report's child: a descriptor for the start's stderr, opened
 * again by its name or through the parent that still holds it (a pipe),
 * and only if it is the same file; -1 when there is none. */
static int reopen_start_stderr(void)
{
	char parent[64];
	snprintf(parent, sizeof parent, "/proc/%d/fd/2", (int)kt_self.ppid);
	const char *const names[] = {start_stderr.path, parent};
	for (size_t i = 0; start_stderr.known && i < 2; i++) {
		if (names[i][0] != '/')
			continue; /* "pipe:[...]": no name to open */
		int fd = kt_sys_openat(AT_FDCWD, names[i], O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC, 0);
		struct stat st;
		if (fd >= 0 && kt_sys_fstat(fd, &st) == 0 && st.st_dev == start_stderr.dev &&
		    st.st_ino == start_stderr.ino)
			return fd;
		if (fd >= 0)
			kt_sys_close(fd);
	}
	return -1;
}

/* In the report's child, without KCMPTRACE_OUTPUT: the report goes to
 * stdout, which is to be stderr (closed by the program: the start's
 * stderr again). Else it goes to a file kept in the trace directory
 * (args loses --remove-if-done), and the terminal, if any, is told. */
static void report_output(char **args, int remove_arg)
{
	if (kt_sys_fcntl(2, F_GETFD, 0) >= 0) {
		kt_syscall(SYS_dup3, 2, 1, 0);
		return;
	}
	int fd = reopen_start_stderr();
	if (fd >= 0) {
		kt_syscall(SYS_dup3, fd, 1, 0);
		return;
	}
	static char file[4200], line[4400];
	snprintf(file, sizeof file, "%s/report", kt_self.dir);
	for (int i = remove_arg; args[i]; i++)
		args[i] = args[i + 1];
	fd = kt_sys_openat(AT_FDCWD, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		kt_syscall(SYS_dup3, fd, 1, 0);
	int tty = kt_sys_openat(AT_FDCWD, "/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC, 0);
	if (tty >= 0) {
		int n = snprintf(line, sizeof line,
				 "kcmptrace: the program closed its stderr: report in %s\n", file);
		kt_sys_write(tty, line, (size_t)n);
		kt_sys_close(tty);
	}
}

/* In the report's process, before its exec: its own limits, not the
 * program's. A program run under `ulimit -f 1` or `ulimit -n 8` must still
 * get its report: the soft limits go up to the hard ones, and a file still
 * too large is an error the CLI reports (SIGXFSZ ignored), not a kill. */
static void report_limits(void)
{
	static const int raised[] = {RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK};
	for (size_t i = 0; i < sizeof raised / sizeof raised[0]; i++) {
		struct rlimit lim;
		if (kt_syscall(SYS_prlimit64, 0, raised[i], NULL, &lim) == 0 && lim.rlim_cur != lim.rlim_max) {
			lim.rlim_cur = lim.rlim_max;
			kt_syscall(SYS_prlimit64, 0, raised[i], &lim, NULL);
		}
	}
	struct { /* the kernel's struct sigaction; SIG_IGN needs no restorer */
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} ignore = {SIG_IGN, 0, NULL, 0};
	kt_syscall(SYS_rt_sigaction, SIGXFSZ, &ignore, NULL, sizeof ignore.mask);
}

/* The first process of a plain LD_PRELOAD run renders the report with the
 * CLI, untraced, after its own snapshot. */
static void spawn_report(void)
{
	char cli[4200] = "";
	Dl_info info;
	if (dladdr((void *)spawn_report, &info) && info.dli_fname && strchr(info.dli_fname, '/')) {
		snprintf(cli, sizeof cli, "%s", info.dli_fname);
		strcpy(strrchr(cli, '/') + 1, "kcmptrace");
	}
	/* Installed: PREFIX/LIBDIR/kcmptrace/libkcmptrace.so and PREFIX/bin,
	 * LIBDIR being lib or a multiarch lib/TRIPLET. */
	static const char *const up[] = {"../../bin/kcmptrace", "../../../bin/kcmptrace"};
	char *name = cli[0] ? strrchr(cli, '/') + 1 : NULL;
	for (size_t i = 0; name && access(cli, X_OK) != 0 && i < sizeof up / sizeof up[0]; i++)
		strcpy(name, up[i]);
	if (!cli[0] || access(cli, X_OK) != 0)
		snprintf(cli, sizeof cli, "%s/kcmptrace", KT_INSTALL_BINDIR);

	/* The trace's settings, which environ may no longer show (env.c). */
	const char *format = kt_env_setting("KCMPTRACE_FORMAT");
	const char *output = kt_env_setting("KCMPTRACE_OUTPUT");
	char format_arg[64];
	snprintf(format_arg, sizeof format_arg, "--format=%s", format && *format ? format : "text");
	char *args[8];
	int a = 0;
	args[a++] = cli;
	args[a++] = "report";
	args[a++] = format_arg;
	if (output && *output) {
		args[a++] = "-o";
		args[a++] = (char *)output;
	}
	int remove_arg = a;
	args[a++] = "--remove-if-done";
	args[a++] = kt_self.dir;
	args[a] = NULL;

	size_t envc = 0;
	while (environ && environ[envc])
		envc++;
	size_t env_size = (envc + 4) * sizeof(char *);
	char **env = mmap(NULL, env_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (env == MAP_FAILED)
		return;
	size_t k = 0;
	/* Untraced, and without the trace's settings but the report's own. */
	for (size_t i = 0; i < envc; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], "KCMPTRACE_", 10) != 0)
			env[k++] = environ[i];
	static const char *const report_settings[] = {"KCMPTRACE_LEAKS", "KCMPTRACE_STACK",
						      "KCMPTRACE_CLOSE_MINUS_ONE"};
	for (size_t i = 0; i < sizeof report_settings / sizeof report_settings[0]; i++)
		if (kt_env_setting_entry(report_settings[i]))
			env[k++] = (char *)kt_env_setting_entry(report_settings[i]);
	env[k] = NULL;

	/* A raw fork: the application's atfork handlers must not run for us. */
	pid_t pid = kt_sys_fork();
	if (pid == 0) {
		/* The report goes to the program's stderr (or KCMPTRACE_OUTPUT):
		 * `kcmptrace report` writes on its stdout. */
		if (!(output && *output))
			report_output(args, remove_arg);
		report_limits();
		int err = kt_sys_execve(cli, args, env);
		kt_shim_say("cannot run", cli, -err);
		kt_sys_exit_group(127);
	}
	if (pid > 0) {
		int st;
		while (kt_sys_wait4(pid, &st, 0) == -EINTR)
			;
	}
	munmap(env, env_size);
}

/* A table whose process still runs. A process that ended without removing
 * its own (killed, or an untraced image's) is not waited for: nobody else
 * would ever remove the trace, as the report's check already knows
 * (kt_trace_live_list). */
static int running_table(pid_t pid, unsigned long long start, void *ctx)
{
	(void)ctx;
	return kt_proc_alive(pid, start);
}

/* Plain LD_PRELOAD run, temporary trace: the first process has reported,
 * but left the directory because some processes still ran. The last of
 * them to end removes it (nothing reads it any more). */
void kt_plain_remove_if_last(void)
{
	if (kt_trace_reported(kt_self.dir) && kt_trace_each_table(kt_self.dir, running_table, NULL) == 0)
		kt_trace_remove(kt_self.dir);
}

void kt_plain_report(void)
{
	spawn_report();
}
