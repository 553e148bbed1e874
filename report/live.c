/* Snapshots the report takes itself (see live.h): of still-running traced
 * processes, and of the tables left by processes that ended without one.
 * They are built as the records a snapshot of the process itself would be
 * read into (kt_table_record_fd for its descriptors, kcmp "same" links),
 * so a live snapshot means exactly what an exit one does; the launcher's
 * look at an untraced image at its exit is written to its record file. */
#include "live.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blocked.h"
#include "blocked_record.h"
#include "kcmp_group.h"
#include "net_sockets.h"
#include "procfs.h"
#include "record.h"
#include "sockaddr.h"
#include "table.h"
#include "util.h"

/* What a snapshot keeps of a descriptor: kt_fd_info without its 4 KiB
 * target buffer (a snapshot of 10,000 descriptors would otherwise take
 * 80 MB). */
struct live_info {
	enum kt_fd_type type;
	uint64_t dev, ino;
	int access, cloexec;
	char *target; /* malloc'd */
};

struct live_fd {
	int fd;
	uint32_t gen;
	struct live_info info;
	struct kt_fd_entry entry; /* copy; how NONE when the table has none */
	char *site;               /* malloc'd */
	/* A socket's addresses from /proc/PID/net (net_sockets.h), when
	 * has_addr; local and peer malloc'd. */
	bool has_addr;
	struct kt_rec_addr addr;
	uint64_t peer_ino; /* net_sockets.h */
};

struct live_proc {
	int pid;
	unsigned long long start;
	struct live_fd *fds;
	size_t nfds;
	struct kt_rec_same *sames; /* kcmp's links of its descriptors */
	size_t nsames, sames_cap;
	struct kt_blocked *blocked; /* live snapshots: what it is blocked on */
};

/* "MODULE+0xOFF" for a return address in another process: the object's
 * base is the start of its lowest mapping, as dladdr's dli_fbase is. */
static void remote_site(int pid, uint64_t ret, char *out, size_t n)
{
	snprintf(out, n, "-");
	if (!ret)
		return;
	uint64_t addr = ret - 1; /* inside the call instruction */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char line[4600], module[4200] = "";
	unsigned long long lo, hi, base = UINT64_MAX;
	/* First the mapping that holds addr, then the lowest one of its file. */
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof line, f)) {
			char *slash = strchr(line, '/');
			if (!slash || sscanf(line, "%llx-%llx", &lo, &hi) != 2)
				continue;
			slash[strcspn(slash, "\n")] = '\0';
			if (pass == 0 && addr >= lo && addr < hi) {
				snprintf(module, sizeof module, "%s", slash);
				break;
			}
			if (pass == 1 && strcmp(slash, module) == 0 && lo < base)
				base = lo;
		}
		if (!module[0])
			break;
	}
	fclose(f);
	if (module[0] && base != UINT64_MAX)
		snprintf(out, n, "%s+0x%llx", module, (unsigned long long)(addr - base));
}

static void *grow(void *ctx, void *old, size_t n)
{
	(void)ctx;
	return kt_xrealloc(old, n);
}

/* A socket's addresses as its namespace's tables name it (sock), if found. */
static void take_address(struct live_fd *lf, const struct kt_net_socket *sock)
{
	if (sock == NULL)
		return;
	lf->has_addr = true;
	lf->peer_ino = sock->peer_ino;
	lf->addr = (struct kt_rec_addr){lf->fd, lf->gen, sock->local ? kt_xstrdup(sock->local) : NULL,
					sock->peer ? kt_xstrdup(sock->peer) : NULL, sock->listening};
}

