/* This process in the trace: start-up (constructor and main), its record
 * file and image line, fork children, exit and exec. What an image starts
 * with: initial_fds.c; the report of a plain LD_PRELOAD run:
 * plain_report.c. */
#include "shim.h"
#include "image.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"
#include "tracedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct kt_self kt_self;
atomic_int kt_active;
char kt_exe_path[4096];

/* This image's command line, copied at start-up (the program may change its
 * argv), for its image line and its fork children's; the room that line
 * takes at most. */
static const char **image_argv;
static int image_argc;
static size_t image_line_max;
static atomic_int process_ended;

extern char **environ;

void kt_shim_say(const char *what, const char *detail, int err)
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

void kt_shim_warn(const char *what, const char *detail, int err)
{
	/* The launcher speaks for the run (kt_lost); else the first process
	 * of the run that has something to say. */
	if (!kt_launcher_run && kt_warn_once_claim())
		kt_shim_say(what, detail, err);
}

void kt_trace_path(char *out, size_t n, const char *prefix, const char *suffix)
{
	struct kt_buf b = {out, 0, n - 1, 0};
	kt_buf_str(&b, kt_self.dir);
	kt_buf_str(&b, "/");
	kt_buf_str(&b, prefix);
	kt_buf_str(&b, kt_self.name);
	kt_buf_str(&b, suffix);
	out[b.overflow ? 0 : b.len] = '\0';
}

