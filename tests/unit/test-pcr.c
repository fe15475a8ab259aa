/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pcr.c: PCR 11 of a UKI as systemd-stub 252 measures it, and .pcrsig.
 * Golden values come from /usr/lib/systemd/systemd-measure calculate (systemd
 * 252.39-1~deb12u2) on the fixed inputs below; tests/integration/
 * test-tpm-measure.sh compares against it live on random inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/hex.h"
#include "ext/json.h"
#include "pcr.h"

static const char v_linux[] = "KERNEL-IMAGE-TEST-VECTOR";
static const char v_osrel[] = "ID=airlock\nVERSION_ID=1\n";
static const char v_cmdline[] = "console=ttyS0 airlock.slot=a";
static const char v_initrd[] = "INITRD";
static const char v_splash[] = "SPLASH";
static const char v_dtb[] = "DTB";
static const char v_pcrpkey[] = "-----BEGIN PUBLIC KEY-----\n";

static void add(struct pcr_uki *u, enum pcr_uki_section s, const char *data)
{
	assert_int_equal(pcr_uki_add_data(u, s, data, strlen(data)), 0);
}

static void assert_predict(const struct pcr_uki *u, const char *phase, const char *expected)
{
	uint8_t v[32];
	_cleanup_free_ char *h = NULL;

	assert_int_equal(pcr_uki_predict(u, phase, v), 0);
	h = hexmem(v, sizeof(v));
	assert_string_equal(h, expected);
}

static void test_sections_vs_systemd_measure(void **state)
{
	struct pcr_uki u = {};
	(void)state;

	add(&u, PCR_UKI_LINUX, v_linux);
	/* systemd-measure calculate --linux=linux --bank=sha256 --phase= */
	assert_predict(&u, "", "19795b6b5f5b2fc70dbe043b8400daa049bedac6404651644f86cbc9f86e0f9a");
	assert_predict(&u, NULL,
		       "19795b6b5f5b2fc70dbe043b8400daa049bedac6404651644f86cbc9f86e0f9a");

	/* Sections added in any order are measured in the stub's order. */
	add(&u, PCR_UKI_INITRD, v_initrd);
	add(&u, PCR_UKI_CMDLINE, v_cmdline);
	add(&u, PCR_UKI_OSREL, v_osrel);
	/* --linux --osrel --cmdline --initrd --phase= */
	assert_predict(&u, "", "adb055fe46d9e9e78f161ebb65e711e31a5fb2a8f20350a09e90570dbd97434a");
	/* the default phases of systemd-measure 252 */
	assert_predict(&u, "enter-initrd",
		       "3f0e4dcad9befd193bbd265cab9a41e4bbaa7818c4799c9f598f304873a383ff");
	assert_predict(&u, "enter-initrd:leave-initrd",
		       "4b542579df3c3cdd7c04d319152d22f2c1e349ccb027871dcc3801f25c2eac9c");
	assert_predict(&u, "enter-initrd:leave-initrd:sysinit",
		       "e1e7c2eabba7db551506d293593825a5b6edc677aec9dc14814e47aad1677256");
	assert_predict(&u, "enter-initrd:leave-initrd:sysinit:ready",
		       "b8667c37ba09d8cbb18449103b7e6c3bfdf3ff36eb5e236224510f69395a129b");

	add(&u, PCR_UKI_PCRPKEY, v_pcrpkey);
	add(&u, PCR_UKI_DTB, v_dtb);
	add(&u, PCR_UKI_SPLASH, v_splash);
	/* all seven sections */
	assert_predict(&u, "", "a31eff79983578a3cf7f58f051b142c2a6efe9192ad9e93edac3c1954cc43555");
}

/* The rule written out step by step, independently of pcr_uki_predict(). */
static void test_sections_by_hand(void **state)
{
	static const char *const names[] = { ".linux", ".cmdline", ".pcrpkey" };
	static const char *const data[] = { v_linux, v_cmdline, v_pcrpkey };
	struct pcr_uki u = {};
	uint8_t pcr[32] = {}, buf[64], v[32];
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		memcpy(buf, pcr, 32);
		assert_int_equal(sha256_buf(names[i], strlen(names[i]) + 1, buf + 32), 0);
		assert_int_equal(sha256_buf(buf, 64, pcr), 0);
		memcpy(buf, pcr, 32);
		assert_int_equal(sha256_buf(data[i], strlen(data[i]), buf + 32), 0);
		assert_int_equal(sha256_buf(buf, 64, pcr), 0);
	}
	add(&u, PCR_UKI_PCRPKEY, v_pcrpkey);
	add(&u, PCR_UKI_LINUX, v_linux);
	add(&u, PCR_UKI_CMDLINE, v_cmdline);
	assert_int_equal(pcr_uki_predict(&u, "", v), 0);
	assert_memory_equal(v, pcr, 32);

	/* a phase word: no NUL */
	memcpy(buf, pcr, 32);
	assert_int_equal(sha256_buf("enter-initrd", 12, buf + 32), 0);
	assert_int_equal(sha256_buf(buf, 64, pcr), 0);
	assert_int_equal(pcr_uki_predict(&u, "enter-initrd", v), 0);
	assert_memory_equal(v, pcr, 32);

	/* an empty word is refused */
	assert_int_equal(pcr_uki_predict(&u, "enter-initrd::x", v), -EINVAL);
	assert_int_equal(pcr_uki_predict(&u, ":", v), -EINVAL);
}

