/* Descriptors across exec: kept unless close-on-exec.
 *
 *   exec_keep [--via-sh] [FILE]   (FILE defaults to this program itself)
 *
 * Opens FILE twice, once plainly (kept_fd) and once with O_CLOEXEC
 * (cloexec_fd), then execs this program again with
 * "--after-exec KEPT CLOEXEC" (with --via-sh: through /bin/sh -c 'exec ...',
 * two execs in one process). The new image checks that kept_fd survived and
 * cloexec_fd did not, prints its line and exits 0 (1 if the check failed).
 *
 * stdout (the last image): kept_fd=N cloexec_fd=N kept_open=1 cloexec_open=0
 */
#include "scenario.h"

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--after-exec") == 0) {
		int kept = atoi(argv[2]), cloexec = atoi(argv[3]);
		int kept_open = is_open(kept), cloexec_open = is_open(cloexec);
		printf("kept_fd=%d cloexec_fd=%d kept_open=%d cloexec_open=%d\n",
		       kept, cloexec, kept_open, cloexec_open);
		return kept_open && !cloexec_open ? 0 : 1;
	}

	int via_sh = 0;
	const char *path = "/proc/self/exe";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--via-sh") == 0)
			via_sh = 1;
		else
			path = argv[i];
	}

	int kept = xopen(path, O_RDONLY);
	int cloexec = xopen(path, O_RDONLY | O_CLOEXEC);
	char a[16], b[16];
	snprintf(a, sizeof a, "%d", kept);
	snprintf(b, sizeof b, "%d", cloexec);
	fflush(NULL);

	if (via_sh) {
		char self[4096];
		scenario_path(self, sizeof self, NULL);
		execl("/bin/sh", "sh", "-c", "exec \"$0\" --after-exec \"$1\" \"$2\"",
		      self, a, b, (char *)NULL);
		die("exec /bin/sh");
	}
	execl("/proc/self/exe", argv[0], "--after-exec", a, b, (char *)NULL);
	die("exec /proc/self/exe");
}
