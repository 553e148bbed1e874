/* Snapshots the report takes itself (see live.h): of still-running traced
 * processes, and of the tables left by processes that ended without one.
 * The text is made with the same record writers as the shim's snapshots and
 * read by the same parser, so a live snapshot means exactly what an exit
 * one does. */
#include "live.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcmp_group.h"
#include "procfs.h"
#include "record.h"
#include "table.h"
#include "util.h"

struct live_fd {
	int fd;
	uint32_t gen;
	struct kt_fd_info info;
	struct kt_fd_entry entry; /* copy; how NONE when the table has none */
	char site[4200];
};

struct live_proc {
	struct kt_process *proc;
	struct live_fd *fds;
	size_t nfds;
	struct kt_buf sames;
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

static void read_process(const char *dir, struct live_proc *lp, bool with_sites)
{
	struct kt_process *p = lp->proc;
	size_t cap = 0;
	const struct kt_fd_entry *table = kt_trace_map_table(dir, p->pid, p->start, &cap);
	size_t want = 256;
	int *fds = NULL;
	long n;
	for (;;) {
		fds = kt_xrealloc(fds, want * sizeof *fds);
		n = kt_proc_list_fds(p->pid, fds, want);
		if (n < 0 || (size_t)n <= want)
			break;
		want = (size_t)n * 2;
	}
	lp->fds = kt_xcalloc(n > 0 ? (size_t)n : 1, sizeof *lp->fds);
	for (long i = 0; i < n; i++) {
		struct live_fd *lf = &lp->fds[lp->nfds];
		lf->fd = fds[i];
		if (kt_fd_describe(p->pid, lf->fd, &lf->info) != 0)
			continue; /* closed meanwhile */
		uint32_t gen = 0;
		if (table && (size_t)lf->fd < cap) {
			gen = atomic_load(&table[lf->fd].gen);
			memcpy(&lf->entry, &table[lf->fd], sizeof lf->entry);
		}
		if (gen == 0 || (gen & 1u) || kt_entry_replaced(&lf->entry, gen, lf->info.dev, lf->info.ino)) {
			/* The shim did not see this one made: no origin to tell. */
			memset(&lf->entry, 0, sizeof lf->entry);
			lf->entry.how = KT_HOW_UNKNOWN;
			gen = 0;
		}
		lf->gen = gen;
		if (with_sites)
			remote_site(p->pid, lf->entry.site, lf->site, sizeof lf->site);
		else
			snprintf(lf->site, sizeof lf->site, "-");
		lp->nfds++;
	}
	free(fds);
	kt_table_unmap(table);
}

/* kcmp across the descriptors of lps: one sort, then runs of equal
 * neighbours, each one open file description. With target < 0 every
 * process gets a "same" line per neighbour (as live snapshots always
 * had); else only lps[target] gets lines, naming every other member of a
 * run it is in whose generation is known (not 0). */
static void group(struct live_proc *lps, size_t nlps, long target)
{
	size_t total = 0;
	for (size_t i = 0; i < nlps; i++)
		total += lps[i].nfds;
	struct kt_desc *d = kt_xcalloc(total + 1, sizeof *d);
	struct kt_desc *scratch = kt_xcalloc(total + 1, sizeof *scratch);
	size_t k = 0;
	for (size_t i = 0; i < nlps; i++)
		for (size_t j = 0; j < lps[i].nfds; j++) {
			const struct live_fd *lf = &lps[i].fds[j];
			d[k++] = (struct kt_desc){.pid = lps[i].proc->pid, .fd = lf->fd,
						  .dev = lf->info.dev, .ino = lf->info.ino,
						  .gen = lf->gen, .index = (uint32_t)i};
		}
	struct kt_group_stats st = {0};
	kt_desc_sort(d, total, scratch, &st);
	for (size_t run = 0, x = 1; x <= total; x++) {
		if (x < total && d[x - 1].dev == d[x].dev && d[x - 1].ino == d[x].ino &&
		    kt_desc_compare(&d[x - 1], &d[x], &st) == 0)
			continue;
		/* d[run .. x) is one description */
		size_t first_target = x;
		for (size_t y = run; y < x && target >= 0 && first_target == x; y++)
			if (d[y].index == (uint32_t)target)
				first_target = y;
		for (size_t y = run + 1; target < 0 && y < x; y++) {
			const struct kt_process *other = lps[d[y - 1].index].proc;
			kt_record_put_same(&lps[d[y].index].sames, d[y].fd, d[y].gen, other->pid,
					   other->start, d[y - 1].fd, d[y - 1].gen);
		}
		for (size_t y = run; first_target < x && y < x; y++) {
			const struct kt_process *other = lps[d[y].index].proc;
			if (y != first_target && d[y].gen != 0)
				kt_record_put_same(&lps[target].sames, d[first_target].fd,
						   d[first_target].gen, other->pid, other->start,
						   d[y].fd, d[y].gen);
		}
		run = x;
	}
	free(d);
	free(scratch);
}

/* A process that ended without a snapshot of its own (exit_group outside
 * libc, SIGKILL, a crash): the descriptors its table last held, with their
 * origins. Nothing else of it is left to read: no type, target, call site
 * address mapping, or kcmp. */
static void read_left_table(struct kt_trace *trace, struct live_proc *lp)
{
	struct kt_process *p = lp->proc;
	size_t cap = 0;
	const struct kt_fd_entry *table = kt_trace_map_table(trace->dir, p->pid, p->start, &cap);
	if (!table)
		return;
	size_t end = atomic_load(&kt_table_header_of(table)->max_fd_plus_one);
	if (end > cap)
		end = cap;
	size_t n = 0;
	for (size_t fd = 0; fd < end; fd++) {
		uint32_t gen = atomic_load(&table[fd].gen);
		n += gen != 0 && !(gen & 1u);
	}
	lp->fds = kt_xcalloc(n ? n : 1, sizeof *lp->fds);
	for (size_t fd = 0; fd < end && lp->nfds < n; fd++) {
		uint32_t gen = atomic_load(&table[fd].gen);
		if (gen == 0 || (gen & 1u))
			continue;
		struct live_fd *lf = &lp->fds[lp->nfds++];
		lf->fd = (int)fd;
		lf->gen = gen;
		memcpy(&lf->entry, &table[fd], sizeof lf->entry);
		lf->info = (struct kt_fd_info){.type = KT_FD_UNKNOWN, .access = -1,
					       .cloexec = lf->entry.cloexec != 0};
		snprintf(lf->info.target, sizeof lf->info.target, "-");
		snprintf(lf->site, sizeof lf->site, "-");
	}
	kt_table_unmap(table);
}

/* How a report-made snapshot is taken (the snap line's WHY). */
enum snap_kind { SNAP_LIVE, SNAP_TABLE, SNAP_EXIT_OBSERVED };

/* A buffer with room for lp's snapshot and `extra` bytes more. */
static struct kt_buf snapshot_buffer(const struct live_proc *lp, size_t extra)
{
	size_t cap = extra + 256 + lp->sames.len;
	for (size_t i = 0; i < lp->nfds; i++)
		cap += 256 + 4 * (strlen(lp->fds[i].info.target) + strlen(lp->fds[i].site));
	struct kt_buf b = {kt_xmalloc(cap), 0, cap, 0};
	return b;
}

/* Write lp's snapshot: "snap", its fd and same lines, "end". */
static void put_snapshot(struct kt_buf *b, const struct live_proc *lp, enum snap_kind kind,
			 int kcmp_error)
{
	static const char *const why[] = {"live", "table", "exit-observed"};
	kt_buf_str(b, "snap");
	kt_buf_field(b, why[kind]);
	kt_buf_num(b, -1);
	if (kind == SNAP_TABLE) {
		kt_buf_field(b, "none");
	} else if (kcmp_error) {
		char detail[64];
		snprintf(detail, sizeof detail, "unavailable:%s",
			 kcmp_error == -ENOSYS ? "ENOSYS" : kcmp_error == -EPERM ? "EPERM" : "EACCES");
		kt_buf_field(b, detail);
	} else {
		kt_buf_field(b, "ok");
	}
	kt_buf_endline(b);
	for (size_t i = 0; i < lp->nfds; i++) {
		const struct live_fd *lf = &lp->fds[i];
		struct kt_record_fd r;
		kt_table_record_fd(&r, lf->fd, lf->gen, lf->info.type, lf->info.target, lf->info.access,
				   lf->info.cloexec, &lf->entry, lf->site);
		kt_record_put_fd(b, &r);
	}
	if (!kcmp_error && kind != SNAP_TABLE)
		kt_buf_put(b, lp->sames.data, lp->sames.len);
	if (kind == SNAP_TABLE) {
		kt_buf_str(b, "note");
		/* Short enough for one report line (100 columns). */
		kt_buf_field(b, "ended without a snapshot: descriptors from its table, no kcmp");
		kt_buf_endline(b);
	}
	kt_buf_str(b, "end\n");
}

static bool attach_snapshot(struct live_proc *lp, int kcmp_error, enum snap_kind kind)
{
	struct kt_process *p = lp->proc;
	struct kt_buf b = snapshot_buffer(lp, 256);
	kt_buf_str(&b, KT_RECORD_MAGIC);
	kt_buf_unum(&b, KT_RECORD_VERSION);
	kt_buf_endline(&b);
	/* An image line keeps the parser's rules; it is not used. */
	kt_buf_str(&b, "image");
	kt_buf_num(&b, p->pid);
	kt_buf_num(&b, 0);
	kt_buf_unum(&b, 0);
	kt_buf_unum(&b, p->start);
	kt_buf_field(&b, NULL);
	kt_buf_num(&b, 0);
	kt_buf_endline(&b);
	put_snapshot(&b, lp, kind, kcmp_error);
	if (b.overflow) {
		free(b.data);
		return false;
	}
	struct kt_error err;
	struct kt_process tmp = {.pid = p->pid, .start = p->start};
	char *path = kt_xasprintf("%s (%s)", p->path, kind == SNAP_TABLE ? "table" : "live");
	bool ok = kt_process_parse(&tmp, path, b.data, b.len, &err) && tmp.nsnaps == 1;
	if (ok) {
		*KT_PUSH(p->snaps, p->nsnaps, p->snaps_cap) = tmp.snaps[0];
		tmp.nsnaps = 0;
		for (size_t k = 0; k < tmp.nnotes; k++)
			*KT_PUSH(p->notes, p->nnotes, p->notes_cap) = tmp.notes[k];
		p->live_text = tmp.text; /* the snapshot's strings point into it */
		tmp.text = NULL;
	} else {
		kt_warn("cannot read the live descriptors of process %d: %s", p->pid, err.msg);
	}
	tmp.path = path;
	kt_process_free(&tmp);
	return ok;
}

size_t kt_trace_capture_live(struct kt_trace *trace)
{
	struct live_proc *lps = NULL;
	size_t nlps = 0, cap = 0;
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		if (p->nsnaps && p->snaps[p->nsnaps - 1].at_exit)
			continue;
		if (!kt_proc_alive(p->pid, p->start))
			continue;
		struct live_proc *lp = KT_PUSH(lps, nlps, cap);
		memset(lp, 0, sizeof *lp);
		lp->proc = p;
		read_process(trace->dir, lp, true);
		lp->sames = (struct kt_buf){kt_xmalloc(64 + lp->nfds * 64 * 4), 0, 64 + lp->nfds * 64 * 4, 0};
	}
	int kcmp_error = kt_kcmp_probe(-1);
	if (!kcmp_error)
		group(lps, nlps, -1);
	size_t captured = 0;
	for (size_t i = 0; i < nlps; i++) {
		if (attach_snapshot(&lps[i], kcmp_error, SNAP_LIVE))
			captured++;
		free(lps[i].fds);
		free(lps[i].sames.data);
	}
	free(lps);
	return captured;
}