static void test_section_names(void **state)
{
	(void)state;
	assert_string_equal(pcr_uki_section_to_string(PCR_UKI_LINUX), ".linux");
	assert_string_equal(pcr_uki_section_to_string(PCR_UKI_PCRPKEY), ".pcrpkey");
	assert_int_equal(pcr_uki_section_from_string(".initrd"), PCR_UKI_INITRD);
	/* .pcrsig is never measured */
	assert_int_equal(pcr_uki_section_from_string(".pcrsig"), _PCR_UKI_SECTION_INVALID);
	assert_null(pcr_uki_section_to_string(_PCR_UKI_SECTION_MAX));
	assert_int_equal(pcr_uki_add_data(&(struct pcr_uki){}, _PCR_UKI_SECTION_MAX, "", 0),
			 -EINVAL);
}

/* notes/tpm-probe/output-measure.txt: pol of 04f2e7bd... is 869c18d1... */
static void test_policy_digest(void **state)
{
	uint8_t value[32], d[32];
	_cleanup_free_ char *h = NULL;
	(void)state;

	assert_int_equal(
		unhex_exact("04f2e7bdad30f73770110af68ab4210e8ec81adb1b41d5b0f535fadd9d8b1641",
			    value, 32),
		0);
	assert_int_equal(pcr_policy_digest(PCR_KERNEL_BOOT, value, d), 0);
	h = hexmem(d, 32);
	assert_string_equal(h, "869c18d14e65ff0b158735b0fa6cee9e943a5be46987b67fe74af0497500b21a");
	assert_int_equal(pcr_policy_digest(24, value, d), -EINVAL);
}

static struct rsa_key *vendor, *other, *vendor_public;

static int setup_keys(void **state)
{
	_cleanup_free_ char *pem = NULL;
	size_t n;
	(void)state;

	if (rsa_key_generate(2048, &vendor) < 0 || rsa_key_generate(2048, &other) < 0)
		return -1;
	if (rsa_key_public_pem(vendor, &pem, &n) < 0 ||
	    rsa_key_from_public_pem(pem, n, &vendor_public) < 0)
		return -1;
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	vendor = rsa_key_free(vendor);
	other = rsa_key_free(other);
	vendor_public = rsa_key_free(vendor_public);
	return 0;
}

static void test_signature_round_trip(void **state)
{
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *s = NULL, *o = NULL, *m = NULL;
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_free_ char *json = NULL, *fp_hex = NULL;
	uint8_t values[2][32], pol[32], fp[32];
	struct json_object *bank, *e;
	const char *str;
	(void)state;

	memset(values[0], 0xa1, 32);
	memset(values[1], 0xb2, 32);
	assert_int_equal(pcr_signature_build(vendor, (const uint8_t(*)[32])values, 2, &json), 0);
	/* one line, compact, as systemd-measure writes it */
	assert_non_null(strchr(json, '\n'));
	assert_int_equal(strchr(json, '\n')[1], '\0');
	assert_null(strchr(json, ' '));
	assert_non_null(startswith(json, "{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\""));

	/* fields, in systemd's order */
	assert_int_equal(json_parse(json, strlen(json), &root, NULL), 0);
	assert_int_equal(json_get_array(root, "sha256", &bank), 0);
	assert_int_equal(json_object_array_length(bank), 2);
	e = json_object_array_get_idx(bank, 0);
	assert_int_equal(pcr_key_fingerprint(vendor_public, fp), 0);
	fp_hex = hexmem(fp, 32);
	assert_int_equal(json_get_string(e, "pkfp", &str), 0);
	assert_string_equal(str, fp_hex);

	/* parsed with the public key alone: both entries, signatures that verify */
	assert_int_equal(
		pcr_signatures_parse(json, strlen(json), vendor_public, 1U << 11, &s, NULL), 0);
	assert_int_equal(s->n_entries, 2);
	assert_int_equal(s->n_other_keys, 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(pcr_policy_digest(11, values[i], pol), 0);
		assert_memory_equal(s->entries[i].policy, pol, 32);
		assert_int_equal(s->entries[i].pcr_mask, 1U << 11);
		assert_int_equal(s->entries[i].sig_size, 256);
		assert_int_equal(rsa_verify_sha256(vendor_public, pol, 32, s->entries[i].sig,
						   s->entries[i].sig_size),
				 0);
		assert_int_equal(rsa_verify_sha256(other, pol, 32, s->entries[i].sig,
						   s->entries[i].sig_size),
				 -EBADMSG);
	}

	/* another key: nothing usable, but the caller learns it was signed by another key */
	assert_int_equal(pcr_signatures_parse(json, strlen(json), other, 1U << 11, &o, NULL), 0);
	assert_int_equal(o->n_entries, 0);
	assert_int_equal(o->n_other_keys, 2);

	/* another PCR set: nothing at all */
	assert_int_equal(pcr_signatures_parse(json, strlen(json), vendor, 1U << 7, &m, NULL), 0);
	assert_int_equal(m->n_entries, 0);
	assert_int_equal(m->n_other_keys, 0);
}