static void read_process(const char *dir, struct live_proc *lp, bool with_sites)
{
	size_t cap = 0;
	const struct kt_fd_entry *table =
		dir != NULL ? kt_trace_map_table(dir, lp->pid, lp->start, &cap) : NULL;
	struct kt_fd_list list = {.grow = grow};
	long n = kt_proc_list_all(lp->pid, &list);
	const int *fds = list.fds;
	lp->fds = kt_xcalloc(n > 0 ? (size_t)n : 1, sizeof *lp->fds);
	struct kt_fd_info *info = kt_xmalloc(sizeof *info);
	struct kt_net_sockets sockets = {0};
	bool sockets_read = false;
	/* Its fd and fdinfo directories opened once: 10,000 descriptors are
	 * 10,000 lookups of a number, not of a whole path each. */
	struct kt_proc_fd_dirs dirs;
	bool in_dirs = n > 0 && kt_proc_fd_dirs(lp->pid, &dirs) == 0;
	for (long i = 0; i < n; i++) {
		struct live_fd *lf = &lp->fds[lp->nfds];
		lf->fd = fds[i];
		if ((in_dirs ? kt_fd_describe_in(&dirs, lf->fd, info)
			     : kt_fd_describe(lp->pid, lf->fd, info)) != 0 ||
		    info->access == KT_ACCESS_UNKNOWN)
			continue; /* closed meanwhile */
		lf->info = (struct live_info){info->type, info->dev, info->ino, info->access,
					      info->cloexec, kt_xstrdup(info->target)};
		uint32_t gen = 0;
		if (table && (size_t)lf->fd < cap) {
			gen = atomic_load(&table[lf->fd].gen);
			memcpy(&lf->entry, &table[lf->fd], sizeof lf->entry);
		}
		if (!kt_entry_current(&lf->entry, gen, lf->info.dev, lf->info.ino)) {
			/* The shim did not see this one made: no origin to tell. */
			memset(&lf->entry, 0, sizeof lf->entry);
			lf->entry.how = KT_HOW_UNKNOWN;
			gen = 0;
		}
		lf->gen = gen;
		char site[4200] = "-";
		if (with_sites)
			remote_site(lp->pid, lf->entry.site, site, sizeof site);
		lf->site = kt_xstrdup(site);
		if (lf->info.type == KT_FD_SOCKET) {
			if (!sockets_read)
				kt_net_sockets_load(&sockets, lp->pid);
			sockets_read = true;
			take_address(lf, kt_net_socket_find(&sockets, lf->info.ino));
		}
		lp->nfds++;
	}
	if (in_dirs)
		kt_proc_fd_dirs_close(&dirs);
	kt_net_sockets_free(&sockets);
	free(info);
	free(list.fds);
	kt_table_unmap(table, cap);
}

static void add_same(struct live_proc *lp, const struct kt_desc *mine, const struct live_proc *other,
		     const struct kt_desc *theirs)
{
	*KT_PUSH(lp->sames, lp->nsames, lp->sames_cap) =
		(struct kt_rec_same){mine->fd, mine->gen, other->pid, other->start, theirs->fd,
				     theirs->gen};
}

/* kcmp across the descriptors of lps: one sort, then runs of equal
 * neighbours, each one open file description. With target < 0 every
 * process gets a "same" link per neighbour; else only lps[target] gets
 * links, naming every other member of a run it is in whose generation is
 * known (not 0). */
static void group(struct live_proc *lps, size_t nlps, long target)
{
	size_t total = 0;
	for (size_t i = 0; i < nlps; i++)
		total += lps[i].nfds;
	struct kt_desc *d = kt_xcalloc(total + 1, sizeof *d);
	struct kt_desc *scratch = kt_xcalloc(total + 1, sizeof *scratch);
	unsigned char *starts = kt_xcalloc(total + 1, 1);
	size_t k = 0;
	for (size_t i = 0; i < nlps; i++)
		for (size_t j = 0; j < lps[i].nfds; j++) {
			const struct live_fd *lf = &lps[i].fds[j];
			d[k++] = (struct kt_desc){.pid = lps[i].pid, .fd = lf->fd,
						  .dev = lf->info.dev, .ino = lf->info.ino,
						  .gen = lf->gen, .index = (uint32_t)i};
		}
	struct kt_group_stats st = {0};
	kt_desc_group(d, total, scratch, starts, &st);
	for (size_t run = 0, x = 1; x <= total; x++) {
		if (x < total && !starts[x])
			continue;
		/* d[run .. x) is one description */
		size_t first_target = x;
		for (size_t y = run; y < x && target >= 0 && first_target == x; y++)
			if (d[y].index == (uint32_t)target)
				first_target = y;
		for (size_t y = run + 1; target < 0 && y < x; y++)
			add_same(&lps[d[y].index], &d[y], &lps[d[y - 1].index], &d[y - 1]);
		for (size_t y = run; first_target < x && y < x; y++)
			if (y != first_target && d[y].gen != 0)
				add_same(&lps[target], &d[first_target], &lps[d[y].index], &d[y]);
		run = x;
	}
	free(d);
	free(scratch);
	free(starts);
}

