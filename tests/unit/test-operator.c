/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banner.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "operator.h"

static void test_hash(void **state)
{
	_cleanup_free_ char *h = NULL, *h2 = NULL;
	const char *why = NULL;
	(void)state;

	assert_int_equal(operator_hash_new("correct horse battery", &h), 0);
	assert_true(strncmp(h, "$y$", 3) == 0);
	assert_int_equal(operator_hash_check(h, &why), 0);
	assert_null(why);
	assert_int_equal(operator_hash_verify(h, "correct horse battery"), 1);
	assert_int_equal(operator_hash_verify(h, "correct horse batterY"), 0);
	assert_int_equal(operator_hash_verify(h, ""), 0);
	/* a fresh salt every time */
	assert_int_equal(operator_hash_new("correct horse battery", &h2), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(operator_hash_verify(h2, "correct horse battery"), 1);

	/* refused passphrases are never hashed */
	assert_int_equal(operator_hash_new("short", &h2), -EINVAL);
	assert_non_null(operator_passphrase_refusal("short"));
	assert_non_null(operator_passphrase_refusal("tab\there!"));
	assert_null(operator_passphrase_refusal("eight ch"));

	/* what is not a yescrypt hash */
	assert_int_equal(operator_hash_check("$6$salt$abc", &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(operator_hash_check("$y$j9T$", &why), -EINVAL);
	assert_int_equal(operator_hash_check("$y$ j9T$a$b", &why), -EINVAL);
	assert_int_equal(operator_hash_check("plain text", &why), -EINVAL);
	assert_int_equal(operator_hash_verify("$6$salt$abc", "x"), -EBADMSG);
}

static void test_delays(void **state)
{
	struct operator_attempts a = { 0 };
	unsigned total = 0;
	(void)state;

	assert_int_equal(operator_delay(0), 0);
	assert_int_equal(operator_delay(1), 1);
	assert_int_equal(operator_delay(2), 2);
	assert_int_equal(operator_delay(3), 4);
	assert_int_equal(operator_delay(5), 16);
	assert_int_equal(operator_delay(6), OPERATOR_DELAY_MAX);
	assert_int_equal(operator_delay(9), OPERATOR_DELAY_MAX);
	assert_int_equal(operator_delay(OPERATOR_LOCKOUT_FAILURES), OPERATOR_LOCKOUT_SEC);
	assert_int_equal(operator_delay(1000), OPERATOR_LOCKOUT_SEC);
	for (unsigned i = 1; i < OPERATOR_LOCKOUT_FAILURES; i++)
		total += operator_delay(i);
	assert_true(total > 100); /* ten guesses take minutes, not seconds */

	a = (struct operator_attempts){ .failures = 3, .last_failure = 1000 };
	assert_int_equal(operator_wait(&a, 1000), 4);
	assert_int_equal(operator_wait(&a, 1003), 1);
	assert_int_equal(operator_wait(&a, 1004), 0);
	/* a clock set back does not stretch the wait beyond the delay */
	assert_int_equal(operator_wait(&a, 10), 4);
	assert_false(operator_locked_out(&a, 1000));

	a = (struct operator_attempts){ .failures = OPERATOR_LOCKOUT_FAILURES,
					.last_failure = 5000 };
	assert_true(operator_locked_out(&a, 5000));
	assert_int_equal(operator_wait(&a, 5100), OPERATOR_LOCKOUT_SEC - 100);
	assert_false(operator_locked_out(&a, 5000 + OPERATOR_LOCKOUT_SEC));
}

static void test_files(void **state)
{
	char dir[] = "/tmp/test-operator.XXXXXX";
	_cleanup_free_ char *hash = NULL, *loaded = NULL, *hpath = NULL, *apath = NULL,
			    *junk = NULL;
	struct operator_attempts a;
	struct stat st;
	(void)state;

	assert_non_null(mkdtemp(dir));
	hpath = path_join(dir, "console/operator.hash");
	apath = path_join(dir, "console/attempts");
	junk = path_join(dir, "junk");

	assert_int_equal(operator_hash_load(hpath, &loaded), -ENOENT);
	assert_int_equal(operator_hash_new("correct horse battery", &hash), 0);
	assert_int_equal(operator_hash_save(hpath, hash), 0);
	assert_int_equal(stat(hpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(operator_hash_load(hpath, &loaded), 0);
	assert_string_equal(loaded, hash);
	assert_int_equal(operator_hash_save(hpath, "not a hash"), -EINVAL);
	assert_int_equal(write_file_atomic(junk, "$6$x$y\n", 7, 0600), 0);
	assert_int_equal(operator_hash_load(junk, &loaded), -EBADMSG);

	assert_int_equal(operator_attempts_load(apath, &a), 0);
	assert_int_equal(a.failures, 0);
	a = (struct operator_attempts){ .failures = 4, .last_failure = 1796000000 };
	assert_int_equal(operator_attempts_save(apath, &a), 0);
	a = (struct operator_attempts){ 0 };
	assert_int_equal(operator_attempts_load(apath, &a), 0);
	assert_int_equal(a.failures, 4);
	assert_int_equal(a.last_failure, 1796000000);
	/* a damaged count is refused, not read as no failures */
	assert_int_equal(write_file_atomic(junk, "4 x\n", 4, 0600), 0);
	assert_int_equal(operator_attempts_load(junk, &a), -EBADMSG);
	assert_int_equal(write_file_atomic(junk, "4 -1\n", 5, 0600), 0);
	assert_int_equal(operator_attempts_load(junk, &a), -EBADMSG);

	assert_int_equal(unlink(hpath), 0);
	assert_int_equal(unlink(apath), 0);
	assert_int_equal(unlink(junk), 0);
	hpath = mfree(hpath);
	hpath = path_join(dir, "console");
	assert_int_equal(rmdir(hpath), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void put_bytes(const char *root, const char *rel, const char *data, size_t size)
{
	_cleanup_free_ char *p = path_join(root, rel);

	assert_int_equal(mkdir_parents(p, 0755), 0);
	assert_int_equal(write_file_atomic(p, data, size, 0644), 0);
}

static void put(const char *root, const char *rel, const char *text)
{
	put_bytes(root, rel, text, strlen(text));
}

static void test_banner(void **state)
{
	char dir[] = "/tmp/test-banner.XXXXXX";
	char *sb = NULL;
	struct banner_facts f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(banner_facts_load(dir, &f), 0);
	assert_string_equal(f.name, "unknown");
	assert_non_null(f.cmdline_error);
	assert_true(strncmp(f.data, "unknown (", 9) == 0);
	banner_facts_done(&f);

	put(dir, "/usr/lib/os-release", "IMAGE_ID=airlock\nIMAGE_VERSION=1.2.3\n");
	put(dir, "/proc/cmdline",
	    "airlock.slot=a airlock.roothash="
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff quiet\n");
	put(dir, "/run/airlock/data", "tpm\n");
	put(dir, "/run/airlock/slot", "b\n");
	assert_int_equal(banner_facts_load(dir, &f), 0);
	assert_string_equal(f.name, "airlock");
	assert_string_equal(f.version, "1.2.3");
	assert_string_equal(f.slot, "b"); /* what airlock-init booted wins */
	assert_string_equal(f.root_hash,
			    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_string_equal(f.data, "/var on the data volume, opened by the TPM");
	assert_null(f.cmdline_error);
	banner_facts_done(&f);

	assert_int_equal(banner_secure_boot(dir, &sb), 0);
	assert_true(strncmp(sb, "unknown (", 9) == 0);
	free(sb);
	put_bytes(dir, "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0a98c7be6c6",
		  "\x06\x00\x00\x00\x01", 5);
	assert_int_equal(banner_secure_boot(dir, &sb), 0);
	assert_string_equal(sb, "enabled");
	free(sb);
	put_bytes(dir, "/sys/firmware/efi/efivars/SetupMode-8be4df61-93ca-11d2-aa0d-e0a98c7be6c6",
		  "\x06\x00\x00\x00\x01", 5);
	assert_int_equal(banner_secure_boot(dir, &sb), 0);
	assert_true(strncmp(sb, "setup mode", 10) == 0);
	free(sb);

	assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_banner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
