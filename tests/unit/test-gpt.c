/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "gpt.h"

#define MiB (UINT64_C(1) << 20)
#define DISK_UUID "0ff1ce00-1234-4abc-8def-0123456789ab"
#define U1 "11111111-2222-4333-8444-555555555555"
#define U2 "6de8e2cb-7d00-4a8c-9a26-3c1b3e0f4a5e"
#define U3 "7aa0b4b2-10d1-4a52-bf4c-7e3b1f9d2c11"
#define U4 "8f0f7c7e-2d5e-4f6a-8e52-0e8d7b4f1a2b"

static const struct gpt_spec three[] = {
	{ "esp", GPT_TYPE_ESP, U1, 64 * MiB, 0 },
	{ "root-a", GPT_TYPE_ROOT_X86_64, U2, 10 * MiB + 1, GPT_ATTR_READ_ONLY },
	{ "verity-a", GPT_TYPE_ROOT_X86_64_VERITY, U3, 4096, GPT_ATTR_READ_ONLY },
};

static void test_plan(void **state)
{
	_cleanup_(disklabel_freep) struct disklabel *d = NULL;
	(void)state;

	assert_int_equal(gpt_plan(DISK_UUID, three, 3, 0, &d), 0);
	assert_int_equal(d->n_parts, 3);
	assert_int_equal(d->parts[0].start_bytes, MiB);
	assert_int_equal(d->parts[0].size_bytes, 64 * MiB);
	assert_int_equal(d->parts[1].start_bytes, 65 * MiB);
	assert_int_equal(d->parts[1].size_bytes, 11 * MiB); /* rounded up */
	assert_int_equal(d->parts[2].start_bytes, 76 * MiB);
	assert_int_equal(d->parts[2].size_bytes, MiB);
	assert_int_equal(d->size_bytes, 78 * MiB); /* + 1 MiB for the backup GPT */
	assert_string_equal(d->parts[1].name, "root-a");
	assert_int_equal(d->parts[2].partno, 2);
	assert_non_null(gpt_find(d, "verity-a"));
	assert_null(gpt_find(d, "root-b"));
}

static void test_plan_rest_and_errors(void **state)
{
	_cleanup_(disklabel_freep) struct disklabel *d = NULL;
	struct disklabel *none = NULL;
	struct gpt_spec specs[] = {
		{ "esp", GPT_TYPE_ESP, U1, 8 * MiB, 0 },
		{ "data", GPT_TYPE_VAR, U4, 0, 0 },
	};
	(void)state;

	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB + 123, &d), 0);
	assert_int_equal(d->size_bytes, 100 * MiB);
	assert_int_equal(d->parts[1].start_bytes, 9 * MiB);
	assert_int_equal(d->parts[1].size_bytes, 90 * MiB);

	/* Too small a disk, a size-0 spec without a disk size or not last. */
	assert_int_equal(gpt_plan(DISK_UUID, three, 3, 20 * MiB, &none), -ENOSPC);
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 0, &none), -EINVAL);
	specs[0].size_bytes = 0;
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB, &none), -EINVAL);
	specs[0].size_bytes = 8 * MiB;
	/* Bad GUIDs, duplicate names or GUIDs, bad names. */
	assert_int_equal(gpt_plan("nope", three, 3, 0, &none), -EINVAL);
	specs[1].uuid = "11111111-2222-4333-8444-55555555555";
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB, &none), -EINVAL);
	specs[1].uuid = U1;
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB, &none), -EINVAL);
	specs[1].uuid = U4;
	specs[1].name = "esp";
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB, &none), -EINVAL);
	specs[1].name = "";
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB, &none), -EINVAL);
	specs[1].name = "0123456789012345678901234567890123456"; /* 37 > 36 */
	assert_int_equal(gpt_plan(DISK_UUID, specs, 2, 100 * MiB, &none), -EINVAL);
	assert_null(none);
}

static void test_uuids(void **state)
{
	const uint8_t b[16] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	char s[GPT_UUID_STRING_MAX], s2[GPT_UUID_STRING_MAX], s3[GPT_UUID_STRING_MAX];
	(void)state;

	gpt_uuid_from_bytes(b, s);
	assert_string_equal(s, "deadbeef-0001-0203-0405-060708090a0b");
	assert_true(gpt_uuid_is_valid(s));
	assert_false(gpt_uuid_is_valid("deadbeef-0001-0203-0405-060708090a0"));
	assert_false(gpt_uuid_is_valid("deadbeef+0001-0203-0405-060708090a0b"));
	assert_false(gpt_uuid_is_valid("xeadbeef-0001-0203-0405-060708090a0b"));

	assert_int_equal(gpt_uuid_derive("key", 3, "disk", s), 0);
	assert_int_equal(gpt_uuid_derive("key", 3, "disk", s2), 0);
	assert_int_equal(gpt_uuid_derive("key", 3, "esp", s3), 0);
	assert_string_equal(s, s2);
	assert_string_not_equal(s, s3);
	assert_int_equal(s[14], '4'); /* version 4 */
	assert_non_null(strchr("89ab", s[19])); /* RFC 4122 variant */
}

static char *make_disk(const char *dir, const char *name, uint64_t size)
{
	char *p = path_join(dir, name);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return p;
}

static void test_write_read(void **state)
{
	_cleanup_(disklabel_freep) struct disklabel *d = NULL, *back = NULL;
	_cleanup_free_ char *dir = NULL, *a = NULL, *b = NULL, *small = NULL, *da = NULL,
			    *db = NULL;
	size_t na, nb;
	(void)state;

	assert_int_equal(mkdtemp_in(NULL, "test-gpt.", &dir), 0);
	assert_int_equal(gpt_plan(DISK_UUID, three, 3, 0, &d), 0);
	a = make_disk(dir, "a.img", d->size_bytes);
	b = make_disk(dir, "b.img", d->size_bytes);
	small = make_disk(dir, "small.img", d->size_bytes - MiB);

	assert_int_equal(gpt_write(a, d), 0);
	assert_int_equal(gpt_write(b, d), 0);
	assert_int_equal(gpt_write(small, d), -ENOSPC);

	/* Byte-identical: nothing random or time-dependent in the table. */
	assert_int_equal(read_full_file(a, 128 * MiB, &da, &na), 0);
	assert_int_equal(read_full_file(b, 128 * MiB, &db, &nb), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(da, db, na);
	assert_memory_equal(da + 512, "EFI PART", 8);

	assert_int_equal(gpt_read(a, &back), 0);
	assert_string_equal(back->uuid, DISK_UUID);
	assert_int_equal(back->sector_size, 512);
	assert_int_equal(back->size_bytes, d->size_bytes);
	assert_int_equal(back->n_parts, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back->parts[i].partno, i);
		assert_int_equal(back->parts[i].start_bytes, d->parts[i].start_bytes);
		assert_int_equal(back->parts[i].size_bytes, d->parts[i].size_bytes);
		assert_string_equal(back->parts[i].type_uuid, d->parts[i].type_uuid);
		assert_string_equal(back->parts[i].uuid, d->parts[i].uuid);
		assert_string_equal(back->parts[i].name, d->parts[i].name);
		assert_int_equal(back->parts[i].attrs, d->parts[i].attrs);
	}

	/* A file without a table. */
	back = disklabel_free(back);
	assert_int_equal(gpt_read(small, &back), -ENOMEDIUM);
	assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_rest_and_errors),
		cmocka_unit_test(test_uuids),
		cmocka_unit_test(test_write_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
