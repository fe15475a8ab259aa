/* SPDX-License-Identifier: Apache-2.0 */
/* installer/answers.c: the answer file; every error names the file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../installer/installer.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* yescrypt of "correct horse battery" (airlock-console hash-passphrase) */
#define OPERATOR_HASH "$y$j9T$JkjLNAc0qxC/V2x7xsqP6/$gQx9/hQqfkfJEnfL6V5W/yzk8iiaDFwAi/zZ7RvZ6cB"

static void test_full(void **state)
{
	_cleanup_(answers_freep) struct install_answers *a = NULL;
	_cleanup_free_ char *error = NULL;
	const char *text = "# unattended install of the lab appliance\n"
			   "\n"
			   "disk-id = nvme-Samsung_SSD_980_1TB_S64ANS0T\n"
			   "  disk-model=QEMU*  \n"
			   "disk-serial = S64ANS0T\n"
			   "disk-min-size = 7G\n"
			   "disk-max-size = 9G\n"
			   "confirm = yes\r\n"
			   "recovery-key = console, file disk\n"
			   "recovery-key-file = /mnt/escrow/key.txt\n"
			   "recovery-key-disk = /dev/disk/by-id/usb-KEY\n"
			   "tpm = allow-missing\n"
			   "tcti = swtpm:host=127.0.0.1,port=2321\n"
			   "pcr-public-key = /usr/lib/airlock/pcr.pem\n"
			   "pbkdf = argon2id\n"
			   "pbkdf-memory = 64M\n"
			   "pbkdf-time-cost = 4\n"
			   "pbkdf-parallel = 2\n"
			   "reboot = yes\n"
			   "operator-passphrase-hash = " OPERATOR_HASH "\n";
	(void)state;

	assert_int_equal(answers_parse("a.conf", text, &a, &error), 0);
	assert_null(a->disk.path);
	assert_string_equal(a->disk.id, "nvme-Samsung_SSD_980_1TB_S64ANS0T");
	assert_string_equal(a->disk.model, "QEMU*");
	assert_string_equal(a->disk.serial, "S64ANS0T");
	assert_int_equal(a->disk.min_size_bytes, 7 * GiB);
	assert_int_equal(a->disk.max_size_bytes, 9 * GiB);
	assert_true(a->confirm);
	assert_int_equal(a->keydest, KEYDEST_CONSOLE | KEYDEST_FILE | KEYDEST_DISK);
	assert_string_equal(a->key_file, "/mnt/escrow/key.txt");
	assert_string_equal(a->key_disk, "/dev/disk/by-id/usb-KEY");
	assert_int_equal(a->tpm, TPM_MODE_ALLOW_MISSING);
	assert_string_equal(a->tcti, "swtpm:host=127.0.0.1,port=2321");
	assert_string_equal(a->pcr_public_key, "/usr/lib/airlock/pcr.pem");
	assert_int_equal(a->pbkdf.type, LUKS_PBKDF_ARGON2ID);
	assert_int_equal(a->pbkdf.memory_kib, 64 * 1024);
	assert_int_equal(a->pbkdf.iterations, 4);
	assert_int_equal(a->pbkdf.parallel, 2);
	assert_true(a->reboot);
	assert_string_equal(a->operator_hash, OPERATOR_HASH);
	assert_int_equal(a->line[ANSWER_DISK_ID], 3);
	assert_int_equal(a->line[ANSWER_REBOOT], 19);
	assert_int_equal(answers_check_unattended(a, &error), 0);
}

static void test_defaults(void **state)
{
	_cleanup_(answers_freep) struct install_answers *a = NULL;
	(void)state;

	assert_int_equal(answers_parse("d.conf",
				       "disk = /dev/sdb\nconfirm = yes\nrecovery-key = console\n",
				       &a, NULL),
			 0);
	assert_string_equal(a->disk.path, "/dev/sdb");
	assert_int_equal(a->tpm, TPM_MODE_REQUIRED);
	assert_int_equal(a->pbkdf.type, LUKS_PBKDF_ARGON2ID);
	assert_int_equal(a->pbkdf.iterations, 0); /* tuned for the machine */
	assert_false(a->reboot);
	assert_int_equal(answers_check_unattended(a, NULL), 0);
	/* a by-id path is reduced to its name */
	answers_free(TAKE_PTR(a));
	assert_int_equal(answers_parse("d.conf", "disk-id = /dev/disk/by-id/ata-X\n", &a, NULL), 0);
	assert_string_equal(a->disk.id, "ata-X");
}

/* text must fail with an error that contains every one of the strings. */
static void expect_error(const char *text, int want, const char *a, const char *b)
{
	_cleanup_(answers_freep) struct install_answers *ans = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(answers_parse("/etc/x.conf", text, &ans, &error), want);
	assert_null(ans);
	assert_non_null(error);
	if (!strstr(error, a) || (b && !strstr(error, b)))
		fail_msg("error '%s' lacks '%s' / '%s'", error, a, b ? b : "");
}

