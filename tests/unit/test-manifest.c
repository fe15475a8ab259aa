/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strv.h"
#include "manifest.h"
#include "version.h"

static const char good[] = "# comment\n"
			   "[image]\n"
			   "name = demo\n"
			   "version = 2.1.0   # trailing comment\n"
			   "compatible = demo/x86-64\n"
			   "architecture = amd64\n"
			   "[archive]\n"
			   "suites = bookworm bookworm-security\n"
			   "[packages]\n"
			   "include = systemd udev\n"
			   "include = linux-image-amd64\n"
			   "[prune]\n"
			   "path = usr/share/doc/**\n"
			   "keep = usr/share/doc/*/copyright\n"
			   "[modules]\n"
			   "storage = virtio_blk nvme\n"
			   "storage = kernel/drivers/ata/**\n"
			   "[users]\n"
			   "sysusers = u haproxy - \"HAProxy\" /var/lib/haproxy\n"
			   "[alternatives]\n"
			   "awk = /usr/bin/awk /usr/bin/mawk\n"
			   "[units]\n"
			   "enable = systemd-networkd.service getty@tty1.service\n"
			   "[disk]\n"
			   "root-size = 2G\n";

static void test_good(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *error = NULL, *d1 = NULL, *d2 = NULL;
	(void)state;

	assert_int_equal(manifest_parse("demo.manifest", good, &m, &error), 0);
	assert_string_equal(m->name, "demo");
	assert_string_equal(m->version, "2.1.0");
	assert_string_equal(m->min_version, "0"); /* default */
	assert_true(m->security_version == 0); /* default */
	assert_int_equal(strv_length(m->suites), 2);
	assert_string_equal(m->components[0], "main"); /* default */
	assert_int_equal(m->n_packages, 3);
	assert_string_equal(m->packages[2].name, "linux-image-amd64");
	assert_int_equal(m->packages[2].line, 11);
	assert_int_equal(m->n_module_classes, 1);
	assert_int_equal(strv_length(m->module_classes[0].modules), 3);
	assert_string_equal(m->sysusers[0], "u haproxy - \"HAProxy\" /var/lib/haproxy");
	assert_string_equal(m->alternatives[0].target, "/usr/bin/mawk");
	assert_int_equal(m->root_size, 2ULL << 30);
	assert_int_equal(m->esp_size, 256ULL << 20);
	assert_string_equal(m->hostname, "demo");

	/* The lock digest depends on the package set, not its order. */
	assert_int_equal(manifest_lock_digest(m, &d1), 0);
	{
		_cleanup_(manifest_freep) struct manifest *m2 = NULL;
		_cleanup_free_ char *text = strdup(good);
		char *p = strstr(text, "systemd udev");
		memcpy(p, "udev systemd", 12);
		assert_int_equal(manifest_parse("demo.manifest", text, &m2, NULL), 0);
		assert_int_equal(manifest_lock_digest(m2, &d2), 0);
		assert_string_equal(d1, d2);
	}
}

static void expect_error(const char *text, const char *message)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(manifest_parse("bad.manifest", text, &m, &error), -EBADMSG);
	assert_null(m);
	assert_non_null(error);
	if (!strstr(error, message))
		fail_msg("error '%s' does not contain '%s'", error, message);
}

#define HEAD "[image]\nname = x\nversion = 1\ncompatible = x/y\narchitecture = amd64\n"
#define TAIL "[archive]\nsuites = bookworm\n[packages]\ninclude = a\n"

static void test_errors(void **state)
{
	(void)state;
	expect_error(HEAD "colour = blue\n" TAIL, "bad.manifest:6: [image] colour: unknown key");
	expect_error("[imag]\n", "bad.manifest:1: unknown section [imag]");
	expect_error("name = x\n", "bad.manifest:1: 'name = x' is outside of any [section]");
	expect_error(HEAD "version = 2\n" TAIL, "bad.manifest:6: [image] version: given twice");
	expect_error("[image]\nname = x\nversion = 1.x\n",
		     "bad.manifest:3: [image] version: '1.x' is not a version");
	expect_error(HEAD TAIL "include = a\n",
		     "bad.manifest:10: [packages] include: 'a' is listed twice (also on line 9)");
	expect_error(HEAD TAIL "include = Foo!\n", "'Foo!' is not a Debian package name");
	expect_error(HEAD TAIL "[prune]\npath = /usr/share\n",
		     "bad.manifest:11: [prune] path: '/usr/share': write image paths without");
	expect_error(HEAD TAIL "[prune]\npath = usr/../etc\n", "'..' is not allowed");
	expect_error(HEAD TAIL "[disk]\nroot-size = 1000K\n", "is not a whole number of MiB");
	expect_error(HEAD TAIL "[disk]\nroot-size = big\n", "'big' is not a size");
	expect_error(HEAD TAIL "[users]\nsysusers = x foo\n", "is not a sysusers.d line");
	expect_error(HEAD TAIL "[alternatives]\nawk = /usr/bin/awk\n", "expected 'LINK TARGET'");
	expect_error(HEAD TAIL "[units]\nenable = foo\n", "'foo' is not a unit name");
	expect_error(HEAD TAIL "[image]\nmin-version = 2\n", "2 is higher than version 1");
	expect_error(HEAD TAIL "[image]\nsecurity-version = one\n",
		     "[image] security-version: 'one' is not a whole number from 0 to 1000000");
	expect_error(HEAD TAIL "[image]\nsecurity-version = 1000001\n", "from 0 to 1000000");
	expect_error(HEAD TAIL "[image]\nsecurity-version = 1\nsecurity-version = 2\n",
		     "security-version: given twice");
	expect_error(HEAD "[archive]\nsuites = bookworm\n", "[packages]: no packages listed");
	expect_error("[image]\nname = x\n" TAIL, "[image] version: missing (required)");
	expect_error(HEAD "[packages]\ninclude = a\n", "[archive] suites: missing (required)");
	expect_error(HEAD TAIL "[image]\nkernel-cmdline = roothash=abc\n", "set by the builder");
	expect_error(HEAD TAIL "[image\n", "malformed section header");
	expect_error(HEAD TAIL "just words\n", "is not a 'key = value' line");
}

static void test_versions(void **state)
{
	(void)state;
	assert_true(version_is_valid("1"));
	assert_true(version_is_valid("2026.11.1"));
	assert_false(version_is_valid(""));
	assert_false(version_is_valid("1."));
	assert_false(version_is_valid(".1"));
	assert_false(version_is_valid("1..2"));
	assert_false(version_is_valid("1.0-rc1"));
	assert_int_equal(version_compare("1.0.0", "1.0.0"), 0);
	assert_int_equal(version_compare("1.0", "1.0.0"), 0);
	assert_int_equal(version_compare("1.2", "1.10"), -1);
	assert_int_equal(version_compare("2", "1.99"), 1);
	assert_int_equal(version_compare("1.01", "1.1"), 0);
	assert_int_equal(version_compare("10.0", "9.9.9"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