/* The device of the kernel's internal pipe or socket file system: every
 * pipe (or socket) has it. 0 when it cannot be learned. */
static uint64_t internal_dev(bool sockets)
{
	int fds[2];
	struct stat st;
	uint64_t dev = 0;
	if (sockets ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0
		    : pipe2(fds, O_CLOEXEC) != 0)
		return 0;
	if (fstat(fds[0], &st) == 0)
		dev = st.st_dev;
	close(fds[0]);
	close(fds[1]);
	return dev;
}

/* A descriptor of an ended process whose inode its table cached: a pipe or
 * a socket is named as /proc would have named it ("pipe:[INO]"). Its
 * access stays unknown; other inodes stay unknown. */
static void name_by_inode(struct live_info *info, uint64_t dev, uint64_t ino)
{
	static uint64_t pipe_dev, socket_dev;
	if (pipe_dev == 0)
		pipe_dev = internal_dev(false);
	if (socket_dev == 0)
		socket_dev = internal_dev(true);
	info->dev = dev;
	info->ino = ino;
	if (dev != 0 && dev == pipe_dev) {
		info->type = KT_FD_PIPE;
		info->target = kt_xasprintf("pipe:[%llu]", (unsigned long long)ino);
	} else if (dev != 0 && dev == socket_dev) {
		info->type = KT_FD_SOCKET;
		info->access = O_RDWR; /* a socket is always open read-write */
		info->target = kt_xasprintf("socket:[%llu]", (unsigned long long)ino);
	}
}

/* A file named by a path: a FIFO, never an anonymous pipe. */
static enum kt_fd_type type_of_path_mode(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return KT_FD_FILE;
	case S_IFDIR: return KT_FD_DIR;
	case S_IFSOCK: return KT_FD_SOCKET;
	case S_IFCHR: return KT_FD_CHR;
	case S_IFBLK: return KT_FD_BLK;
	case S_IFIFO: return KT_FD_FIFO;
	default: return KT_FD_UNKNOWN;
	}
}

/* What the call that made a descriptor knew of it (table.h made_type,
 * made_access, path), for what its inode did not tell: a path opened is
 * named by that path (cut ones end in "..."), its type read from the file
 * there now when the call did not know it; a pipe or socket whose inode
 * was not kept is "pipe:[?]" or "socket:[?]". */
static void name_as_made(struct live_info *info, const struct kt_fd_entry *e)
{
	if (info->type == KT_FD_UNKNOWN && e->made_type > KT_FD_UNKNOWN && e->made_type <= KT_FD_ANON)
		info->type = (enum kt_fd_type)e->made_type;
	if (info->target == NULL && e->path_len > 0 && memchr(e->path, '\0', sizeof e->path) != NULL) {
		bool cut = e->path_len >= sizeof e->path;
		info->target = kt_xasprintf("%s%s", e->path, cut ? "..." : "");
		struct stat st;
		if (info->type == KT_FD_UNKNOWN && !cut && e->path[0] == '/' && stat(e->path, &st) == 0)
			info->type = type_of_path_mode(st.st_mode);
	} else if (info->target == NULL && info->type == KT_FD_PIPE) {
		info->target = kt_xstrdup("pipe:[?]");
	} else if (info->target == NULL && info->type == KT_FD_SOCKET) {
		info->target = kt_xstrdup("socket:[?]");
	}
	/* Its access only beside a type or a target: an access alone would
	 * read as a holder that saw the file (an image's first descriptors
	 * know their access mode and nothing else). */
	if (info->access == KT_ACCESS_UNKNOWN && (info->type != KT_FD_UNKNOWN || info->target != NULL) &&
	    e->made_access >= 1 && e->made_access <= 4)
		info->access = e->made_access - 1;
}

/* A process that ended without a snapshot of its own (exit_group outside
 * libc, SIGKILL, a crash): the descriptors its table last held, with their
 * origins. Nothing else of it is left to read: no type, target, call site
 * address mapping, or kcmp. */
