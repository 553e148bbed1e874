/* Unit tests of the kcmp grouping and the record escaping, on real
 * descriptors of real processes (a forked child holds some of them). */
#include "kcmp_group.h"
#include "procfs.h"
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

static struct kt_desc desc_of(pid_t pid, int fd)
{
	struct kt_desc d = {.pid = pid, .fd = fd};
	if (kt_fd_inode(pid == getpid() ? 0 : pid, fd, &d.dev, &d.ino) != 0) {
		fprintf(stderr, "cannot stat fd %d of %d\n", fd, (int)pid);
		exit(2);
	}
	return d;
}

/* Group number of each descriptor after sorting: equal neighbours share one. */
static void groups_after_sort(struct kt_desc *d, size_t n, int *group_of_fd_in_pid, pid_t pid_of_interest)
{
	struct kt_desc scratch[64];
	struct kt_group_stats st = {0};
	kt_desc_sort(d, n, scratch, &st);
	int group = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && kt_desc_compare(&d[i - 1], &d[i], &st) != 0)
			group++;
		if (d[i].pid == pid_of_interest)
			group_of_fd_in_pid[d[i].fd] = group;
	}
	CHECK(st.kcmp_errors == 0);
}

static void test_kcmp_manpage(void)
{
	/* The kcmp(2) example: dup shares, a second open does not, fork shares. */
	char path[] = "/tmp/kt-unit-XXXXXX";
	int a = mkstemp(path);
	CHECK(a >= 0);
	int b = open(path, O_RDWR);
	int c = dup(a);
	int go[2];
	CHECK(pipe(go) == 0);
	pid_t child = fork();
	if (child == 0) {
		char x;
		close(go[1]);
		(void)read(go[0], &x, 1);
		_exit(0);
	}
	close(go[0]);
	pid_t self = getpid();
	CHECK(kt_kcmp_probe(-1) == 0 && kt_kcmp_probe(a) == 0);
	CHECK(kt_kcmp_file(self, a, self, c) == 0);
	CHECK(kt_kcmp_file(self, a, self, b) > 0);
	CHECK(kt_kcmp_file(self, a, child, a) == 0);
	CHECK(kt_kcmp_file(self, b, child, a) > 0);

	struct kt_desc d[] = {desc_of(child, b), desc_of(self, a), desc_of(child, c), desc_of(self, b),
			      desc_of(self, c), desc_of(child, a)};
	int self_group[1024], child_group[1024];
	memset(self_group, -1, sizeof self_group);
	memset(child_group, -1, sizeof child_group);
	struct kt_desc copy[6];
	memcpy(copy, d, sizeof d);
	groups_after_sort(copy, 6, self_group, self);
	memcpy(copy, d, sizeof d);
	groups_after_sort(copy, 6, child_group, child);
	CHECK(self_group[a] == self_group[c]);
	CHECK(self_group[a] != self_group[b]);
	CHECK(self_group[a] == child_group[a]);
	CHECK(self_group[b] == child_group[b]);
	CHECK(child_group[c] == child_group[a]);

	/* Find: O(log n) search lands on the right group. */
	struct kt_group_stats st = {0};
	struct kt_desc sorted[6], scratch[6];
	memcpy(sorted, d, sizeof d);
	kt_desc_sort(sorted, 6, scratch, &st);
	struct kt_desc key = desc_of(child, c);
	long at = kt_desc_find(sorted, 6, &key, &st);
	CHECK(at >= 0 && kt_kcmp_file(sorted[at].pid, sorted[at].fd, self, a) == 0);
	key = desc_of(self, b);
	at = kt_desc_find(sorted, 6, &key, &st);
	CHECK(at >= 0 && kt_kcmp_file(sorted[at].pid, sorted[at].fd, self, b) == 0);

	/* kt_desc_group: the same order as kt_desc_sort, runs where kcmp
	 * says a description begins; a bucket of one description (the
	 * file's a, c in both) costs one call per holder after the first. */
	struct kt_desc grouped[6];
	unsigned char starts[6];
	struct kt_group_stats gst = {0};
	memcpy(grouped, d, sizeof d);
	kt_desc_group(grouped, 6, scratch, starts, &gst);
	CHECK(gst.kcmp_errors == 0 && starts[0] == 1);
	for (size_t i = 0; i < 6; i++) {
		CHECK(grouped[i].pid == sorted[i].pid && grouped[i].fd == sorted[i].fd);
		if (i > 0)
			CHECK(starts[i] == (kt_kcmp_file(grouped[i - 1].pid, grouped[i - 1].fd,
							 grouped[i].pid, grouped[i].fd) != 0));
	}
	int runs = 0;
	for (size_t i = 0; i < 6; i++)
		runs += starts[i];
	CHECK(runs == 2);
	struct kt_desc one[4] = {desc_of(self, a), desc_of(child, a), desc_of(self, c), desc_of(child, c)};
	unsigned char one_starts[4];
	gst = (struct kt_group_stats){0};
	kt_desc_group(one, 4, scratch, one_starts, &gst);
	CHECK(gst.kcmp_calls == 3 && one_starts[0] == 1 && !one_starts[1] && !one_starts[2] &&
	      !one_starts[3]);
	CHECK(one[0].pid == self && one[0].fd == a && one[3].pid == child && one[3].fd == c);

	/* A vanished process is "unknown", never "different". */
	close(go[1]);
	waitpid(child, NULL, 0);
	CHECK(kt_kcmp_file(self, a, child, a) < 0);
	unlink(path);
	close(a);
	close(b);
	close(c);
}

