/* SPDX-License-Identifier: Apache-2.0 */
/* installer/image.c: the root hash on the command line, manifest.json, the ESP's UKI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../installer/installer.h"
#include "cmdline.h"
#include "core/hex.h"
#include "core/strv.h"

#define HASH "536179baa4a7b03a6296241c48e2bf3074561697914b79e8ac0fe894a7ec84a7"

static void test_cmdline(void **state)
{
	uint8_t h[32], want[32];
	(void)state;

	assert_int_equal(unhex_exact(HASH, want, 32), 0);
	assert_int_equal(cmdline_text_root_hash(
				 "airlock.slot=a airlock.roothash=" HASH " console=ttyS0\n", h),
			 0);
	assert_memory_equal(h, want, 32);
	/* roothash= (systemd's) is not ours */
	assert_int_equal(cmdline_text_root_hash("roothash=" HASH, h), -ENOENT);
	assert_int_equal(cmdline_text_root_hash("xairlock.roothash=" HASH, h), -ENOENT);
	assert_int_equal(cmdline_text_root_hash("airlock.roothash=abcd", h), -EBADMSG);
	assert_int_equal(cmdline_text_root_hash("airlock.roothash=" HASH "00", h), -EBADMSG);
	assert_int_equal(cmdline_text_root_hash("", h), -ENOENT);
}

static void test_manifest(void **state)
{
	_cleanup_free_ char *name = NULL, *version = NULL, *error = NULL;
	struct plan_sizes s;
	uint8_t h[32], want[32];
	const char *good = "{\"format\":1,\"name\":\"airlock\",\"version\":\"1.2.3\","
			   "\"verity\":{\"root_hash\":\"" HASH "\",\"salt\":\"00\"},"
			   "\"disk\":{\"esp_size\":268435456,\"root_size\":1073741824,"
			   "\"verity_size\":67108864,\"data_min_size\":1073741824},"
			   "\"packages\":[]}";
	(void)state;

	assert_int_equal(unhex_exact(HASH, want, 32), 0);
	assert_int_equal(source_parse_manifest(good, strlen(good), &name, &version, &s, h, &error),
			 0);
	assert_string_equal(name, "airlock");
	assert_string_equal(version, "1.2.3");
	assert_int_equal(s.esp_bytes, 268435456);
	assert_int_equal(s.root_bytes, 1073741824);
	assert_int_equal(s.verity_bytes, 67108864);
	assert_int_equal(s.data_min_bytes, 1073741824);
	assert_memory_equal(h, want, 32);

	static const struct {
		const char *json;
		const char *error;
	} bad[] = {
		{ "{", "not JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"version\":\"1\"}", "'name'" },
		{ "{\"name\":\"a\",\"version\":\"1\"}", "'disk'" },
		{ "{\"name\":\"a\",\"version\":\"1\",\"disk\":{\"esp_size\":1,\"root_size\":1,"
		  "\"verity_size\":1}}",
		  "'disk.data_min_size'" },
		{ "{\"name\":\"a\",\"version\":\"1\",\"disk\":{\"esp_size\":0,\"root_size\":1,"
		  "\"verity_size\":1,\"data_min_size\":1}}",
		  "'disk.esp_size'" },
		{ "{\"name\":\"a\",\"version\":\"1\",\"disk\":{\"esp_size\":\"big\",\"root_size\":1,"
		  "\"verity_size\":1,\"data_min_size\":1}}",
		  "'disk.esp_size'" },
		{ "{\"name\":\"a\",\"version\":\"1\",\"disk\":{\"esp_size\":1,\"root_size\":1,"
		  "\"verity_size\":1,\"data_min_size\":1},\"verity\":{\"root_hash\":\"xyz\"}}",
		  "'verity.root_hash'" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *n = NULL, *v = NULL, *e = NULL;
		assert_int_equal(source_parse_manifest(bad[i].json, strlen(bad[i].json), &n, &v, &s,
						       h, &e),
				 -EBADMSG);
		if (!e || !strstr(e, bad[i].error))
			fail_msg("%s: error '%s' lacks '%s'", bad[i].json, strna(e), bad[i].error);
		assert_null(n);
	}
}

static void test_pick_uki(void **state)
{
	_cleanup_strv_free_ char **files = NULL;
	_cleanup_free_ char *p = NULL;
	(void)state;

	assert_int_equal(
		strv_split("EFI/BOOT/BOOTX64.EFI EFI/Linux/airlock-1.0.0-a+2-1.efi "
			   "EFI/Linux/airlock-1.0.0-b+3.efi EFI/Linux/airlock-1.0.0-a.efi.bak "
			   "EFI/Linux/airlock-1.0.1-a+3.efi loader/loader.conf",
			   " ", &files),
		0);
	assert_int_equal(source_pick_uki(files, "airlock", "1.0.0", &p), 0);
	assert_string_equal(p, "EFI/Linux/airlock-1.0.0-a+2-1.efi");
	p = mfree(p);

	/* blessed (no counter) */
	assert_int_equal(strv_extend(&files, "EFI/Linux/airlock-1.0.0-a.efi"), 0);
	assert_int_equal(source_pick_uki(files, "airlock", "1.0.0", &p), -ENOTUNIQ);
	assert_int_equal(source_pick_uki(files, "airlock", "2.0", &p), -ENOENT);
	assert_int_equal(source_pick_uki(files, "airlock", "1.0.1", &p), 0);
	assert_string_equal(p, "EFI/Linux/airlock-1.0.1-a+3.efi");
	p = mfree(p);

	static const char *const not_ukis[] = { "EFI/Linux/airlock-1.0.0-a+.efi",
						"EFI/Linux/airlock-1.0.0-a+3-.efi",
						"EFI/Linux/airlock-1.0.0-a+x.efi",
						"EFI/Linux/airlock-1.0.0-ab.efi", NULL };
	assert_int_equal(source_pick_uki((char **)not_ukis, "airlock", "1.0.0", &p), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_pick_uki),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