static void read_left_table(const char *dir, struct live_proc *lp)
{
	size_t cap = 0;
	const struct kt_fd_entry *table = kt_trace_map_table(dir, lp->pid, lp->start, &cap);
	if (!table)
		return;
	const struct kt_table_header *h = kt_table_header_of(table);
	size_t end = kt_table_used_end(h, cap);
	size_t n = 0;
	for (size_t fd = kt_table_next_used(h, 0, end); fd < end; fd = kt_table_next_used(h, fd + 1, end)) {
		uint32_t gen = atomic_load(&table[fd].gen);
		n += gen != 0 && !(gen & 1u);
	}
	lp->fds = kt_xcalloc(n ? n : 1, sizeof *lp->fds);
	for (size_t fd = kt_table_next_used(h, 0, end); fd < end && lp->nfds < n;
	     fd = kt_table_next_used(h, fd + 1, end)) {
		uint32_t gen = atomic_load(&table[fd].gen);
		if (gen == 0 || (gen & 1u))
			continue;
		struct live_fd *lf = &lp->fds[lp->nfds++];
		lf->fd = (int)fd;
		lf->gen = gen;
		memcpy(&lf->entry, &table[fd], sizeof lf->entry);
		lf->info = (struct live_info){.type = KT_FD_UNKNOWN, .access = KT_ACCESS_UNKNOWN,
					      .cloexec = lf->entry.cloexec != 0, .target = NULL};
		if (atomic_load(&table[fd].ino_gen) == gen)
			name_by_inode(&lf->info, lf->entry.dev, lf->entry.ino);
		name_as_made(&lf->info, &lf->entry);
		if (lf->info.target == NULL)
			lf->info.target = kt_xstrdup("");
		lf->site = kt_xstrdup("-");
	}
	kt_table_unmap(table, cap);
}

/* A string of a snapshot made here, kept with the process; NULL for what
 * the record format would write as absent ("-" or empty). */
static const char *keep(struct kt_process *p, const char *s)
{
	if (s[0] == '\0' || strcmp(s, "-") == 0)
		return NULL;
	char *copy = kt_xstrdup(s);
	*KT_PUSH(p->owned, p->nowned, p->owned_cap) = copy;
	return copy;
}

/* An address kept with the process: "" (unnamed) stays itself. */
static const char *keep_address(struct kt_process *p, const char *s)
{
	if (s == NULL)
		return NULL;
	char *copy = kt_xstrdup(s);
	*KT_PUSH(p->owned, p->nowned, p->owned_cap) = copy;
	return copy;
}

/* lp's fd record of descriptor j, as a snapshot of its own would hold it. */
static void fd_record(const struct live_proc *lp, size_t j, struct kt_rec_fd *r)
{
	const struct live_fd *lf = &lp->fds[j];
	kt_table_record_fd(r, lf->fd, lf->gen, lf->info.type, lf->info.target, lf->info.access,
			   lf->info.cloexec, &lf->entry, lf->site);
}

/* Give p the snapshot read into lp. */
static void attach_snapshot(struct kt_process *p, struct live_proc *lp, enum kt_snap_why why,
			    int kcmp)
{
	struct kt_snapshot snap = {.head = {.why = why, .status = -1, .kcmp = kcmp},
				   .blocked = lp->blocked};
	lp->blocked = NULL; /* the snapshot's now */
	for (size_t j = 0; j < lp->nfds; j++) {
		struct kt_fd *fd = KT_PUSH(snap.fds, snap.nfds, snap.fds_cap);
		*fd = (struct kt_fd){0};
		fd_record(lp, j, &fd->rec);
		fd->rec.target = keep(p, lp->fds[j].info.target);
		fd->rec.site = keep(p, lp->fds[j].site);
		if (lp->fds[j].has_addr) {
			fd->has_addr = true;
			fd->addr = lp->fds[j].addr;
			fd->addr.local = keep_address(p, fd->addr.local);
			fd->addr.peer = keep_address(p, fd->addr.peer);
			fd->peer_ino = lp->fds[j].peer_ino;
		}
	}
	if (kcmp == 0)
		for (size_t j = 0; j < lp->nsames; j++)
			*KT_PUSH(snap.sames, snap.nsames, snap.sames_cap) = lp->sames[j];
	*KT_PUSH(p->snaps, p->nsnaps, p->snaps_cap) = snap;
}

