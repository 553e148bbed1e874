/* The descriptors an image starts with, and where each came from: kept
 * across the exec into it (the snapshot the earlier image took at its
 * exec: the exec continuation), inherited from its parent (found by kcmp
 * against the parent's descriptors), placed by a posix_spawn file action,
 * or of unknown origin. */
#include "shim.h"
#include "kcmp_group.h"
#include "procfs.h"
#include "record.h"
#include "sys.h"
#include "tracedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kt_rec_fd *kt_prior;
size_t kt_prior_count;
static bool kt_prior_sorted;

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
	kt_trace_rec_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start);
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
		struct kt_rec_image image;
		if (l.kind == KT_REC_IMAGE && kt_rec_parse_image(&l, &image, &err)) {
			/* The earlier image's parent, still ours: its start too. */
			kt_self.parent_start = image.ppid == kt_self.ppid ? image.parent_start : 0;
		} else if (l.kind == KT_REC_SNAP) {
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
	kt_prior_sorted = true;
	for (size_t i = 1; i < kt_prior_count; i++)
		kt_prior_sorted = kt_prior_sorted && kt_prior[i - 1].fd < kt_prior[i].fd;
}

/* The snapshot lists descriptors in increasing order: a binary search
 * (an image starting with 20,000 descriptors looks each up). */
