/* This process in the trace: start-up (constructor and main), the trace
 * directory and record file, fork children, exit and exec, and the report
 * that the first process of a plain LD_PRELOAD run writes at its exit. */
#include "shim.h"
#include "image.h"
#include "procfs.h"
#include "record.h"
#include "kcmp_group.h"
#include "sys.h"
#include "tracedir.h"

#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/wait.h>

struct kt_process kt_proc;
atomic_int kt_active;
char kt_exe_path[4096];
struct kt_rec_fd *kt_prior;
size_t kt_prior_count;

/* This image's command line, copied at start-up (the program may change its
 * argv), for its image line and its fork children's; the room that line
 * takes at most. */
static const char **image_argv;
static int image_argc;
static size_t image_line_max;
static atomic_int process_ended;

extern char **environ;

void kt_warn(const char *what, const char *detail, int err)
{
	char line[1024];
	struct kt_buf b = {line, 0, sizeof line - 2, 0};
	kt_buf_str(&b, "kcmptrace: warning: ");
	kt_buf_str(&b, what);
	if (detail) {
		kt_buf_str(&b, " ");
		kt_buf_str(&b, detail);
	}
	if (err) {
		kt_buf_str(&b, ": ");
		kt_buf_str(&b, strerror(err));
	}
	b.overflow = 0;
	kt_buf_put(&b, "\n", 1);
	kt_sys_write(2, line, b.len);
}

void kt_trace_path(char *out, size_t n, const char *prefix, const char *suffix)
{
	struct kt_buf b = {out, 0, n - 1, 0};
	kt_buf_str(&b, kt_proc.dir);
	kt_buf_str(&b, "/");
	kt_buf_str(&b, prefix);
	kt_buf_str(&b, kt_proc.name);
	kt_buf_str(&b, suffix);
	out[b.overflow ? 0 : b.len] = '\0';
}

int kt_write_record(const char *data, size_t len)
{
	char path[4200];
	kt_trace_path(path, sizeof path, "", ".rec");
	int fd = kt_sys_open_high(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0)
		return fd;
	/* One write: O_APPEND keeps concurrent writers' records whole. */
	while (len) {
		ssize_t w = kt_sys_write(fd, data, len);
		if (w == -EINTR)
			continue;
		if (w <= 0) {
			kt_sys_close(fd);
			return w < 0 ? (int)w : -EIO;
		}
		data += w;
		len -= (size_t)w;
	}
	kt_sys_close(fd);
	return 0;
}

static void set_name(void)
{
	kt_proc_name(kt_proc.name, kt_proc.pid, kt_proc.start, "");
}

static int identify(void)
{
	kt_proc.pid = kt_sys_getpid();
	int r = kt_proc_stat(0, &kt_proc.start, &kt_proc.ppid, NULL);
	if (r < 0)
		return r;
	set_name();
	unsigned long long pstart = 0;
	if (kt_proc_stat(kt_proc.ppid, &pstart, NULL, NULL) == 0)
		kt_proc.parent_start = pstart;
	return 0;
}

/* Record start: magic line (new processes) and the image line. */
static int write_image(int with_magic)
{
	size_t cap = image_line_max + 256;
	char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -ENOMEM;
	struct kt_buf b = {buf, 0, cap, 0};
	if (with_magic)
		kt_rec_put_magic(&b);
	kt_rec_put_image(&b, &(struct kt_rec_image){kt_proc.pid, kt_proc.ppid, kt_proc.parent_start,
						     kt_proc.start, kt_exe_path, image_argc,
						     image_argv});
	int r = b.overflow ? -ENOMEM : kt_write_record(buf, b.len);
	munmap(buf, cap);
	return r;
}

static void cache_image(int argc, char **argv)
{
	ssize_t n = kt_sys_readlinkat(AT_FDCWD, "/proc/self/exe", kt_exe_path, sizeof kt_exe_path - 1);
	kt_exe_path[n > 0 ? n : 0] = '\0';
	int count = 0;
	size_t text = 0;
	while (count < argc && argv && argv[count])
		text += strlen(argv[count++]) + 1;
	size_t cap = (size_t)(count + 1) * sizeof *image_argv + text;
	char *mem = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return;
	const char **copy = (const char **)(void *)mem;
	char *at = mem + (size_t)(count + 1) * sizeof *image_argv;
	for (int i = 0; i < count; i++) {
		size_t len = strlen(argv[i]) + 1;
		copy[i] = memcpy(at, argv[i], len);
		at += len;
	}
	image_argv = copy;
	image_argc = count;
	/* worst case: every byte escaped */
	image_line_max = 64 + 4 * strlen(kt_exe_path) + 4 * text + 4 * (size_t)count;
}