static void test_sort_many(void)
{
	/* 2,000 descriptors: 1,000 opens of one file (distinct descriptions
	 * on one inode, the worst bucket) and a dup of each. */
	enum { N = 1000 };
	static struct kt_desc d[2 * N], scratch[2 * N];
	static int orig[2 * N];
	pid_t self = getpid();
	for (int i = 0; i < N; i++) {
		int fd = open("/dev/null", O_RDONLY);
		int dup_fd = dup(fd);
		CHECK(fd >= 0 && dup_fd >= 0);
		d[2 * i] = desc_of(self, fd);
		d[2 * i + 1] = desc_of(self, dup_fd);
		orig[2 * i] = fd;
		orig[2 * i + 1] = dup_fd;
	}
	/* Shuffle deterministically. */
	unsigned seed = 12345;
	for (int i = 2 * N - 1; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		int j = (int)(seed % (unsigned)(i + 1));
		struct kt_desc t = d[i];
		d[i] = d[j];
		d[j] = t;
	}
	struct kt_group_stats st = {0};
	kt_desc_sort(d, 2 * N, scratch, &st);
	/* O(n log n): about 2N * log2(2N) = 22,000 comparisons, never N^2. */
	CHECK(st.kcmp_calls < 2u * N * 12u);
	int groups = 0, bad = 0;
	for (int i = 0; i < 2 * N; i++) {
		if (i == 0 || kt_desc_compare(&d[i - 1], &d[i], &st) != 0)
			groups++;
		if (i > 0 && kt_desc_compare(&d[i - 1], &d[i], &st) > 0)
			bad++;
	}
	CHECK(groups == N);
	CHECK(bad == 0);
	for (int i = 0; i < 2 * N; i++)
		close(orig[i]);
}

static void test_record_escaping(void)
{
	char storage[512];
	struct kt_buf b = {storage, 0, sizeof storage, 0};
	const char *tricky = "a\tb\nc\\d\x01 e\x7f";
	kt_buf_str(&b, "kind");
	kt_buf_field(&b, tricky);
	kt_buf_num(&b, -42);
	kt_buf_unum(&b, 18446744073709551615ULL);
	kt_buf_field(&b, NULL);
	kt_buf_field_exact(&b, "");
	kt_buf_field_exact(&b, "-");
	storage[b.len] = '\0';
	CHECK(!b.overflow);
	CHECK(strchr(storage, '\n') == NULL);
	char *f[8];
	int n = kt_record_split(storage, f, 8);
	CHECK(n == 7);
	if (n == 7) {
		CHECK(strcmp(f[0], "kind") == 0);
		CHECK(strcmp(f[1], tricky) == 0);
		CHECK(strcmp(f[2], "-42") == 0);
		CHECK(strcmp(f[3], "18446744073709551615") == 0);
		/* absent, and an exact empty string and lone dash: three things */
		CHECK(f[4] == kt_rec_absent);
		CHECK(f[5] != kt_rec_absent && f[5][0] == '\0');
		CHECK(f[6] != kt_rec_absent && strcmp(f[6], "-") == 0);
	}
	char bad1[] = "x\t\\q";
	CHECK(kt_record_split(bad1, f, 8) == -1);
	char bad2[] = "x\t\\x0";
	CHECK(kt_record_split(bad2, f, 8) == -1);
	/* Fields past max stay whole in the last one (room for future fields). */
	char extra[] = "a\tb\tc";
	CHECK(kt_record_split(extra, f, 2) == 2 && strcmp(f[1], "b\tc") == 0);

	struct kt_buf small = {storage, 0, 4, 0};
	kt_buf_str(&small, "toolong");
	CHECK(small.overflow);
}

static void test_procfs(void)
{
	unsigned long long start = 0;
	pid_t ppid = 0;
	char state = 0;
	CHECK(kt_proc_stat(0, &start, &ppid, &state) == 0);
	CHECK(start > 0 && ppid == getppid());
	CHECK(kt_proc_alive(getpid(), start));
	CHECK(!kt_proc_alive(getpid(), start + 1));
	int fds[4096];
	long n = kt_proc_list_fds(0, fds, 4096);
	CHECK(n >= 0);
	for (long i = 0; i < n; i++) {
		CHECK(fcntl(fds[i], F_GETFD) >= 0);
		CHECK(i == 0 || fds[i] > fds[i - 1]);
	}
	int p[2];
	CHECK(pipe(p) == 0);
	struct kt_fd_info info;
	CHECK(kt_fd_describe(0, p[1], &info) == 0);
	CHECK(info.type == KT_FD_PIPE && info.access == O_WRONLY && info.cloexec == 0);
	CHECK(strncmp(info.target, "pipe:[", 6) == 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	test_kcmp_manpage();
	test_sort_many();
	test_record_escaping();
	test_procfs();
	return unit_result("test_kcmp_group");
}
