/* What the shim could not write into the trace (record.h "unrecorded").
 * Sandboxed helpers (man-db runs tbl, groff and its decompressors under a
 * seccomp filter) are refused the calls that write a trace. Under the
 * launcher the program's stderr is never the shim's: the loss is kept
 * where it still can be, this process's record, else its table (mapped
 * before the sandbox began), and the launcher says it once for the run.
 * A plain LD_PRELOAD run warns as well, one line per failure. */
#include "shim.h"
#include "record.h"
#include "sys.h"
#include "tracedir.h"

#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

int kt_launcher_run;

void kt_lost_init(void)
{
	kt_launcher_run = getenv("KCMPTRACE_LAUNCHER") != NULL;
}

/* prctl is allowed by the sandboxes seen (man-db's, systemd's @default
 * profiles); a filter that refuses it still answers the question. */
int kt_lost_seccomp(void)
{
	long mode = kt_sys_prctl(PR_GET_SECCOMP, 0);
	return mode == SECCOMP_MODE_FILTER || mode == -ENOSYS || mode == -EPERM;
}

/* The record line, appended only to a record that exists: a new file
 * without its first lines would be a corrupt record. */
static int append_to_record(const struct kt_rec_unrecorded *u)
{
	char path[4200];
	kt_trace_rec_path(path, sizeof path, kt_self.dir, kt_self.pid, kt_self.start);
	if (kt_sys_faccessat(AT_FDCWD, path, F_OK) != 0)
		return -ENOENT;
	char line[4 * 1024 + 128];
	struct kt_buf b = {line, 0, sizeof line, 0};
	kt_rec_put_unrecorded(&b, u);
	return b.overflow ? -ENOMEM : kt_write_record(line, b.len, 0);
}

void kt_lost_forward(const struct kt_rec_unrecorded *u)
{
	append_to_record(u);
}

void kt_lost(enum kt_lost_what what, int err, const char *path)
{
	char cut[1024];
	if (path) {
		size_t n = strnlen(path, sizeof cut - 1);
		memcpy(cut, path, n);
		cut[n] = '\0';
	}
	struct kt_rec_unrecorded u = {what, err, kt_lost_seccomp(), path ? cut : NULL};
	if (append_to_record(&u) != 0)
		kt_table_note_lost(&u);
}
