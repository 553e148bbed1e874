/* A blocked state to record lines and back (blocked_record.h): field by
 * field, so that what the report shows of a kept trace is what the look
 * itself read. */
#include "blocked_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocked.h"
#include "util.h"

size_t kt_blocked_record_size(const struct kt_blocked *b)
{
	/* Fixed fields, then each descriptor of a set (FD:IO), escaped
	 * strings at most four bytes a byte. */
	size_t n = 256 + 4 * (sizeof b->wchan + (b->path ? strlen(b->path) : 0)) + 16 * b->nfds;
	for (size_t i = 0; i < b->nothers; i++)
		n += kt_blocked_record_size(&b->others[i]);
	return n;
}

static void put_one(struct kt_buf *buf, const struct kt_blocked *b, bool thread)
{
	struct kt_rec_blocked_fd *fds = kt_xcalloc(b->nfds + 1, sizeof *fds);
	for (size_t i = 0; i < b->nfds; i++)
		fds[i] = (struct kt_rec_blocked_fd){b->fds[i].fd, b->fds[i].in, b->fds[i].out};
	kt_rec_put_blocked(buf, &(struct kt_rec_blocked){
		.thread = thread, .tid = b->tid, .state = b->state, .kind = b->kind,
		.call = b->call, .nr = b->nr, .fd = b->fd, .in = b->in, .out = b->out,
		.pid = b->pid, .timeout = b->timeout, .threads = b->threads,
		.all_threads = b->all_threads, .futex_own = b->futex_own, .cpu = b->cpu,
		.wchan = b->wchan, .err = b->error, .path = b->path,
		.nfds = b->fds_known ? (long)b->nfds : -1, .fds = fds});
	free(fds);
}

void kt_blocked_put(struct kt_buf *buf, const struct kt_blocked *b)
{
	put_one(buf, b, false);
	for (size_t i = 0; i < b->nothers; i++)
		put_one(buf, &b->others[i], true);
}

static void take_one(struct kt_blocked *b, const struct kt_rec_blocked *r)
{
	*b = (struct kt_blocked){.kind = r->kind, .call = r->call, .nr = r->nr, .fd = r->fd,
				 .in = r->in, .out = r->out, .pid = r->pid, .timeout = r->timeout,
				 .fds_known = r->nfds >= 0, .threads = r->threads, .tid = r->tid,
				 .futex_own = r->futex_own, .all_threads = r->all_threads,
				 .state = r->state, .cpu = r->cpu, .error = r->err};
	if (r->nfds > 0) {
		b->fds = kt_xcalloc((size_t)r->nfds, sizeof *b->fds);
		for (long i = 0; i < r->nfds; i++)
			b->fds[i] = (struct kt_blocked_fd){r->fds[i].fd, r->fds[i].in, r->fds[i].out};
		b->nfds = (size_t)r->nfds;
	}
	b->path = r->path != NULL ? kt_xstrdup(r->path) : NULL;
	snprintf(b->wchan, sizeof b->wchan, "%s", r->wchan != NULL ? r->wchan : "");
}

bool kt_blocked_take(struct kt_blocked **slot, const struct kt_rec_blocked *r, const char **why)
{
	if (!r->thread) {
		if (*slot != NULL) {
			*why = "a second blocked process record in one snapshot";
			return false;
		}
		*slot = kt_xcalloc(1, sizeof **slot);
		take_one(*slot, r);
		return true;
	}
	if (*slot == NULL) {
		*why = "a blocked thread record before its process's";
		return false;
	}
	struct kt_blocked *b = *slot;
	b->others = kt_xrealloc(b->others, (b->nothers + 1) * sizeof *b->others);
	take_one(&b->others[b->nothers++], r);
	return true;
}