/* The next line of text (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p)
{
	if (**p == '\0')
		return NULL;
	char *line = *p, *nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* After an exec of a traced process, read the snapshot taken just before
 * it, so that kept descriptors keep their generation and origin. */
static void load_prior_snapshot(struct kt_arena *arena)
{
	char path[4200];
	kt_trace_path(path, sizeof path, "", ".rec");
	int fd = kt_sys_open_high(AT_FDCWD, path, O_RDONLY, 0);
	if (fd < 0)
		return;
	struct stat st;
	char *text = NULL;
	if (kt_sys_fstat(fd, &st) == 0 && st.st_size > 0)
		text = kt_arena_alloc(arena, (size_t)st.st_size + 1);
	size_t len = 0;
	while (text && len < (size_t)st.st_size) {
		ssize_t r = kt_sys_read(fd, text + len, (size_t)st.st_size - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	kt_sys_close(fd);
	if (!text)
		return;
	text[len] = '\0';
	size_t lines = 1;
	for (char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	kt_prior = kt_arena_alloc(arena, lines * sizeof *kt_prior);
	if (!kt_prior)
		return;
	/* The fd records of the last snapshot. Strings stay in text, which the
	 * arena keeps for the life of this image. */
	char *p = text, *line, *f[16];
	struct kt_rec_line l;
	struct kt_rec_error err;
	bool in_snap = false;
	while ((line = next_line(&p)) != NULL) {
		if (!kt_rec_line_split(line, f, 16, &l, &err))
			continue;
		if (l.kind == KT_REC_SNAP) {
			kt_prior_count = 0;
			in_snap = true;
		} else if (l.kind == KT_REC_END) {
			in_snap = false;
		} else if (l.kind == KT_REC_FD && in_snap &&
			   kt_rec_parse_fd(&l, &kt_prior[kt_prior_count], &err)) {
			kt_prior_count++;
		}
	}
	if (kt_prior_count == 0)
		kt_prior = NULL; /* nothing to keep the text for */
}

static const struct kt_rec_fd *prior_for(int fd)
{
	for (size_t i = 0; i < kt_prior_count; i++)
		if (kt_prior[i].fd == fd)
			return &kt_prior[i];
	return NULL;
}

/* The descriptors this image starts with. */
/* posix_spawn tells its child which descriptors its file actions placed:
 * KCMPTRACE_SPAWN=PPID:FD=d,FD=o (d: dup2, o: open); see hooks_spawn.c. */
static char spawn_actions[512];

static void take_spawn_actions(void)
{
	const char *v = getenv("KCMPTRACE_SPAWN");
	if (!v)
		return;
	char want[24];
	snprintf(want, sizeof want, "%d:", (int)kt_proc.ppid);
	if (strncmp(v, want, strlen(want)) == 0)
		snprintf(spawn_actions, sizeof spawn_actions, ",%s,", v + strlen(want));
	unsetenv("KCMPTRACE_SPAWN"); /* not for the program, nor its children */
}

/* 'd', 'o' or 0: what a spawn file action did to fd. */
static char spawn_action_for(int fd)
{
	char key[24];
	snprintf(key, sizeof key, ",%d=", fd);
	const char *at = strstr(spawn_actions, key);
	return at ? at[strlen(key)] : 0;
}

/* The descriptors this image starts with. */
static void adopt_initial_fds(struct kt_arena *arena, int continuation)
{
	struct kt_fd_list list = KT_ARENA_FD_LIST(arena);
	list.cap = 1024;
	long n = kt_proc_list_all(0, &list);
	if (n <= 0)
		return;
	const int *fds = list.fds;

	struct kt_other_view pv = {0};
	if (!continuation && kt_proc.parent_start && kt_kcmp_probe(fds[0]) == 0)
		kt_other_open(&pv, kt_proc.ppid, kt_proc.parent_start);
	if (!continuation)
		take_spawn_actions();

	for (long i = 0; i < n; i++) {
		int fd = fds[i];
		const struct kt_rec_fd *prior = continuation ? prior_for(fd) : NULL;
		int fdflags = kt_sys_fcntl(fd, F_GETFD, 0);
		struct kt_fd_entry v;
		memset(&v, 0, sizeof v);
		v.cloexec = fdflags > 0 && (fdflags & FD_CLOEXEC);
		v.src_fd = -1;
		uint32_t gen = 2, pgen;
		char action = continuation ? 0 : spawn_action_for(fd);
		int pfd;
		if (prior) {
			v.how = prior->how == KT_HOW_UNKNOWN ? KT_HOW_UNKNOWN : KT_HOW_EXEC;
			gen = (uint32_t)prior->gen;
		} else if (action == 'o') {
			v.how = KT_HOW_OPEN; /* opened in the child by a spawn file action */
			v.call = KT_CALL_POSIX_SPAWN;
		} else if (pv.table && (pfd = kt_other_find(&pv, arena, fd, &pgen)) >= 0) {
			v.how = KT_HOW_INHERITED;
			v.call = action == 'd' ? KT_CALL_POSIX_SPAWN : KT_CALL_NONE;
			v.src_pid = kt_proc.ppid;
			v.src_start = kt_proc.parent_start;
			v.src_fd = pfd;
			v.src_gen = pgen;
			gen = pgen;
		} else if (pv.table && kt_other_popen_end(&pv, arena, fd)) {
			/* The far end of a pipe its parent's popen made: glibc put it
			 * here and closed the parent's copy at once (not the same
			 * description as anything the parent holds: no source fd). */
			v.how = KT_HOW_INHERITED;
			v.call = KT_CALL_POPEN;
			v.src_pid = kt_proc.ppid;
			v.src_start = kt_proc.parent_start;
		} else {
			v.how = KT_HOW_UNKNOWN;
		}
		kt_table_adopt(fd, &v, gen);
	}
	/* Descriptors closed on exec: their numbers start the new image closed
	 * at the generation they had, so a reuse gets a new one and never the
	 * name of a description that is gone. */
	for (size_t i = 0; continuation && i < kt_prior_count; i++) {
		struct kt_fd_entry *e = kt_table_entry(kt_prior[i].fd);
		if (e && atomic_load(&e->gen) == 0) {
			struct kt_fd_entry v;
			memset(&v, 0, sizeof v);
			v.src_fd = -1;
			kt_table_adopt(kt_prior[i].fd, &v, (uint32_t)kt_prior[i].gen | 1u);
		}
	}
	kt_other_close(&pv);
}

/* The first process of a plain LD_PRELOAD run makes a temporary trace
 * directory, and tells its descendants where it is and who reports. */
static int make_root_dir(void)
{
	int r = kt_trace_make_temp(kt_proc.dir, sizeof kt_proc.dir);
	if (r < 0)
		return r;
	setenv("KCMPTRACE_DIR", kt_proc.dir, 1);
	setenv("KCMPTRACE_ROOT", kt_proc.name, 1);
	return 0;
}

void kt_init(int argc, char **argv, char **envp)
{
	static atomic_int done;
	(void)envp;
	if (atomic_exchange(&done, 1))
		return;
	kt_resolve();
	const char *dir = getenv("KCMPTRACE_DIR");
	int r = 0;
	struct kt_arena arena = {0};
	if (getenv("KCMPTRACE_DISABLE"))
		goto out;
	if ((r = identify()) < 0) {
		kt_warn("cannot read /proc/self/stat;", "this process is not traced", -r);
		goto out;
	}
	cache_image(argc, argv);
	if (dir && *dir) {
		if (strlen(dir) >= sizeof kt_proc.dir) {
			kt_warn("trace directory name too long;", "this process is not traced", 0);
			goto out;
		}
		strcpy(kt_proc.dir, dir);
	} else if ((r = make_root_dir()) < 0) {
		kt_warn("cannot create a trace directory;", "tracing is off", -r);
		setenv("KCMPTRACE_DISABLE", "1", 1); /* say it once for the tree */
		goto out;
	}
	const char *root = getenv("KCMPTRACE_ROOT");
	kt_proc.root = root && strcmp(root, kt_proc.name) == 0;

	if ((r = kt_trace_make_live(kt_proc.dir)) < 0)
		goto unwritable;
	char path[4200];
	kt_trace_path(path, sizeof path, "", ".rec");
	int continuation = access(path, F_OK) == 0;
	if ((r = kt_table_create()) < 0)
		goto unwritable;
	if (continuation)
		load_prior_snapshot(&arena);
	adopt_initial_fds(&arena, continuation);
	if ((r = write_image(!continuation)) < 0) {
		kt_table_remove();
		goto unwritable;
	}
	kt_env_init(); /* after KCMPTRACE_DIR and _ROOT are set, for the root */
	kt_stack_init();
	atomic_store(&kt_active, 1);
	goto out;
unwritable:
	kt_warn("cannot write the trace in", kt_proc.dir, -r);
	setenv("KCMPTRACE_DISABLE", "1", 1);
out:
	/* kt_prior points into the arena: keep it mapped for the life of the image. */
	if (!kt_prior)
		kt_arena_release(&arena);
}

__attribute__((constructor)) static void kt_constructor(int argc, char **argv, char **envp)
{
	kt_init(argc, argv, envp);
}

/* ---- main: the end of main is the end of the process's own work ---- */
static int (*app_main)(int, char **, char **);

static int main_wrapper(int argc, char **argv, char **envp)
{
	int status = app_main(argc, argv, envp);
	/* Before atexit handlers: coreutils close stdio in one. */
	kt_process_end(status & 0xff);
	return status;
}

KT_EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
				void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
				void *stack_end)
{
	app_main = main;
	return KT_REAL(libc_start_main)(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

void kt_after_fork_child(struct kt_fork_prep *prep)
{
	int saved = errno;
	atomic_store(&process_ended, 0);
	pid_t parent = kt_proc.pid;
	unsigned long long parent_start = kt_proc.start;
	kt_proc.pid = kt_sys_getpid();
	kt_proc.ppid = parent;
	kt_proc.parent_start = parent_start;
	kt_proc.root = 0;
	int r = kt_proc_stat(0, &kt_proc.start, NULL, NULL);
	if (r == 0) {
		set_name();
		r = kt_table_fork_child(prep);
		if (r == 0)
			r = write_image(1);
	}
	if (r < 0) {
		atomic_store(&kt_active, 0);
		kt_warn("cannot write the trace in", kt_proc.dir, -r);
	}
	errno = saved;
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

	const char *format = getenv("KCMPTRACE_FORMAT");
	const char *output = getenv("KCMPTRACE_OUTPUT");
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
	args[a++] = "--remove-if-done";
	args[a++] = kt_proc.dir;
	args[a] = NULL;

	size_t envc = 0;
	while (environ && environ[envc])
		envc++;
	char **env = mmap(NULL, (envc + 1) * sizeof *env, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (env == MAP_FAILED)
		return;
	size_t k = 0;
	/* Untraced, and without the trace's settings but the report's own. */
	for (size_t i = 0; i < envc; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    (strncmp(environ[i], "KCMPTRACE_", 10) != 0 ||
		     strncmp(environ[i], "KCMPTRACE_LEAKS=", 16) == 0 ||
		     strncmp(environ[i], "KCMPTRACE_STACK=", 16) == 0))
			env[k++] = environ[i];
	env[k] = NULL;

	/* A raw fork: the application's atfork handlers must not run for us. */
	pid_t pid = kt_sys_fork();
	if (pid == 0) {
		int err = kt_sys_execve(cli, args, env);
		kt_warn("cannot run", cli, -err);
		kt_sys_exit_group(127);
	}
	if (pid > 0) {
		int st;
		while (kt_sys_wait4(pid, &st, 0) == -EINTR)
			;
	}
	munmap(env, (envc + 1) * sizeof *env);
}

static int any_table(pid_t pid, unsigned long long start, void *ctx)
{
	(void)pid;
	(void)start;
	(void)ctx;
	return 1;
}

/* Plain LD_PRELOAD run, temporary trace: the first process has reported,
 * but left the directory because some processes still ran. The last of
 * them to end removes it (nothing reads it any more). */
static void remove_trace_if_last(void)
{
	if (kt_trace_reported(kt_proc.dir) && kt_trace_each_table(kt_proc.dir, any_table, NULL) == 0)
		kt_trace_remove(kt_proc.dir);
}

void kt_after_failed_exec(void)
{
	if (!atomic_load(&kt_active))
		return;
	int saved = errno; /* the exec's: the program reads it next */
	kt_table_mark_untraced(0);
	kt_watch_release();
	errno = saved;
}

void kt_process_end(int status)
{
	if (!atomic_load(&kt_active))
		return;
	if (atomic_exchange(&process_ended, 1))
		return;
	int saved = errno;
	kt_snapshot(KT_WHY_EXIT, status, NULL);
	kt_table_remove();
	if (kt_proc.root) {
		/* Tell the processes that outlive us to remove the trace. */
		kt_trace_mark_reported(kt_proc.dir);
		spawn_report();
	} else {
		remove_trace_if_last();
	}
	errno = saved;
}

void kt_before_exec(int dirfd, const char *path, int flags)
{
	if (!atomic_load(&kt_active))
		return;
	int saved = errno;
	const char *why = kt_exec_untraced(dirfd, path, flags);
	/* The report lists the process as untraced from here on. */
	struct kt_rec_untraced untraced = {path && *path ? path : "(descriptor)", why};
	kt_snapshot(KT_WHY_EXEC, -1, why ? &untraced : NULL);
	/* Others observe it from outside from now on; a failed exec (the
	 * process goes on here) turns that off again (kt_after_failed_exec). */
	if (why)
		kt_table_mark_untraced(1);
	if (why && strcmp(why, KT_UNTRACED_STATIC) == 0)
		kt_watch_ask();
	errno = saved;
}
