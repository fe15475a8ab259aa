/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ext/luks.c against the real libcryptsetup on a sparse image file in a
 * temporary directory (header work and passphrase checks need no device-mapper).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>

#include "core/fs.h"
#include "core/path.h"
#include "ext/luks.h"

static const struct luks_pbkdf fast = { .type = LUKS_PBKDF_PBKDF2, .iterations = 1000 };

struct fixture {
	char *dir;
	char *image;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f || mkdtemp_in(NULL, "airlock-test-luks.", &f->dir) < 0)
		return -1;
	f->image = path_join(f->dir, "data.img");
	fd = open(f->image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 32 * 1024 * 1024) < 0)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	(void)rm_rf(f->dir);
	free(f->dir);
	free(f->image);
	free(f);
	return 0;
}

static void test_format_keyslots_tokens(void **state)
{
	struct fixture *f = *state;
	struct luks_format_params p = { .label = "airlock-data", .pbkdf = &fast };
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL, *again = NULL;
	_cleanup_free_ char *json = NULL, *uuid = NULL;
	int slot0 = -1, slot1 = -1, slot2 = -1, token = -1, found = -1;
	const struct luks_pbkdf argon = {
		.type = LUKS_PBKDF_ARGON2ID,
		.iterations = 4,
		.memory_kib = 8 * 1024,
		.parallel = 1,
	};

	assert_int_equal(luks_format(f->image, &p, &v), 0);
	assert_non_null(luks_volume_uuid(v));
	uuid = strdup(luks_volume_uuid(v));

	/* first keyslot from the volume key held since format */
	assert_int_equal(luks_keyslot_add(v, NULL, 0, "first", 5, NULL, &slot0), 0);
	assert_int_equal(slot0, 0);
	/* further keyslots unlocked by a passphrase, with their own PBKDF */
	assert_int_equal(luks_keyslot_add(v, "first", 5, "second", 6, &luks_pbkdf_tpm2, &slot1), 0);
	assert_int_equal(slot1, 1);
	assert_int_equal(luks_keyslot_add(v, "second", 6, "third", 5, &argon, &slot2), 0);
	assert_int_equal(slot2, 2);
	/* a wrong unlocking passphrase adds nothing */
	assert_int_equal(luks_keyslot_add(v, "wrong", 5, "fourth", 6, NULL, NULL), -EPERM);

	/* check-only activation: which keyslot took it, or -EPERM */
	assert_int_equal(luks_activate(v, NULL, -1, "second", 6), 1);
	assert_int_equal(luks_activate(v, NULL, -1, "third", 5), 2);
	assert_int_equal(luks_activate(v, NULL, 0, "second", 6), -EPERM);
	assert_int_equal(luks_activate(v, NULL, -1, "fourth", 6), -EPERM);

	/* tokens */
	assert_int_equal(luks_token_set(v, -1, "{\"type\":\"airlock-test\",\"keyslots\":[\"1\"]}",
					&token),
			 0);
	assert_int_equal(token, 0);
	assert_int_equal(luks_token_get(v, token, &json), 0);
	assert_non_null(strstr(json, "\"airlock-test\""));
	assert_int_equal(luks_token_find(v, "airlock-test", 0, &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(luks_token_find(v, "airlock-test", 1, &found), -ENOENT);
	assert_int_equal(luks_token_find(v, "systemd-tpm2", 0, &found), -ENOENT);
	/* a token naming a keyslot that does not exist is refused */
	assert_true(luks_token_set(v, -1, "{\"type\":\"airlock-test\",\"keyslots\":[\"9\"]}",
				   NULL) < 0);
	assert_int_equal(luks_token_set(v, -1, "not json", NULL), -EINVAL);

	/* everything is on disk: a fresh handle sees it */
	assert_int_equal(luks_open(f->image, &again), 0);
	assert_string_equal(luks_volume_uuid(again), uuid);
	assert_int_equal(luks_activate(again, NULL, -1, "first", 5), 0);
	assert_int_equal(luks_token_find(again, "airlock-test", 0, &found), 0);

	/* removal */
	assert_int_equal(luks_token_remove(again, 0), 0);
	assert_int_equal(luks_token_get(again, 0, &json), -ENOENT);
	assert_int_equal(luks_keyslot_destroy(again, 1), 0);
	assert_int_equal(luks_activate(again, NULL, -1, "second", 6), -EPERM);
	assert_int_equal(luks_activate(again, NULL, -1, "third", 5), 2);
}

static void test_not_luks(void **state)
{
	struct fixture *f = *state;
	struct luks_volume *v = NULL;

	/* the fixture image is all zeros */
	assert_int_equal(luks_open(f->image, &v), -EBADMSG);
	assert_null(v);
	assert_null(luks_volume_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_keyslots_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_luks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