static void test_errors_name_line_and_key(void **state)
{
	(void)state;
	expect_error("confirm = yes\n\ndisk-sise = 8G\n", -EINVAL, "/etc/x.conf:3: key 'disk-sise'",
		     "unknown key");
	expect_error("# c\ndisk = /dev/sda\ndisk = /dev/sdb\n", -EINVAL,
		     "/etc/x.conf:3: key 'disk'", "given twice (first on line 2)");
	expect_error("confirm = no\n", -EINVAL, "/etc/x.conf:1: key 'confirm'", "must be 'yes'");
	expect_error("confirm = YES\n", -EINVAL, ":1: key 'confirm'", NULL);
	expect_error("\n\ndisk-size = 8 gigabytes\n", -EINVAL, ":3: key 'disk-size'", "not a size");
	expect_error("disk-size = 0\n", -EINVAL, ":1: key 'disk-size'", NULL);
	expect_error("tpm = maybe\n", -EINVAL, ":1: key 'tpm'", "'maybe'");
	expect_error("recovery-key = console printer\n", -EINVAL, ":1: key 'recovery-key'",
		     "'printer' is not a destination");
	expect_error("recovery-key-file = key.txt\n", -EINVAL, ":1: key 'recovery-key-file'",
		     "absolute");
	expect_error("pbkdf = scrypt\n", -EINVAL, ":1: key 'pbkdf'", NULL);
	expect_error("pbkdf-memory = 1K\n", -EINVAL, ":1: key 'pbkdf-memory'", "32K and 4G");
	expect_error("pbkdf-time-cost = 0\n", -EINVAL, ":1: key 'pbkdf-time-cost'", NULL);
	expect_error("pbkdf-parallel = 64\n", -EINVAL, ":1: key 'pbkdf-parallel'", NULL);
	expect_error("reboot = later\n", -EINVAL, ":1: key 'reboot'", NULL);
	expect_error("operator-passphrase-hash = correct horse battery\n", -EINVAL,
		     ":1: key 'operator-passphrase-hash'", "not a yescrypt hash");
	expect_error("operator-passphrase-hash = $y$j9T$\n", -EINVAL,
		     ":1: key 'operator-passphrase-hash'", "libxcrypt");
	expect_error("operator-passphrase-hash = $6$salt$x\n", -EINVAL,
		     ":1: key 'operator-passphrase-hash'", "hash-passphrase");
	expect_error("disk-id = by-id/x\n", -EINVAL, ":1: key 'disk-id'", NULL);
	expect_error("disk =\n", -EINVAL, ":1: key 'disk'", "empty value");
	expect_error("disk = /dev/\x01sda\n", -EINVAL, ":1: key 'disk'", "control characters");
	expect_error("confirm yes\n", -EINVAL, "/etc/x.conf:1: expected 'key = value'", NULL);
	expect_error("= yes\n", -EINVAL, "/etc/x.conf:1: no key", NULL);
}

static void check_error(const char *text, int want, const char *what)
{
	_cleanup_(answers_freep) struct install_answers *a = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(answers_parse("u.conf", text, &a, NULL), 0);
	assert_int_equal(answers_check_unattended(a, &error), want);
	if (!strstr(error, what))
		fail_msg("error '%s' lacks '%s'", error, what);
}

static void test_unattended_needs(void **state)
{
	(void)state;
	check_error("confirm = yes\nrecovery-key = console\n", -EINVAL, "u.conf: no target disk");
	check_error("disk = /dev/sdb\nrecovery-key = console\n", -EPERM, "no 'confirm = yes'");
	check_error("disk = /dev/sdb\nconfirm = yes\n", -EINVAL, "no 'recovery-key' destination");
	check_error("disk = /dev/sdb\nconfirm = yes\nrecovery-key = file\n", -EINVAL,
		    "u.conf:3: key 'recovery-key': 'file' needs 'recovery-key-file'");
	check_error("disk = /dev/sdb\nconfirm = yes\nrecovery-key = console\n"
		    "recovery-key-file = /k\n",
		    -EINVAL, "u.conf:4: key 'recovery-key-file'");
	check_error("disk = /dev/sdb\nconfirm = yes\nrecovery-key = disk\n", -EINVAL,
		    "'disk' needs 'recovery-key-disk'");
	check_error("disk-min-size = 9G\ndisk-max-size = 8G\nconfirm = yes\nrecovery-key = "
		    "console\n",
		    -EINVAL, "u.conf:2: key 'disk-max-size': below disk-min-size (line 1)");
}

static void test_options(void **state)
{
	_cleanup_(answers_freep) struct install_answers *a = NULL;
	_cleanup_free_ char *error = NULL;
	(void)state;

	assert_int_equal(answers_new(&a), 0);
	assert_int_equal(answers_set(a, "pbkdf-memory", "64M", ANSWER_LINE_OPTION, &error), 0);
	assert_int_equal(a->line[ANSWER_PBKDF_MEMORY], ANSWER_LINE_OPTION);
	assert_int_equal(answers_set(a, "pbkdf-memory", "32M", ANSWER_LINE_OPTION, &error),
			 -EINVAL);
	assert_string_equal(error, "option --pbkdf-memory: given twice (also as an option)");
	free(TAKE_PTR(error));
	assert_int_equal(answers_set(a, "tpm", "sometimes", ANSWER_LINE_OPTION, &error), -EINVAL);
	assert_non_null(strstr(error, "option --tpm: "));
	/* a relative PCR key path is fine on the command line */
	assert_int_equal(answers_set(a, "pcr-public-key", "key.pem", ANSWER_LINE_OPTION, NULL), 0);

	assert_int_equal(answer_key_from_string("disk-model"), ANSWER_DISK_MODEL);
	assert_int_equal(answer_key_from_string("disk_model"), _ANSWER_KEY_INVALID);
	for (int k = 0; k < _ANSWER_KEY_MAX; k++)
		assert_int_equal(answer_key_from_string(answer_key_to_string(k)), k);
}

static void test_describe(void **state)
{
	struct disk_match m = { .path = (char *)"/dev/sdb",
				.model = (char *)"QEMU*",
				.size_bytes = 8 * GiB };
	_cleanup_free_ char *s = disk_match_describe(&m);
	(void)state;

	assert_string_equal(s, "disk=/dev/sdb, disk-model=QEMU*, disk-size=8.0 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors_name_line_and_key),
		cmocka_unit_test(test_unattended_needs),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