static void free_live(struct live_proc *lp)
{
	for (size_t i = 0; i < lp->nfds; i++) {
		free(lp->fds[i].info.target);
		free(lp->fds[i].site);
		free((char *)lp->fds[i].addr.local);
		free((char *)lp->fds[i].addr.peer);
	}
	free(lp->fds);
	free(lp->sames);
	if (lp->blocked != NULL)
		kt_blocked_free(lp->blocked);
	free(lp->blocked);
}

/* What lp is blocked on, read before its descriptors (a call that ends
 * meanwhile shows as a descriptor closed or a changed table, not the
 * other way round). */
static void read_blocked(struct live_proc *lp)
{
	lp->blocked = kt_xcalloc(1, sizeof *lp->blocked);
	kt_blocked_read(lp->pid, lp->blocked);
}

size_t kt_trace_capture_live(struct kt_trace *trace)
{
	return kt_trace_capture_live_why(trace, NULL);
}

size_t kt_trace_capture_live_why(struct kt_trace *trace, const char *why)
{
	struct live_proc *lps = NULL;
	struct kt_process **procs = NULL;
	size_t nlps = 0, cap = 0, pcap = 0, n = 0;
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		if (p->nsnaps && p->snaps[p->nsnaps - 1].head.why == KT_WHY_EXIT)
			continue;
		if (!kt_proc_alive(p->pid, p->start))
			continue;
		struct live_proc *lp = KT_PUSH(lps, nlps, cap);
		*lp = (struct live_proc){.pid = p->pid, .start = p->start};
		*KT_PUSH(procs, n, pcap) = p;
		read_blocked(lp);
		read_process(trace->dir, lp, true);
	}
	int kcmp_error = kt_kcmp_probe(-1);
	if (!kcmp_error)
		group(lps, nlps, -1);
	for (size_t i = 0; i < nlps; i++) {
		attach_snapshot(procs[i], &lps[i], KT_WHY_LIVE, -kcmp_error);
		procs[i]->snaps[procs[i]->nsnaps - 1].live_why = why;
		free_live(&lps[i]);
	}
	free(lps);
	free(procs);
	return nlps;
}

/* lp's snapshot as the record lines of a snapshot (why: exit-observed,
 * table or signal), with a note when not NULL, and what lp was blocked
 * on when it was read. */
static bool put_snapshot(struct kt_buf *b, const struct live_proc *lp, enum kt_snap_why why, int kcmp,
			 const char *note)
{
	size_t cap = 256 + lp->nsames * 128;
	for (size_t i = 0; i < lp->nfds; i++)
		cap += 256 + 4 * (strlen(lp->fds[i].info.target) + strlen(lp->fds[i].site)) +
		       8 * KT_SOCKADDR_TEXT * lp->fds[i].has_addr;
	if (lp->blocked != NULL)
		cap += kt_blocked_record_size(lp->blocked);
	*b = (struct kt_buf){kt_xmalloc(cap), 0, cap, 0};
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	kt_rec_put_snap(b, &(struct kt_rec_snap){why, -1, kcmp,
						 (unsigned long long)now.tv_sec * 1000000000ULL +
							 (unsigned long long)now.tv_nsec});
	for (size_t j = 0; j < lp->nfds; j++) {
		struct kt_rec_fd r;
		fd_record(lp, j, &r);
		kt_rec_put_fd(b, &r);
		if (lp->fds[j].has_addr)
			kt_rec_put_addr(b, &lp->fds[j].addr);
	}
	for (size_t j = 0; kcmp == 0 && j < lp->nsames; j++)
		kt_rec_put_same(b, &lp->sames[j]);
	if (lp->blocked != NULL)
		kt_blocked_put(b, lp->blocked);
	if (note != NULL)
		kt_rec_put_note(b, note);
	kt_rec_put_end(b);
	return !b->overflow;
}

/* Short enough for one report line (100 columns). */
static const char table_note[] = "ended without a snapshot: descriptors from its table, no kcmp";

