/* Running a command under the shim: trace directory, environment, fork and
 * exec, waiting as a child subreaper. */
#ifndef KT_LAUNCH_H
#define KT_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

struct kt_launch {
	/* in */
	const char *trace_dir_option; /* --trace-dir, or NULL for a temporary one */
	char **argv;                  /* the command */
	bool wait_tree;               /* wait for every descendant, not only the command */
	bool watch;                   /* watch static images to their exit (watch.h) */
	/* SIGUSR1 to the launcher: called from its wait loop (not a signal
	 * handler) to write a report of the tree as it is now; NULL: none. */
	void (*on_request)(void *ctx);
	void *request_ctx;
	/* Every traced process asleep, using no CPU, for stall_ms (0: never
	 * looked for): on_stall(request_ctx) analyses the tree and says
	 * whether it found a deadlock (reported); then with kill_on_deadlock
	 * the tree is ended as by SIGTERM to the launcher. */
	long stall_ms;
	bool (*on_stall)(void *ctx);
	bool kill_on_deadlock;
	/* out */
	char *trace_dir;   /* absolute */
	bool temporary;    /* created by us: remove after the report */
	int exit_code;     /* the command's: status, or 128+N for signal N */
	bool deadlock_killed; /* the tree was ended for a deadlock */
	struct kt_rec_reaped *reaped; /* the direct child and orphans reaped */
	size_t nreaped, reaped_cap;
};

/* Find the shim: $KCMPTRACE_LIB, next to our executable, or the install
 * directory. NULL (with a message printed) if none exists. Caller frees. */
char *kt_find_shim(void);

/* Resolve a command through PATH like execvp. Returns a malloc'd path, or
 * NULL with *exit_code 127 (not found) or 126 (not executable) and the
 * error printed. */
char *kt_resolve_command(const char *command, int *exit_code);

/* Make the trace directory (temporary or --trace-dir). Returns false with
 * the error printed. */
bool kt_prepare_trace_dir(struct kt_launch *launch);

/* Run launch->argv (resolved_path) traced and wait for it. Returns false if
 * it could not be started (error printed, exit_code set to 126/127/1). */
bool kt_run_traced(struct kt_launch *launch, const char *resolved_path, const char *shim);

void kt_launch_free(struct kt_launch *launch);

#endif
