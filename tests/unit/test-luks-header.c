/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ext/luks.c: a LUKS2 header formatted apart (the installer's detached header) and
 * written to a disk last with luks_header_install(): until its last stages the region
 * holds no header libcryptsetup accepts; afterwards the passphrase opens it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "ext/luks.h"

#define MiB (UINT64_C(1) << 20)
#define AREA (16 * MiB)
#define OFFSET (3 * MiB)
#define PASS "test passphrase"

static const struct luks_pbkdf fast = { .type = LUKS_PBKDF_PBKDF2, .iterations = 1000 };

struct ctx {
	char *dir;
	char *header;
	char *disk;
	char *snap;
	int disk_fd;
	char stages[64];
	bool valid_after[3];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	_cleanup_close_ int fd = -EBADF;

	assert_non_null(c);
	assert_int_equal(mkdtemp_in(NULL, "test-luks-header.", &c->dir), 0);
	c->header = path_join(c->dir, "header");
	c->disk = path_join(c->dir, "disk");
	c->snap = path_join(c->dir, "snap");
	fd = open(c->header, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, AREA), 0);
	c->disk_fd = open(c->disk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(c->disk_fd >= 0);
	assert_int_equal(ftruncate(c->disk_fd, 64 * MiB), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	safe_close(c->disk_fd);
	rm_rf(c->dir);
	free(c->dir);
	free(c->header);
	free(c->disk);
	free(c->snap);
	free(c);
	return 0;
}

/* Is the header area of the disk, as it is now, a LUKS2 header? */
static bool region_is_luks(struct ctx *c)
{
	_cleanup_free_ uint8_t *buf = malloc(AREA);
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;

	assert_non_null(buf);
	assert_int_equal(pread(c->disk_fd, buf, AREA, OFFSET), (ssize_t)AREA);
	fd = open(c->snap, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(loop_write(fd, buf, AREA), 0);
	return luks_open(c->snap, &v) >= 0;
}

static void on_step(const char *stage, void *userdata)
{
	struct ctx *c = userdata;
	size_t i = streq(stage, "body") ? 0 : streq(stage, "secondary") ? 1 : 2;

	size_t n = strlen(c->stages);
	snprintf(c->stages + n, sizeof(c->stages) - n, "%s ", stage);
	c->valid_after[i] = region_is_luks(c);
}

static void format(struct ctx *c, char uuid[64])
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	const struct luks_format_params p = {
		.label = "airlock-data",
		.sector_size = 4096,
		.pbkdf = &fast,
		.data_offset_bytes = AREA,
	};
	int slot = -1;

	assert_int_equal(luks_format(c->header, &p, &v), 0);
	assert_int_equal(luks_volume_data_offset(v), AREA);
	assert_int_equal(luks_keyslot_add(v, NULL, 0, PASS, strlen(PASS), NULL, &slot), 0);
	assert_int_equal(slot, 0);
	snprintf(uuid, 64, "%s", luks_volume_uuid(v));
}

static void test_install_order(void **state)
{
	struct ctx *c = *state;
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	char uuid[64];

	format(c, uuid);
	/* The disk region says nothing before. */
	assert_false(region_is_luks(c));
	assert_int_equal(luks_header_install(c->header, c->disk_fd, OFFSET, 512, on_step, c), 0);
	assert_string_equal(c->stages, "body secondary primary ");
	/* After the body alone: no header. After the secondary binary header: complete. */
	assert_false(c->valid_after[0]);
	assert_true(c->valid_after[1]);
	assert_true(c->valid_after[2]);

	/* The region now is the header, byte for byte, and opens with the passphrase. */
	{
		_cleanup_free_ char *a = NULL, *b = NULL;
		size_t na = 0;
		assert_true(region_is_luks(c));
		assert_int_equal(read_full_file(c->header, AREA + 1, &a, &na), 0);
		assert_int_equal(na, AREA);
		assert_int_equal(read_full_file(c->snap, AREA + 1, &b, NULL), 0);
		assert_memory_equal(a, b, AREA);
	}
	assert_int_equal(luks_open(c->snap, &v), 0);
	assert_string_equal(luks_volume_uuid(v), uuid);
	assert_true(luks_activate(v, NULL, -1, PASS, strlen(PASS)) >= 0);
	assert_int_equal(luks_activate(v, NULL, -1, "wrong", 5), -EPERM);
	/* The bytes before the region are untouched. */
	{
		uint8_t before[4096] = { 1 };
		assert_int_equal(pread(c->disk_fd, before, sizeof(before), OFFSET - sizeof(before)),
				 (ssize_t)sizeof(before));
		for (size_t i = 0; i < sizeof(before); i++)
			assert_int_equal(before[i], 0);
	}
}

static void test_4k_sectors(void **state)
{
	struct ctx *c = *state;
	char uuid[64];

	format(c, uuid);
	assert_int_equal(luks_header_install(c->header, c->disk_fd, OFFSET, 4096, on_step, c), 0);
	assert_false(c->valid_after[0]);
	assert_true(c->valid_after[2]);
	assert_int_equal(luks_header_install(c->header, c->disk_fd, OFFSET + 512, 4096, NULL, NULL),
			 -EINVAL);
	assert_int_equal(luks_header_install(c->header, c->disk_fd, OFFSET, 1024, NULL, NULL),
			 -EINVAL);
}

static void test_refuses_non_luks(void **state)
{
	struct ctx *c = *state;
	_cleanup_close_ int fd = open(c->header, O_WRONLY | O_CLOEXEC);
	uint8_t junk[4096];

	memset(junk, 0xa5, sizeof(junk));
	assert_true(fd >= 0);
	assert_int_equal(loop_write(fd, junk, sizeof(junk)), 0);
	assert_int_equal(luks_header_install(c->header, c->disk_fd, OFFSET, 512, on_step, c),
			 -EBADMSG);
	assert_string_equal(c->stages, "");
	assert_false(region_is_luks(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4k_sectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_luks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