size_t kt_trace_capture_left(struct kt_trace *trace)
{
	size_t captured = 0;
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		enum kt_snap_why last = p->nsnaps ? p->snaps[p->nsnaps - 1].head.why : KT_WHY_EXEC;
		/* Untraced images are observed from outside instead; a table
		 * read once is in the record since. */
		if (last == KT_WHY_EXIT || last == KT_WHY_TABLE || last == KT_WHY_SIGNAL ||
		    p->untraced_path != NULL ||
		    kt_proc_alive(p->pid, p->start))
			continue;
		struct live_proc lp = {.pid = p->pid, .start = p->start};
		read_left_table(trace->dir, &lp);
		if (lp.fds != NULL) {
			/* A process marked unrecorded has its own note of why. */
			const char *note = p->nunrecorded ? NULL : table_note;
			attach_snapshot(p, &lp, KT_WHY_TABLE, KT_KCMP_NONE);
			if (note != NULL)
				*KT_PUSH(p->notes, p->nnotes, p->notes_cap) = note;
			/* The table goes with live/: the record keeps what it said. */
			struct kt_buf b;
			if (put_snapshot(&b, &lp, KT_WHY_TABLE, KT_KCMP_NONE, note))
				kt_trace_append_records(trace->dir, p->pid, p->start, b.data, b.len);
			free(b.data);
			captured++;
		}
		free_live(&lp);
	}
	return captured;
}

size_t kt_live_snapshot_trace(const char *dir)
{
	struct kt_pid_start *alive;
	size_t n = kt_trace_live_list(dir, &alive);
	struct live_proc *lps = kt_xcalloc(n + 1, sizeof *lps);
	for (size_t i = 0; i < n; i++) {
		lps[i] = (struct live_proc){.pid = alive[i].pid, .start = alive[i].start};
		read_blocked(&lps[i]);
		read_process(dir, &lps[i], true);
	}
	int kcmp_error = kt_kcmp_probe(-1);
	if (!kcmp_error)
		group(lps, n, -1);
	size_t written = 0;
	for (size_t i = 0; i < n; i++) {
		struct kt_buf b = {0};
		/* One that ended meanwhile lists nothing: its own end tells more. */
		if (lps[i].nfds > 0 && kt_proc_alive(lps[i].pid, lps[i].start) &&
		    put_snapshot(&b, &lps[i], KT_WHY_SIGNAL, -kcmp_error, NULL) &&
		    kt_trace_append_records(dir, lps[i].pid, lps[i].start, b.data, b.len)) {
			written++;
		}
		free(b.data);
		free_live(&lps[i]);
	}
	free(lps);
	free(alive);
	return written;
}

/* lp's snapshot as the record lines of an exit-observed snapshot. */
bool kt_live_observe_exit(const char *dir, int pid, unsigned long long start)
{
	struct kt_pid_start *alive;
	size_t nalive = kt_trace_live_list(dir, &alive);
	struct live_proc *lps = kt_xcalloc(nalive + 1, sizeof *lps);
	size_t n = 0;
	lps[n++] = (struct live_proc){.pid = pid, .start = start};
	for (size_t i = 0; i < nalive; i++)
		if (alive[i].pid != pid || alive[i].start != start)
			lps[n++] = (struct live_proc){.pid = alive[i].pid, .start = alive[i].start};
	for (size_t i = 0; i < n; i++)
		read_process(dir, &lps[i], false);
	/* The image's own descriptors: kept across the exec into it when the
	 * table's entry still names the same file (read_process checked; the
	 * report then takes the origin from the exec snapshot); the rest it
	 * made out of our sight, named for this observation only. */
	struct live_proc *t = &lps[0];
	for (size_t j = 0; j < t->nfds; j++) {
		struct live_fd *lf = &t->fds[j];
		if (lf->gen == 0) {
			lf->gen = KT_GEN_OBSERVED | (uint32_t)getpid();
			lf->entry.how = KT_HOW_UNKNOWN;
		} else {
			lf->entry.how = KT_HOW_EXEC;
		}
		lf->entry.call = KT_CALL_NONE;
		lf->entry.site = 0;
	}
	int kcmp_error = kt_kcmp_probe(-1);
	if (!kcmp_error)
		group(lps, n, 0);
	struct kt_buf b;
	bool ok = put_snapshot(&b, t, KT_WHY_EXIT_OBSERVED, -kcmp_error, NULL) &&
		  kt_trace_append_records(dir, pid, start, b.data, b.len);
	free(b.data);
	for (size_t i = 0; i < n; i++)
		free_live(&lps[i]);
	free(lps);
	free(alive);
	return ok;
}
