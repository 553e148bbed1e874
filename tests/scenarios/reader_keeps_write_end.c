/* A two-process pipeline whose reader keeps the pipe's write end.
 *
 *   reader_keeps_write_end [--fixed]
 *
 * The parent makes a pipe and forks a writer (closes the read end, writes
 * one line, exits) and a reader that reads that line. The bug: the reader
 * never closes its copy of the write end, so had it read to end of file it
 * would have waited forever. (It reads one line, so the scenario ends.)
 * With --fixed the reader closes it. The parent closes both ends.
 *
 * stdout: read_fd=N write_fd=N reader_said=hello fixed=0|1
 */
#include "scenario.h"

int main(int argc, char **argv)
{
	int fixed = argc > 1 && strcmp(argv[1], "--fixed") == 0;
	int p[2];
	xpipe(p);
	pid_t writer = xfork();
	if (writer == 0) {
		close(p[0]);
		write_all(p[1], "hello\n", 6);
		exit(0);
	}
	int report[2];
	xpipe(report);
	pid_t reader = xfork();
	if (reader == 0) {
		close(report[0]);
		if (fixed)
			close(p[1]); /* the fix */
		char line[16] = "";
		size_t len = 0;
		while (len < sizeof line - 1 && read_all(p[0], line + len, 1) && line[len] != '\n')
			len++;
		line[len] = '\0';
		write_all(report[1], line, len);
		exit(0);
	}
	close(report[1]);
	close(p[0]);
	close(p[1]);
	char said[16] = "";
	ssize_t n = read(report[0], said, sizeof said - 1);
	said[n > 0 ? n : 0] = '\0';
	reap(writer, "writer");
	reap(reader, "reader");
	printf("read_fd=%d write_fd=%d reader_said=%s fixed=%d\n", p[0], p[1], said, fixed);
	return 0;
}