static void test_signature_needs_private_key(void **state)
{
	uint8_t v[1][32] = {};
	char *json = NULL;
	(void)state;

	assert_int_equal(pcr_signature_build(vendor_public, (const uint8_t(*)[32])v, 1, &json),
			 -ENOKEY);
	assert_int_equal(pcr_signature_build(vendor, (const uint8_t(*)[32])v, 0, &json), -EINVAL);
	assert_null(json);
}

static void check_bad(const char *json, const char *error_part)
{
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *s = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(pcr_signatures_parse(json, strlen(json), vendor, 1U << 11, &s, &error),
			 -EBADMSG);
	assert_null(s);
	assert_non_null(error);
	if (!strstr(error, error_part))
		fail_msg("error '%s' does not mention '%s'", error, error_part);
}

static void test_signature_parse_errors(void **state)
{
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *s = NULL, *e = NULL;
	static const char no_pkfp[] =
		"{\"sha256\":[{\"pcrs\":[11],\"pol\":\"00000000000000000000000000000000000000"
		"00000000000000000000000000\",\"sig\":\"AAAA\"}],\"sha1\":[]}";
	(void)state;

	check_bad("", "not JSON");
	check_bad("[]", "not a JSON object");
	check_bad("{\"sha256\":{}}", "\"sha256\" is not an array");
	check_bad("{\"sha256\":[1]}", "sha256[0]: not an object");
	check_bad("{\"sha256\":[{\"pcrs\":[24]}]}", "sha256[0]: \"pcrs\"");
	check_bad("{\"sha256\":[{\"pcrs\":\"11\"}]}", "sha256[0]: \"pcrs\"");
	check_bad("{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"zz\"}]}", "\"pkfp\"");
	check_bad("{\"sha256\":[{\"pcrs\":[11],\"pol\":\"00\"}]}", "\"pol\"");
	check_bad("{\"sha256\":[{\"pcrs\":[11],\"pol\":\"000000000000000000000000000000000000000000"
		  "0000000000000000000000\",\"sig\":\"!!!\"}]}",
		  "\"sig\"");

	/* no pkfp: kept, the TPM checks the signature; other banks are ignored */
	assert_int_equal(pcr_signatures_parse(no_pkfp, strlen(no_pkfp), vendor, 1U << 11, &s, NULL),
			 0);
	assert_int_equal(s->n_entries, 1);
	assert_int_equal(s->entries[0].sig_size, 3);
	/* no sha256 bank: no entries, not an error */
	assert_int_equal(pcr_signatures_parse("{\"sha1\":[]}", 11, vendor, 1U << 11, &e, NULL), 0);
	assert_int_equal(e->n_entries, 0);
}

/* The cap airlock-init extends: SHA-256 of the documented word, as a phase word. */
static void test_cap(void **state)
{
	struct pcr_uki u = {};
	uint8_t d[SHA256_DIGEST_SIZE], want[SHA256_DIGEST_SIZE], a[SHA256_DIGEST_SIZE],
		b[SHA256_DIGEST_SIZE];
	(void)state;

	assert_string_equal(PCR_KERNEL_BOOT_CAP_WORD, "airlock-initrd-done");
	assert_int_equal(pcr_cap_digest(d), 0);
	/* printf airlock-initrd-done | sha256sum */
	assert_int_equal(unhex_exact("f341b554c90d448508d2ca77495a6032"
				     "2588ccbdcadf7f7eb657fbec91a5668d",
				     want, sizeof(want)),
			 0);
	assert_memory_equal(d, want, sizeof(d));
	/* a capped PCR 11 is never the sections-only value that is signed */
	assert_int_equal(pcr_uki_add_data(&u, PCR_UKI_LINUX, "kernel", 6), 0);
	assert_int_equal(pcr_uki_predict(&u, NULL, a), 0);
	assert_int_equal(pcr_uki_predict(&u, PCR_KERNEL_BOOT_CAP_WORD, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_vs_systemd_measure),
		cmocka_unit_test(test_sections_by_hand),
		cmocka_unit_test(test_section_names),
		cmocka_unit_test(test_policy_digest),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_signature_round_trip),
		cmocka_unit_test(test_signature_needs_private_key),
		cmocka_unit_test(test_signature_parse_errors),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
