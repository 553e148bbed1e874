/* Reading another process's table (shim/common/table.h): a reader maps the
 * file as large as it is now, whatever the header says (the owner may be
 * growing it), rejects what is not a table, and the walks skip the blocks
 * never written. */
#include "table.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

/* A table file of cap entries whose header says header_cap, with entries
 * open at the numbers given (generation 2), -1 ended. */
static const char *make_table(const char *name, size_t cap, uint32_t header_cap, const int *open_fds)
{
	static char path[4400];
	snprintf(path, sizeof path, "%s/%s", root_dir, name);
	size_t size = kt_table_file_size(cap);
	char *file = calloc(1, size);
	struct kt_table_header *h = (struct kt_table_header *)file;
	memcpy(h->magic, KT_TABLE_MAGIC, sizeof h->magic);
	atomic_init(&h->capacity, header_cap);
	h->block_shift = kt_table_block_shift(1u << 20);
	struct kt_fd_entry *t = (struct kt_fd_entry *)(file + KT_TABLE_HEADER_SIZE);
	_Atomic uint8_t *used = kt_table_blocks_used(h);
	size_t max = 0;
	for (const int *fd = open_fds; *fd >= 0; fd++) {
		atomic_init(&t[*fd].gen, 2);
		size_t block = (size_t)*fd >> h->block_shift;
		atomic_init(&used[block / 8], atomic_load(&used[block / 8]) | (uint8_t)(1u << (block & 7)));
		if ((size_t)*fd + 1 > max)
			max = (size_t)*fd + 1;
	}
	atomic_init(&h->max_fd_plus_one, (uint32_t)max);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL && fwrite(file, 1, size, f) == size);
	if (f)
		fclose(f);
	free(file);
	return path;
}

static void test_grown_table_read_by_size(void)
{
	/* The owner grew the file to 256 entries and has not said so yet. */
	const char *path = make_table("grown.tbl", 256, 64, (const int[]){0, 1, 200, -1});
	size_t cap = 0;
	const struct kt_fd_entry *t = kt_table_map_path(path, &cap);
	CHECK(t != NULL && cap == 256);
	if (!t)
		return;
	CHECK(atomic_load(&t[200].gen) == 2);
	const struct kt_table_header *h = kt_table_header_of(t);
	/* The walk finds the used numbers and skips the blocks between. */
	size_t found[8], n = 0, end = atomic_load(&h->max_fd_plus_one);
	for (size_t fd = kt_table_next_used(h, 0, end); fd < end && n < 8; fd = kt_table_next_used(h, fd + 1, end))
		if (atomic_load(&t[fd].gen) == 2)
			found[n++] = fd;
	CHECK(n == 3 && found[0] == 0 && found[1] == 1 && found[2] == 200);
	CHECK(kt_table_next_used(h, 2, end) <= 64);     /* block 0 holds 0..63 */
	CHECK(kt_table_next_used(h, 64, end) == 192);   /* blocks 1 and 2 never written */
	kt_table_unmap(t, cap);
}

static void test_not_tables(void)
{
	size_t cap = 0;
	/* shorter than a header: nothing to read */
	write_file(root_dir, "short.tbl", "kttbl04");
	char path[4400];
	snprintf(path, sizeof path, "%s/short.tbl", root_dir);
	CHECK(kt_table_map_path(path, &cap) == NULL);
	/* another magic */
	const char *old = make_table("old.tbl", 64, 64, (const int[]){-1});
	int fd = open(old, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "kttbl03", 8, 0) == 8);
	close(fd);
	CHECK(kt_table_map_path(old, &cap) == NULL);
	/* a FIFO is not opened for reading (it would block) */
	snprintf(path, sizeof path, "%s/fifo.tbl", root_dir);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK(kt_table_map_path(path, &cap) == NULL);
}

static void test_block_shift(void)
{
	CHECK(kt_table_block_shift(1u << 20) == 6);
	/* 2^30 numbers: the bitmap's page still covers them all */
	uint32_t shift = kt_table_block_shift(1u << 30);
	CHECK(((size_t)1 << 30) >> shift <= KT_TABLE_BLOCK_BITS);
	CHECK(kt_table_block_shift(0x7fffffffu) <= 31);
}

int main(void)
{
	unit_begin("table");
	test_grown_table_read_by_size();
	test_not_tables();
	test_block_shift();
	return unit_end("test_table");
}