static int write_all(int fd, const char *data, size_t len)
{
	/* One write: O_APPEND keeps concurrent writers' records whole. */
	while (len) {
		ssize_t w = kt_sys_write(fd, data, len);
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? (int)w : -ENOSPC; /* nothing written: no room */
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* All of data or nothing: a record cut short (a full file system) would
 * make the whole trace unreadable, so what a failed write left is taken
 * back, and a record this call made is removed. */
static int append_to_record(pid_t pid, unsigned long long start, const char *data, size_t len,
			    int create)
{
	char path[4200];
	kt_trace_rec_path(path, sizeof path, kt_self.dir, pid, start);
	int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK;
	int fd = kt_sys_open_high(AT_FDCWD, path, flags | (create ? O_CREAT | O_EXCL : 0), 0600);
	if (fd == -EEXIST) {
		create = 0;
		fd = kt_sys_open_high(AT_FDCWD, path, flags, 0);
	}
	if (fd < 0)
		return fd;
	struct stat st;
	int r = kt_sys_fstat(fd, &st);
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r == 0 && !kt_sys_fsize_allows((unsigned long long)st.st_size + len))
		r = -EFBIG;
	if (r == 0 && (r = write_all(fd, data, len)) < 0) {
		if (create)
			kt_sys_unlinkat(AT_FDCWD, path, 0);
		else
			kt_sys_ftruncate(fd, st.st_size);
	}
	kt_sys_close(fd);
	return r;
}

int kt_write_record(const char *data, size_t len, int create)
{
	kt_own_fds_begin();
	int r = append_to_record(kt_self.pid, kt_self.start, data, len, create);
	kt_own_fds_end();
	return r;
}

int kt_write_record_of(pid_t pid, unsigned long long start, const char *data, size_t len)
{
	return append_to_record(pid, start, data, len, 1);
}

static void set_name(void)
{
	kt_proc_name(kt_self.name, kt_self.pid, kt_self.start, "");
}

static int identify(void)
{
	kt_self.pid = kt_sys_getpid();
	int r = kt_proc_stat(0, &kt_self.start, &kt_self.ppid, NULL);
	if (r < 0)
		return r;
	set_name();
	return 0;
}

/* The parent's start time, unless the earlier image's record gave it
 * (kt_adopt_initial_fds): three system calls fewer per exec. */
void kt_learn_parent_start(void)
{
	unsigned long long pstart = 0;
	if (!kt_self.parent_start && kt_proc_stat(kt_self.ppid, &pstart, NULL, NULL) == 0)
		kt_self.parent_start = pstart;
}

/* Record start: magic line (new processes) and the image line; a fork
 * child's "forked" line (fork_time, 0 for none), a spawned one's "spawned". */
static int write_image(int with_magic, uint64_t fork_time)
{
	/* A usual command line fits on the stack (a fork child and every
	 * image write one): no mmap and munmap for it. */
	char small[2048];
	size_t cap = image_line_max + 256;
	char *buf = cap <= sizeof small ? small
					: mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -ENOMEM;
	struct kt_buf b = {buf, 0, cap, 0};
	if (with_magic)
		kt_rec_put_magic(&b);
	kt_rec_put_image(&b, &(struct kt_rec_image){kt_self.pid, kt_self.ppid, kt_self.parent_start,
						     kt_self.start, kt_exe_path, image_argc,
						     image_argv});
	if (fork_time)
		kt_rec_put_forked(&b, fork_time);
	else if (with_magic && kt_spawned_by)
		kt_rec_put_spawned(&b, kt_spawned_by, kt_spawn_time);
	int r = b.overflow ? -ENOMEM : kt_write_record(buf, b.len, with_magic);
	if (buf != small)
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
	/* A usual command line fits here: no mmap for it in every image. */
	static _Alignas(sizeof(char *)) char usual[1024];
	char *mem = cap <= sizeof usual ? usual
					: mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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

/* The first process of a plain LD_PRELOAD run makes a temporary trace
 * directory, and tells its descendants where it is and who reports. */
static int make_root_dir(void)
{
	int r = kt_trace_make_temp(kt_self.dir, sizeof kt_self.dir);
	if (r < 0)
		return r;
	setenv("KCMPTRACE_DIR", kt_self.dir, 1);
	setenv("KCMPTRACE_ROOT", kt_self.name, 1);
	return 0;
}

/* The earlier image could not write its exec snapshot and kept that in
 * its table, which ours replaces: the record keeps it. */
static void forward_lost_exec(const struct kt_fd_entry *before)
{
	struct kt_rec_unrecorded lost;
	if (before && kt_table_lost_of(before, &lost) && lost.what == KT_LOST_EXEC)
		kt_lost_forward(&lost);
}

void kt_init(int argc, char **argv, char **envp)
{
	static atomic_int done;
	bool made_dir = false;
	(void)envp;
	if (atomic_exchange(&done, 1))
		return;
	/* main finds errno as it would untraced (the access() below fails
	 * with ENOENT in every new process). */
	int saved_errno = errno;
	kt_lost_init();
	kt_warn_once_init();
	kt_resolve();
	const char *dir = getenv("KCMPTRACE_DIR");
	int r = 0;
	struct kt_arena arena = {0};
	kt_own_fds_begin();
	/* Threads made before this constructor (by other libraries'): /proc
	 * counts them in the links of its task directory (2 + threads). */
	struct stat task;
	if (stat("/proc/self/task", &task) != 0 || task.st_nlink > 3)
		kt_threads_possible();
	if (getenv("KCMPTRACE_DISABLE"))
		goto out;
	if ((r = identify()) < 0) {
		kt_shim_warn("cannot read /proc/self/stat;", "this process is not traced", -r);
		goto out;
	}
	cache_image(argc, argv);
	if (dir && *dir) {
		if (strlen(dir) >= sizeof kt_self.dir) {
			kt_shim_warn("trace directory name too long;", "this process is not traced", 0);
			goto out;
		}
		strcpy(kt_self.dir, dir);
		const char *why;
		if (kt_trace_dir_safe(dir, &why) == -EPERM) {
			char detail[4400];
			struct kt_buf b = {detail, 0, sizeof detail - 1, 0};
			kt_buf_str(&b, dir);
			kt_buf_str(&b, " ");
			kt_buf_str(&b, why);
			kt_buf_str(&b, "; tracing is off");
			detail[b.len] = '\0';
			kt_shim_warn("trace directory", detail, 0);
			setenv("KCMPTRACE_DISABLE", "1", 1); /* say it once for the tree */
			goto out;
		}
	} else if ((r = make_root_dir()) < 0) {
		kt_shim_warn("cannot create a trace directory;", "tracing is off", -r);
		setenv("KCMPTRACE_DISABLE", "1", 1); /* say it once for the tree */
		goto out;
	} else {
		made_dir = true;
	}
	if (!kt_launcher_run)
		kt_warn_once_map(kt_self.dir); /* before anything can fail */
	const char *root = getenv("KCMPTRACE_ROOT");
	kt_self.root = root && strcmp(root, kt_self.name) == 0;
	if (kt_self.root)
		kt_plain_remember_stderr();

	if ((r = kt_trace_make_live(kt_self.dir)) < 0)
		goto unwritable;
	char path[4200];
	kt_trace_rec_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start);
	int continuation = access(path, F_OK) == 0;
	/* The earlier image's table, until this image's replaces it. */
	size_t before_cap = 0;
	const struct kt_fd_entry *before =
		continuation ? kt_table_map_replaced(&before_cap) : NULL;
	r = kt_table_create();
	if (r == 0) {
		kt_adopt_initial_fds(&arena, continuation, before, before_cap);
		kt_keep_closed_generations(before, before_cap);
	}
	if (r == 0)
		forward_lost_exec(before);
	kt_table_unmap(before, before_cap);
	if (r < 0)
		goto unwritable;
	if ((r = write_image(!continuation, 0)) < 0) {
		kt_table_remove();
		goto unwritable;
	}
	kt_env_init(); /* after KCMPTRACE_DIR and _ROOT are set, for the root */
	kt_stack_init();
	atomic_store(&kt_active, 1);
	goto out;
unwritable:
	kt_lost(KT_LOST_START, -r, NULL);
	kt_shim_warn("cannot write the trace in", kt_self.dir, -r);
	/* Said once for the tree; the launcher says it for the run instead,
	 * and the program's environment stays its own. */
	if (!kt_launcher_run)
		setenv("KCMPTRACE_DISABLE", "1", 1);
	/* A plain run's first process made the directory for nothing: the
	 * tree is untraced from here on, nobody would ever remove it. */
	if (made_dir)
		kt_trace_remove(kt_self.dir);
out:
	kt_own_fds_end();
	/* The program sees the environment it was given, whatever became of
	 * its trace. */
	kt_env_hide();
	/* kt_prior points into the arena: keep it mapped for the life of the image. */
	if (!kt_prior)
		kt_arena_release(&arena);
	errno = saved_errno;
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
	kt_process_end_then_handlers(status & 0xff);
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
	pid_t parent = kt_self.pid;
	unsigned long long parent_start = kt_self.start;
	kt_self.pid = kt_sys_getpid();
	kt_self.ppid = parent;
	kt_self.parent_start = parent_start;
	kt_self.root = 0;
	kt_own_fds_fork_child();
	kt_forget_bad_closes();
	kt_closed_forget();
	kt_real_end_expect(0);
	int r = kt_table_fork_child_start(prep, &kt_self.start);
	if (r == 0) {
		set_name();
		r = kt_table_fork_child(prep);
		if (r == 0 && (r = write_image(1, prep->time)) < 0)
			kt_table_fork_lost(-r);
	}
	if (r < 0)
		kt_table_fork_release(); /* untraced: no comparisons to come */
	else
		kt_table_fork_settle();
	if (r < 0) {
		atomic_store(&kt_active, 0);
		kt_shim_warn("cannot write the trace in", kt_self.dir, -r);
	}
	errno = saved;
}

void kt_after_failed_exec(void)
{
	if (!atomic_load(&kt_active))
		return;
	int saved = errno; /* the exec's: the program reads it next */
	kt_own_fds_begin();
	kt_table_set_execing(0);
	kt_table_mark_untraced(0);
	kt_watch_release();
	kt_own_fds_end();
	errno = saved;
}

void kt_process_end_then_handlers(int status)
{
	kt_stdio_exit_flushes(); /* exit flushes stdio after the handlers */
	kt_table_changes_reset(); /* before the snapshot: what changes during it counts */
	/* The first process of a plain run has reported already. */
	if (kt_process_end(status) && !kt_self.root)
		kt_real_end_expect(1);
}

bool kt_end_is_final;

int kt_process_end_final(int status)
{
	kt_end_is_final = true;
	int r = kt_process_end(status);
	kt_end_is_final = false;
	return r;
}

int kt_process_end(int status)
{
	if (!atomic_load(&kt_active))
		return 0;
	if (atomic_exchange(&process_ended, 1)) {
		kt_real_end(); /* a second end (_exit in an exit handler): the real one */
		return 0;
	}
	int saved = errno;
	kt_own_fds_begin();
	int r = kt_snapshot(KT_WHY_EXIT, status, NULL);
	if (r < 0)
		kt_lost(KT_LOST_EXIT, -r, NULL);
	/* Else the table is all the report will have of this process, or of
	 * its children that could not get one, or of a loss its record could
	 * not take (in its header). */
	if (r == 0 && !kt_table_keeps_losses())
		kt_table_remove();
	if (kt_self.root)
		kt_trace_mark_reported(kt_self.dir); /* those that outlive us remove the trace */
	else
		kt_plain_remove_if_last();
	kt_own_fds_end();
	/* outside the section: the report takes a while, other threads may close */
	if (kt_self.root)
		kt_plain_report();
	errno = saved;
	return 1;
}

void kt_before_exec(int dirfd, const char *path, int flags)
{
	if (!atomic_load(&kt_active))
		return;
	int saved = errno;
	kt_real_end_expect(0); /* an exec from an exit handler: the new image ends it */
	kt_own_fds_begin();
	const char *why = kt_exec_untraced(dirfd, path, flags);
	/* The report lists the process as untraced from here on. */
	struct kt_rec_untraced untraced = {path && *path ? path : "(descriptor)", why};
	int r = kt_snapshot(KT_WHY_EXEC, -1, why ? &untraced : NULL);
	if (r < 0) {
		kt_lost(KT_LOST_EXEC, -r, untraced.path);
		/* The table then tells what the new image keeps. */
		if (!why)
			kt_table_retire_cloexec(1);
	}
	/* Others observe it from outside from now on; a failed exec (the
	 * process goes on here) turns that off again (kt_after_failed_exec). */
	if (why)
		kt_table_mark_untraced(1);
	if (why && strcmp(why, KT_UNTRACED_STATIC) == 0)
		kt_watch_ask();
	kt_table_set_execing(1);
	kt_own_fds_end();
	errno = saved;
}