static const struct kt_rec_fd *prior_for(int fd)
{
	if (!kt_prior_sorted) {
		for (size_t i = 0; i < kt_prior_count; i++)
			if (kt_prior[i].fd == fd)
				return &kt_prior[i];
		return NULL;
	}
	size_t lo = 0, hi = kt_prior_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (kt_prior[mid].fd == fd)
			return &kt_prior[mid];
		if (kt_prior[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* posix_spawn tells its child which descriptors its file actions placed:
 * KCMPTRACE_SPAWN=PPID:T=TIME,FD=d,FD=o (d: dup2, o: open); see hooks_spawn.c. */
static char spawn_actions[512];

const char *kt_spawned_by;
unsigned long long kt_spawn_time;

static void take_spawn_actions(void)
{
	const char *v = getenv("KCMPTRACE_SPAWN");
	if (!v)
		return;
	char want[24];
	snprintf(want, sizeof want, "%d:", (int)kt_self.ppid);
	if (strncmp(v, want, strlen(want)) == 0) {
		snprintf(spawn_actions, sizeof spawn_actions, ",%s,", v + strlen(want));
		kt_spawned_by = "posix_spawn";
		const char *t = strstr(spawn_actions, ",T=");
		kt_spawn_time = t ? strtoull(t + 3, NULL, 10) : 0;
	}
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

/* What an image's first descriptor is, as a making call would have
 * recorded it (table.h made_type, made_access, path): a process killed
 * before anything looked still shows it, its fork children inherit it, and
 * their snapshots need no F_GETFL for it (an access mode never changes).
 * Kept across an exec: the earlier image's record tells, no system call;
 * else info, when the caller could describe it (an image that starts a
 * tree). */
static void made_at_start(struct kt_fd_entry *v, uint32_t gen, const struct kt_rec_fd *prior,
			  const struct kt_fd_info *info)
{
	struct kt_made m = {.type = KT_FD_UNKNOWN, .access = -1};
	if (prior) {
		m = (struct kt_made){prior->type, prior->access, prior->target, 0, 0, true};
	} else if (info) {
		m = (struct kt_made){info->type, info->access, info->target, info->dev, info->ino, true};
		v->dev = info->dev;
		v->ino = info->ino;
		atomic_store_explicit(&v->ino_gen, gen, memory_order_relaxed);
	}
	kt_entry_note_made(v, &m);
}

/* The file an earlier image's table knew its descriptor fd at generation
 * gen to hold (before: that table, cap entries), kept in v: the new
 * image's snapshots then ask no F_GETFL for it, and those comparing with
 * it no fstat. */
static void inode_before_exec(struct kt_fd_entry *v, uint32_t gen, const struct kt_fd_entry *before,
			      size_t cap, int fd)
{
	if (!before || (size_t)fd >= cap || atomic_load(&before[fd].gen) != gen ||
	    atomic_load(&before[fd].ino_gen) != gen)
		return;
	v->dev = before[fd].dev;
	v->ino = before[fd].ino;
	atomic_store_explicit(&v->ino_gen, gen, memory_order_relaxed);
}

/* The descriptors this image starts with. */
void kt_adopt_initial_fds(struct kt_arena *arena, int continuation, const struct kt_fd_entry *before,
			  size_t before_cap)
{
	if (continuation)
		load_prior_snapshot(arena);
	kt_learn_parent_start();
	struct kt_fd_list list = KT_ARENA_FD_LIST(arena);
	list.cap = 1024;
	long n = kt_proc_list_all(0, &list);
	if (n <= 0)
		return;
	const int *fds = list.fds;

	struct kt_other_view pv = {0};
	if (!continuation && kt_self.parent_start && kt_kcmp_probe_as(kt_self.pid, fds[0]) == 0)
		kt_other_open(&pv, kt_self.ppid, kt_self.parent_start);
	if (!continuation)
		take_spawn_actions();
	struct kt_fd_info *info = kt_arena_alloc(arena, sizeof *info);

	for (long i = 0; i < n; i++) {
		int fd = fds[i];
		const struct kt_rec_fd *prior = continuation ? prior_for(fd) : NULL;
		/* One closed on exec: this one was made after it (by the loader). */
		if (prior && prior->cloexec)
			prior = NULL;
		/* One look at what is not kept across an exec, its close-on-exec
		 * flag with it. What was kept has the flag clear (or it would be
		 * closed), and no code ran since the exec that could set it but
		 * libc's and the loader's. */
		bool described = !prior && info && kt_fd_describe(0, fd, info) == 0;
		int fdflags = prior       ? 0
			      : described ? (info->cloexec > 0 ? FD_CLOEXEC : 0)
					  : kt_sys_fcntl(fd, F_GETFD, 0);
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
			v.src_pid = kt_self.ppid;
			v.src_start = kt_self.parent_start;
			v.src_fd = pfd;
			v.src_gen = pgen;
			gen = pgen;
		} else if (pv.table && kt_other_popen_end(&pv, arena, fd)) {
			/* The far end of a pipe its parent's popen made: glibc put it
			 * here and closed the parent's copy at once (not the same
			 * description as anything the parent holds: no source fd). */
			v.how = KT_HOW_INHERITED;
			v.call = KT_CALL_POPEN;
			v.src_pid = kt_self.ppid;
			v.src_start = kt_self.parent_start;
			if (!kt_spawned_by)
				kt_spawned_by = "popen";
		} else {
			v.how = KT_HOW_UNKNOWN;
		}
		made_at_start(&v, gen, prior, described ? info : NULL);
		if (prior)
			inode_before_exec(&v, gen, before, before_cap, fd);
		kt_table_adopt(fd, &v, gen);
	}
	/* system() is still running in the parent while its shell starts. */
	if (!kt_spawned_by && pv.table && atomic_load(&kt_table_header_of(pv.table)->in_system) > 0)
		kt_spawned_by = "system";
	kt_other_close(&pv);
}

/* The numbers the earlier image used and closed, or that the exec closed:
 * they start this image closed at the generation they had, so that a
 * number reused (even behind the shim: openpty, login_tty) gets a new one
 * and never the name of a description that is gone, which a descriptor
 * copied from it before the exec still names as its source. */
KT_RACY void kt_keep_closed_generations(const struct kt_fd_entry *before, size_t cap)
{
	if (!before)
		return;
	const struct kt_table_header *h = kt_table_header_of(before);
	size_t end = kt_table_used_end(h, cap);
	for (size_t fd = kt_table_next_used(h, 0, end); fd < end; fd = kt_table_next_used(h, fd + 1, end)) {
		uint32_t gen = atomic_load(&before[fd].gen);
		if (gen == 0)
			continue;
		/* Beyond this image's table so far (it starts small): the number
		 * is surely unused here, and the adoption grows the table. */
		struct kt_fd_entry *e = kt_table_entry((int)fd);
		if (e == NULL || atomic_load(&e->gen) == 0) {
			struct kt_fd_entry v;
			memset(&v, 0, sizeof v);
			v.src_fd = -1;
			kt_table_adopt((int)fd, &v, gen | 1u);
		}
	}
}

