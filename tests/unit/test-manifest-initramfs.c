/* SPDX-License-Identifier: Apache-2.0 */
/* The manifest's [initramfs] section: parsing, validation, defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strv.h"
#include "manifest.h"

#define HEAD                            \
	"[image]\n"                     \
	"name = t\n"                    \
	"version = 1\n"                 \
	"compatible = airlock/x86-64\n" \
	"architecture = amd64\n"        \
	"[archive]\n"                   \
	"suites = bookworm\n"           \
	"[packages]\n"                  \
	"include = linux-image-amd64\n"

static void test_defaults(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	(void)state;

	assert_int_equal(manifest_parse("t.manifest", HEAD, &m, NULL), 0);
	assert_string_equal(m->initramfs_compression, "zstd");
	assert_true(strv_contains(m->initramfs_modules, "dm_verity"));
	assert_true(strv_contains(m->initramfs_modules, "virtio_blk"));
	assert_true(strv_contains(m->initramfs_modules, "usb_storage"));
	assert_int_equal(strv_length(m->initramfs_modules),
			 strv_length((char **)manifest_initramfs_modules_default));
}

static void test_given(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	(void)state;

	assert_int_equal(manifest_parse("t.manifest",
					HEAD "[initramfs]\n"
					     "modules = dm-verity squashfs\n"
					     "modules = virtio_blk # continued\n"
					     "compression = none\n",
					&m, NULL),
			 0);
	assert_int_equal(strv_length(m->initramfs_modules), 3);
	assert_string_equal(m->initramfs_modules[0], "dm-verity");
	assert_string_equal(m->initramfs_modules[2], "virtio_blk");
	assert_string_equal(m->initramfs_compression, "none");
}

static void test_debug_units(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	(void)state;

	assert_int_equal(manifest_parse("t.manifest",
					HEAD "[units]\n"
					     "enable = airlock-boot-complete.service\n"
					     "debug-enable = airlock-debug-shell.service\n",
					&m, NULL),
			 0);
	assert_false(strv_contains(m->enable, "airlock-debug-shell.service"));
	assert_true(strv_contains(m->debug_enable, "airlock-debug-shell.service"));
}

static void expect_error(const char *section, const char *fragment)
{
	_cleanup_free_ char *text = NULL, *error = NULL;
	struct manifest *m = NULL;

	assert_true(asprintf(&text, HEAD "[initramfs]\n%s", section) > 0);
	assert_int_equal(manifest_parse("t.manifest", text, &m, &error), -EBADMSG);
	assert_null(m);
	if (!error || !strstr(error, fragment))
		fail_msg("'%s' does not contain '%s'", strna(error), fragment);
}

static void test_refused(void **state)
{
	(void)state;

	expect_error("modules = kernel/fs/*.ko\n",
		     "t.manifest:11: [initramfs] modules: 'kernel/fs/*.ko' is not a module name");
	expect_error("modules = dm_mod dm_mod\n", "'dm_mod' is listed twice");
	expect_error("modules =\n", "empty list");
	expect_error("compression = xz\n", "'xz' is not supported (zstd or none)");
	expect_error("compression = zstd\ncompression = none\n", "given twice");
	expect_error("firmware = x\n", "unknown key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_given),
		cmocka_unit_test(test_debug_units),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
