/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ext/blkid.c on GPT image files (made with sfdisk and lib/gpt), the signatures in
 * them, and the verity root-hash check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "core/run.h"
#include "ext/blkid.h"
#include "ext/luks.h"
#include "gpt.h"
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

/* Signatures: a LUKS2 header in partition 2 of a GPT image (lib/gpt, lib/ext/luks), none in 1. */
static void test_probe_signatures(void **state)
{
	_cleanup_free_ char *img = path_join(tmpdir, "sig.img"), *hdr = path_join(tmpdir, "hdr");
	_cleanup_(disk_info_freep) struct disk_info *d = NULL;
	_cleanup_(disklabel_freep) struct disklabel *layout = NULL;
	_cleanup_free_ char *area = NULL;
	size_t n = 0;
	const struct luks_pbkdf fast = { .type = LUKS_PBKDF_PBKDF2, .iterations = 1000 };
	const struct luks_format_params p = { .label = "airlock-data", .pbkdf = &fast };
	const struct gpt_spec specs[] = {
		{ "esp", GPT_TYPE_ESP, "11111111-2222-4333-8444-555555555555", 1 << 20, 0 },
		{ "data", GPT_TYPE_VAR, "6de8e2cb-7d00-4a8c-9a26-3c1b3e0f4a5e", 0, 0 },
	};
	(void)state;

	make_file(hdr, 20 << 20);
	{
		_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
		assert_int_equal(luks_format(hdr, &p, &v), 0);
	}
	make_file(img, 32 << 20);
	assert_int_equal(
		gpt_plan("0ff1ce00-1234-4abc-8def-0123456789ab", specs, 2, 32 << 20, &layout), 0);
	assert_int_equal(gpt_write(img, layout), 0);
	assert_int_equal(read_full_file(hdr, 32 << 20, &area, &n), 0);
	{
		int fd = open(img, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, area, 1 << 20, (off_t)layout->parts[1].start_bytes),
				 1 << 20);
		close(fd);
	}

	assert_int_equal(disk_info_probe(img, &d), 0);
	assert_int_equal(d->n_partitions, 2);
	assert_null(d->partitions[1].fs_type); /* not probed yet */
	assert_int_equal(disk_info_probe_signatures(d), 0);
	assert_null(d->fs_type);
	assert_null(d->partitions[0].fs_type);
	assert_string_equal(d->partitions[1].fs_type, "crypto_LUKS");
	assert_string_equal(d->partitions[1].fs_label, "airlock-data");
	/* probing again replaces, not leaks */
	assert_int_equal(disk_info_probe_signatures(d), 0);
	assert_string_equal(d->partitions[1].fs_type, "crypto_LUKS");

	/* the same header on the whole of another file is a whole-disk signature */
	{
		_cleanup_(disk_info_freep) struct disk_info *whole = NULL;
		assert_int_equal(disk_info_probe(hdr, &whole), 0);
		assert_int_equal(disk_info_probe_signatures(whole), 0);
		assert_string_equal(whole->fs_type, "crypto_LUKS");
		assert_int_equal(whole->n_partitions, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_gpt),
		cmocka_unit_test(test_probe_no_table),
		cmocka_unit_test(test_verity_root_hash),
		cmocka_unit_test(test_probe_signatures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
