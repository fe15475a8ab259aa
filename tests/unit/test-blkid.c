/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ext/blkid.c on a GPT image file (made with sfdisk), and the verity root-hash check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>

#include "core/fs.h"
#include "core/path.h"
#include "core/run.h"
#include "ext/blkid.h"
#include "ext/verity.h"
#include "rootpart.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	return mkdtemp_in(NULL, "airlock-test-blkid.", &tmpdir) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	free(tmpdir);
	return 0;
}

static void make_file(const char *path, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static void test_probe_gpt(void **state)
{
	_cleanup_free_ char *img = path_join(tmpdir, "disk.img"), *tool = NULL, *error = NULL;
	_cleanup_free_ char *script = NULL;
	_cleanup_(disk_info_freep) struct disk_info *d = NULL;
	struct rootpart_choice c;
	int fd;
	(void)state;

	if (run_find_tool("sfdisk", &tool) < 0)
		skip();
	make_file(img, 16 << 20);
	script = path_join(tmpdir, "layout");
	fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	dprintf(fd, "label: gpt\n"
		    "label-id: 01234567-89ab-cdef-0123-456789abcdef\n"
		    "start=1MiB, size=2MiB, type=" GPT_ESP ", name=esp\n"
		    "start=3MiB, size=8MiB, type=" GPT_ROOT_X86_64
		    ", name=root-a, uuid=6B1E5A2C-84F0-4F2A-9D3E-0123456789AB\n"
		    "start=11MiB, size=1MiB, type=" GPT_ROOT_X86_64_VERITY ", name=verity-a\n");
	close(fd);
	{
		const char *argv[] = { "sfdisk", "-q", img, NULL };
		struct run_opts o = { .stdin_mode = RUN_STDIO_FD,
				      .stdin_fd = open(script, O_RDONLY | O_CLOEXEC) };
		int r = run_argv(argv, &o, NULL, &error);
		close(o.stdin_fd);
		if (r < 0)
			fail_msg("sfdisk: %s", strna(error));
	}

	assert_int_equal(disk_info_probe(img, &d), 0);
	assert_string_equal(d->table_type, "gpt");
	assert_string_equal(d->table_uuid, "01234567-89ab-cdef-0123-456789abcdef");
	assert_int_equal(d->size_bytes, 16 << 20);
	assert_int_equal(d->n_partitions, 3);
	assert_int_equal(d->partitions[1].number, 2);
	assert_string_equal(d->partitions[1].type_uuid, GPT_ROOT_X86_64);
	assert_string_equal(d->partitions[1].name, "root-a");
	assert_string_equal(d->partitions[1].uuid, "6b1e5a2c-84f0-4f2a-9d3e-0123456789ab");
	assert_int_equal(d->partitions[1].start_bytes, 3 << 20);
	assert_int_equal(d->partitions[1].size_bytes, 8 << 20);
	assert_null(d->partitions[1].node); /* a file has no partition devices */
	assert_string_equal(d->partitions[2].name, "verity-a");

	/* the probe feeds the selection */
	assert_int_equal(rootpart_select(&d, 1, 'a', NULL, &c, NULL), 0);
	assert_int_equal(c.root, 1);
	assert_int_equal(c.verity, 2);
}

static void test_probe_no_table(void **state)
{
	_cleanup_free_ char *img = path_join(tmpdir, "empty.img");
	_cleanup_(disk_info_freep) struct disk_info *d = NULL;
	struct disk_info *none = NULL;
	(void)state;

	make_file(img, 1 << 20);
	assert_int_equal(disk_info_probe(img, &d), 0);
	assert_null(d->table_type);
	assert_int_equal(d->n_partitions, 0);
	assert_true(disk_info_probe("/nonexistent/disk", &none) < 0);
	assert_null(none);
}

static void test_verity_root_hash(void **state)
{
	_cleanup_free_ char *data = path_join(tmpdir, "data"), *hash = path_join(tmpdir, "hash");
	struct verity_params p = { .data_block_size = 4096, .hash_block_size = 4096 };
	uint8_t root[VERITY_ROOT_HASH_SIZE], wrong[VERITY_ROOT_HASH_SIZE];
	char byte = 'X';
	int fd;
	(void)state;

	/* 1 MiB: 256 data blocks, so the tree has two levels */
	fd = open(data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 256; i++) {
		char block[4096];
		memset(block, 'a' + i % 26, sizeof(block));
		assert_int_equal(write(fd, block, sizeof(block)), sizeof(block));
	}
	close(fd);
	p.data_blocks = 256;
	memset(p.salt, 0x5a, sizeof(p.salt));
	assert_int_equal(verity_format(data, hash, &p, root), 0);

	assert_int_equal(verity_check_root_hash(hash, root), 0);
	memcpy(wrong, root, sizeof(wrong));
	wrong[31] ^= 1;
	assert_int_equal(verity_check_root_hash(hash, wrong), -EPERM);

	/* a changed top-level block no longer matches */
	fd = open(hash, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &byte, 1, 4096 + 7), 1);
	close(fd);
	assert_int_equal(verity_check_root_hash(hash, root), -EPERM);
	/* not a verity superblock at all */
	assert_true(verity_check_root_hash(data, root) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_gpt),
		cmocka_unit_test(test_probe_no_table),
		cmocka_unit_test(test_verity_root_hash),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
