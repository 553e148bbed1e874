/* Notes in words (notes.h): each note the shim or the report writes, read
 * back and told with what it means and what to do. */
#include "notes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *kt_errno_words(int err, char *buf, unsigned long len)
{
	const char *name = strerrorname_np(err);
	if (name != NULL)
		snprintf(buf, len, "%s (%s)", name, strerror(err));
	else
		snprintf(buf, len, "an error this system does not name (%s)", strerror(err));
	return buf;
}

/* Why kcmp fails with an errno, and what follows. */
struct kcmp_failure {
	int err;
	const char *why, *meaning, *advice;
};

#define PERMISSION_MEANING                                                                         \
	"Sharing with the processes concerned rests on what kcmptrace saw (dup, fork, exec): a "   \
	"description that reached them another way (SCM_RIGHTS, pidfd_getfd) may be shown as two."
#define PERMISSION_ADVICE                                                                          \
	"kcmp needs ptrace access to both processes, which a set-user-ID program or another "      \
	"user's process does not give. Run the tree as one user, lower kernel.yama.ptrace_scope "  \
	"to 0 or 1 (sysctl), or in a container allow kcmp (--cap-add SYS_PTRACE, or a seccomp "    \
	"profile that permits it)."

static const struct kcmp_failure kcmp_failures[] = {
	{EBADF, "a descriptor was closed while it was being compared (by another thread, or by the "
		"other process)",
	 "Those descriptors were going away; they are grouped by what kcmptrace saw (dup, fork, "
	 "exec) instead of by a kcmp verdict.",
	 "Nothing to do: this is a race with the program's own closes, not an error. Trace again "
	 "if the sharing of those descriptors matters."},
	{ESRCH, "the other process ended during the comparison",
	 "Its descriptors are still known from its own snapshot; only the cross-check is missing.",
	 "Nothing to do."},
	{EPERM, "the kernel refused the comparison", PERMISSION_MEANING, PERMISSION_ADVICE},
	{EACCES, "the kernel refused the comparison", PERMISSION_MEANING, PERMISSION_ADVICE},
	{ENOSYS, "the kernel has no kcmp (built without CONFIG_KCMP) or a seccomp filter hides it",
	 PERMISSION_MEANING,
	 "Use a kernel with CONFIG_KCMP (Debian's has it) or allow the kcmp system call in the "
	 "seccomp profile (docker run --cap-add SYS_PTRACE, or --security-opt seccomp=unconfined)."},
};

static void kcmp_failed(int err, struct kt_note_words *w)
{
	char name[128];
	kt_errno_words(err, name, sizeof name);
	const struct kcmp_failure *k = NULL;
	for (size_t i = 0; i < sizeof kcmp_failures / sizeof kcmp_failures[0]; i++)
		if (kcmp_failures[i].err == err)
			k = &kcmp_failures[i];
	w->what = kt_xasprintf("Some kcmp(KCMP_FILE) comparisons failed with %s%s%s", name,
			       k ? ": " : "", k ? k->why : "");
	w->meaning = k ? k->meaning
		       : "The descriptors concerned are grouped by what kcmptrace saw (dup, fork, "
			 "exec) instead of by a kcmp verdict.";
	w->advice = k ? k->advice
		      : "Trace again; if it stays, keep the trace (--trace-dir) and report it.";
	w->kind = kt_xasprintf("kcmp-failed %d", err);
}

/* The notes this version knows, by their fixed parts. */
static bool known_note(const char *note, struct kt_note_words *w)
{
	int err, pid, end = 0;
	long long n;
	if (sscanf(note, "kcmp failed on some comparisons; errno %d%n", &err, &end) == 1 &&
	    note[end] == '\0') {
		kcmp_failed(err, w);
	} else if (sscanf(note, "cannot compare with process %d: permission denied%n", &pid, &end) == 1 &&
		   note[end] == '\0') {
		w->what = kt_xasprintf("Could not compare with process %d: permission to list its "
				       "descriptors was denied",
				       pid);
		w->meaning = PERMISSION_MEANING;
		w->advice = PERMISSION_ADVICE;
		w->kind = kt_xstrdup("compare-denied");
	} else if (sscanf(note, "and %lld more closed descriptors not written (no room)%n", &n, &end) == 1 &&
		   note[end] == '\0') {
		w->what = kt_xasprintf("%lld descriptors the process had closed were not written to the trace: "
				       "its snapshot ran out of room",
				       n);
		w->meaning = "Descriptors copied from them before the close (by fork or dup) may be told "
			     "without the call that made them.";
		w->advice = "Nothing to do unless those origins matter; then trace a smaller part of "
			    "the program.";
		w->kind = kt_xstrdup("closed-not-written");
	} else if (sscanf(note, "and %lld more closes of descriptors already closed%n", &n, &end) == 1 &&
		   note[end] == '\0') {
		w->what = kt_xasprintf("%lld more closes of descriptors already closed were counted but "
				       "not recorded one by one",
				       n);
		w->meaning = "The bad-close findings show only the first of them.";
		w->advice = "Fix the double closes the findings show, then trace again to see the rest.";
		w->kind = kt_xstrdup("bad-closes-not-written");
	} else if (sscanf(note, "and %lld more uses of descriptors not open%n", &n, &end) == 1 &&
		   note[end] == '\0') {
		w->what = kt_xasprintf("%lld more calls on descriptors that were not open (EBADF) were "
				       "counted but not recorded one by one",
				       n);
		w->meaning = "The bad-use findings show only the first of them.";
		w->advice = "Fix the uses the findings show, then trace again to see the rest.";
		w->kind = kt_xstrdup("bad-uses-not-written");
	} else if (strncmp(note, "ended without a snapshot", 24) == 0) {
		w->what = kt_xstrdup("The process ended without a snapshot of its descriptors (killed by a signal, "
				     "such as SIGKILL or a Ctrl-C, before anything looked, or ended by a "
				     "raw exit system call)");
		w->meaning = "Its descriptors are those its table last held: type, target and access "
			     "come from other holders of the same description, a pipe's or socket's "
			     "from the inode its table kept (else unknown), and kcmp did not confirm "
			     "its sharing.";
		w->advice = "If its descriptors matter, signal kcmptrace rather than the tree (it looks "
			    "first, then passes the signal on), or let it end normally, and trace "
			    "again.";
		w->kind = kt_xstrdup("no-snapshot");
	} else {
		return false;
	}
	return true;
}

void kt_note_words(const char *note, struct kt_note_words *w)
{
	memset(w, 0, sizeof *w);
	if (!known_note(note, w)) {
		w->what = kt_xstrdup(note);
		w->kind = kt_xstrdup(note);
	}
}

void kt_note_words_free(struct kt_note_words *w)
{
	free(w->what);
	free(w->kind);
	memset(w, 0, sizeof *w);
}

char *kt_note_paragraph(const char *note)
{
	struct kt_note_words w;
	kt_note_words(note, &w);
	struct kt_str t = {0};
	size_t n = strlen(w.what);
	kt_str_printf(&t, "%s%s", w.what, n > 0 && w.what[n - 1] == '.' ? "" : ".");
	if (w.meaning != NULL)
		kt_str_printf(&t, " %s", w.meaning);
	if (w.advice != NULL)
		kt_str_printf(&t, " %s", w.advice);
	kt_note_words_free(&w);
	return kt_str_take(&t);
}