size_t kt_trace_capture_left(struct kt_trace *trace)
{
	size_t captured = 0;
	for (size_t i = 0; i < trace->nprocs; i++) {
		struct kt_process *p = &trace->procs[i];
		/* Untraced images are observed from outside instead. */
		if ((p->nsnaps && p->snaps[p->nsnaps - 1].at_exit) || p->untraced_path != NULL ||
		    kt_proc_alive(p->pid, p->start))
			continue;
		struct live_proc lp = {.proc = p};
		read_left_table(trace, &lp);
		if (lp.fds != NULL && attach_snapshot(&lp, 0, SNAP_TABLE))
			captured++;
		free(lp.fds);
	}
	return captured;
}

bool kt_live_observe_exit(const char *dir, int pid, unsigned long long start)
{
	struct kt_pid_start *alive;
	size_t nalive = kt_trace_live_list(dir, &alive);
	struct kt_process *procs = kt_xcalloc(nalive + 1, sizeof *procs);
	struct live_proc *lps = kt_xcalloc(nalive + 1, sizeof *lps);
	size_t n = 0, total = 0;
	procs[n++] = (struct kt_process){.pid = pid, .start = start};
	for (size_t i = 0; i < nalive; i++)
		if (alive[i].pid != pid || alive[i].start != start)
			procs[n++] = (struct kt_process){.pid = alive[i].pid, .start = alive[i].start};
	for (size_t i = 0; i < n; i++) {
		lps[i].proc = &procs[i];
		read_process(dir, &lps[i], false);
		total += lps[i].nfds;
	}
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
	size_t room = 256 + total * 128;
	t->sames = (struct kt_buf){kt_xmalloc(room), 0, room, 0};
	int kcmp_error = kt_kcmp_probe(-1);
	if (!kcmp_error)
		group(lps, n, 0);
	struct kt_buf b = snapshot_buffer(t, 0);
	put_snapshot(&b, t, SNAP_EXIT_OBSERVED, kcmp_error);
	bool ok = !b.overflow && !t->sames.overflow;
	if (ok)
		ok = kt_trace_append_records(dir, pid, start, b.data, b.len);
	free(b.data);
	free(t->sames.data);
	for (size_t i = 0; i < n; i++)
		free(lps[i].fds);
	free(lps);
	free(procs);
	free(alive);
	return ok;
}
