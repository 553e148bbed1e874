/* Hooks: the wait family. A child killed by a signal, or running an image
 * the shim cannot follow, writes no exit snapshot of its own: the process
 * that reaps it says how it ended ("reaped" record). */
#include "shim.h"
#include "record.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void reaped(pid_t pid, int status)
{
	if (pid <= 0 || !(WIFSIGNALED(status) || WIFEXITED(status)) || !kt_on())
		return;
	int saved = errno;
	/* One call instead of a record's five. */
	if (kt_table_child_wrote_its_end(pid)) {
		errno = saved;
		return;
	}
	char line[96];
	struct kt_buf b = {line, 0, sizeof line, 0};
	kt_rec_put_reaped(&b, &(struct kt_rec_reaped){pid, status, kt_now_ns()});
	kt_write_record(line, b.len, 0);
	errno = saved;
}

/* The caller's status pointer goes to the kernel as it is: *status is
 * written exactly when it would be without the shim (not for WNOHANG's 0,
 * not on failure), and a bad pointer gives EFAULT, not a crash in here.
 * The status is read back only from memory the kernel has just written. */
static pid_t wait_and_tell(pid_t pid, int *status, int options, struct rusage *usage)
{
	int own_status;
	int *st = status ? status : &own_status;
	pid_t r = KT_REAL(wait4)(pid, st, options, usage);
	if (r > 0)
		reaped(r, *st);
	return r;
}

KT_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
	return wait_and_tell(pid, status, options, usage);
}

KT_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	return wait_and_tell(pid, status, options, NULL);
}

KT_EXPORT pid_t wait(int *status)
{
	return wait_and_tell(-1, status, 0, NULL);
}

KT_EXPORT pid_t wait3(int *status, int options, struct rusage *usage)
{
	return wait_and_tell(-1, status, options, usage);
}

KT_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	int r = KT_REAL(waitid)(idtype, id, info, options);
	/* WNOWAIT leaves the child to be reaped (and told about) later. */
	if (r == 0 && info && !(options & WNOWAIT) && info->si_pid > 0) {
		if (info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED)
			reaped(info->si_pid, info->si_status | (info->si_code == CLD_DUMPED ? 0x80 : 0));
		else if (info->si_code == CLD_EXITED)
			reaped(info->si_pid, (info->si_status & 0xff) << 8);
	}
	return r;
}
