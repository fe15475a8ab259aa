/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/tpm2token.c: the systemd-tpm2 LUKS2 token. Round trips through tokens that
 * systemd-cryptenroll 252 wrote (tests/data/tpm2/, see its README) must give back
 * the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/fileio.h"
#include "core/hex.h"
#include "core/path.h"
#include "ext/crypto.h"
#include "ext/tpm.h"
#include "tpm2token.h"

static char *fixture(const char *name, size_t *ret_size)
{
	const char *src = getenv("AIRLOCK_SRC") ?: ".";
	_cleanup_free_ char *path = path_join(src, "tests/data/tpm2", name);
	char *data = NULL;

	assert_non_null(path);
	if (read_full_file(path, 1024 * 1024, &data, ret_size) < 0)
		fail_msg("cannot read %s (run from the source tree or set AIRLOCK_SRC)", path);
	return data;
}

static void test_systemd_token_round_trip(void **state)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	_cleanup_free_ char *json = NULL, *pem = NULL, *out = NULL, *policy = NULL;
	size_t n, pem_size;
	(void)state;

	json = fixture("systemd-252-token.json", &n);
	pem = fixture("systemd-252-token-pubkey.pem", &pem_size);
	assert_int_equal(tpm2_token_from_json(json, n, &t, NULL), 0);

	assert_int_equal(t->keyslot, 1);
	assert_int_equal(t->blob_size, 240); /* 2+158 TPM2B_PRIVATE, 2+78 TPM2B_PUBLIC */
	assert_int_equal(t->hash_pcr_mask, 1U << 7);
	assert_string_equal(t->pcr_bank, "sha256");
	assert_int_equal(t->primary_alg, TPM_PRIMARY_ECC);
	assert_int_equal(t->policy_hash_size, 32);
	policy = hexmem(t->policy_hash, 32);
	assert_string_equal(policy,
			    "16d05309ae2cce73d4de9d7ac888363695dffc9dcc7e3c09c528cbc1b2f8861e");
	assert_false(t->pin);
	assert_int_equal(t->pubkey_pcr_mask, 1U << 11);
	/* tpm2_pubkey is the PEM file's bytes */
	assert_int_equal(t->pubkey_size, pem_size);
	assert_memory_equal(t->pubkey, pem, pem_size);

	/* and back, byte for byte as systemd wrote it */
	assert_int_equal(tpm2_token_to_json(t, &out), 0);
	assert_int_equal(strlen(out), n);
	assert_string_equal(out, json);
}

/* The token's policy hash, recomputed from its key; the sealed object carries the same. */
static void test_systemd_token_policy(void **state)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_free_ char *json = NULL;
	struct tpm_pcr_values pcr7 = { .mask = 1U << 7 }; /* all zero when enrolled */
	uint8_t d[32];
	const uint8_t *pub;
	size_t n, priv_size;
	(void)state;

	json = fixture("systemd-252-token.json", &n);
	assert_int_equal(tpm2_token_from_json(json, n, &t, NULL), 0);
	assert_int_equal(rsa_key_from_public_pem(t->pubkey, t->pubkey_size, &k), 0);
	assert_int_equal(tpm_policy_compute(k, &pcr7, NULL, d), 0);
	assert_memory_equal(d, t->policy_hash, 32);

	/* blob: TPM2B_PRIVATE, then TPM2B_PUBLIC = size, KEYEDHASH, SHA-256,
	 * fixedTPM|fixedParent, authPolicy (32 bytes) */
	priv_size = (size_t)t->blob[0] << 8 | t->blob[1];
	assert_int_equal(priv_size, 158);
	pub = t->blob + 2 + priv_size;
	assert_memory_equal(pub, "\x00\x4e\x00\x08\x00\x0b\x00\x00\x00\x12\x00\x20", 12);
	assert_memory_equal(pub + 12, t->policy_hash, 32);
}

static void test_systemd_pin_token(void **state)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	_cleanup_free_ char *json = NULL, *out = NULL;
	size_t n;
	(void)state;

	json = fixture("systemd-252-token-pin.json", &n);
	assert_int_equal(tpm2_token_from_json(json, n, &t, NULL), 0);
	assert_int_equal(t->keyslot, 2);
	assert_true(t->pin);
	assert_null(t->pubkey);
	assert_int_equal(t->pubkey_pcr_mask, 0);
	assert_int_equal(tpm2_token_to_json(t, &out), 0);
	assert_string_equal(out, json);
}

static void test_build(void **state)
{
	static const uint8_t blob[] = { 1, 2, 3 }, policy[] = { 0xab, 0xcd };
	static const char pem[] = "PEM";
	struct tpm2_token t = {
		.keyslot = 31,
		.blob = (uint8_t *)blob,
		.blob_size = sizeof(blob),
		.hash_pcr_mask = (1U << 0) | (1U << 7) | (1U << 23),
		.pcr_bank = (char *)"sha256",
		.primary_alg = TPM_PRIMARY_RSA,
		.policy_hash = (uint8_t *)policy,
		.policy_hash_size = sizeof(policy),
		.pubkey_pcr_mask = 1U << 11,
		.pubkey = (uint8_t *)pem,
		.pubkey_size = 3,
	};
	_cleanup_(tpm2_token_freep) struct tpm2_token *back = NULL;
	_cleanup_free_ char *json = NULL, *again = NULL;
	(void)state;

	assert_int_equal(tpm2_token_to_json(&t, &json), 0);
	assert_string_equal(
		json, "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"31\"],\"tpm2-blob\":\"AQID\","
		      "\"tpm2-pcrs\":[0,7,23],\"tpm2-pcr-bank\":\"sha256\","
		      "\"tpm2-primary-alg\":\"rsa\",\"tpm2-policy-hash\":\"abcd\","
		      "\"tpm2-pin\":false,\"tpm2_pubkey_pcrs\":[11],"
		      "\"tpm2_pubkey\":\"UEVN\"}");
	assert_int_equal(tpm2_token_from_json(json, strlen(json), &back, NULL), 0);
	assert_int_equal(back->keyslot, 31);
	assert_int_equal(back->blob_size, 3);
	assert_memory_equal(back->blob, blob, 3);
	assert_int_equal(back->hash_pcr_mask, t.hash_pcr_mask);
	assert_int_equal(back->primary_alg, TPM_PRIMARY_RSA);
	assert_int_equal(back->policy_hash_size, 2);
	assert_memory_equal(back->pubkey, "PEM", 3);
	assert_int_equal(tpm2_token_to_json(back, &again), 0);
	assert_string_equal(again, json);

	/* no key: no pubkey fields; no literal PCRs: an empty list */
	t.pubkey = NULL;
	t.pubkey_pcr_mask = 0;
	t.hash_pcr_mask = 0;
	json = mfree(json);
	assert_int_equal(tpm2_token_to_json(&t, &json), 0);
	assert_non_null(strstr(json, "\"tpm2-pcrs\":[],"));
	assert_null(strstr(json, "tpm2_pubkey"));
	assert_non_null(endswith(json, "\"tpm2-pin\":false}") ? json : NULL);

	/* incomplete tokens are refused */
	t.keyslot = -1;
	assert_int_equal(tpm2_token_to_json(&t, &again), -EINVAL);
	t.keyslot = 32;
	assert_int_equal(tpm2_token_to_json(&t, &again), -EINVAL);
	t.keyslot = 1;
	t.pubkey_pcr_mask = 1U << 11; /* a signed PCR without a key */
	assert_int_equal(tpm2_token_to_json(&t, &again), -EINVAL);
	t.pubkey_pcr_mask = 0;
	t.blob = NULL;
	assert_int_equal(tpm2_token_to_json(&t, &again), -EINVAL);
}

/* Fields that systemd 252 treats as optional get its defaults. */
static void test_defaults(void **state)
{
	static const char json[] = "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],"
				   "\"tpm2-blob\":\"AQID\",\"tpm2-pcrs\":[7],"
				   "\"tpm2-policy-hash\":\"00ff\"}";
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	(void)state;

	assert_int_equal(tpm2_token_from_json(json, strlen(json), &t, NULL), 0);
	assert_string_equal(t->pcr_bank, "sha256");
	assert_int_equal(t->primary_alg, TPM_PRIMARY_ECC);
	assert_false(t->pin);
	assert_null(t->pubkey);
}

static void check_bad(const char *json, int error, const char *error_part)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	_cleanup_free_ char *msg = NULL;

	assert_int_equal(tpm2_token_from_json(json, strlen(json), &t, &msg), error);
	assert_null(t);
	assert_non_null(msg);
	if (!strstr(msg, error_part))
		fail_msg("error '%s' does not mention '%s'", msg, error_part);
}

#define BASE "\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"AQID\""
#define HEX32 "0011223344556677889900112233445566778899001122334455667788990011"
#define REST "\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"00ff\""

static void test_errors(void **state)
{
	(void)state;
	check_bad("{", -EBADMSG, "not JSON");
	check_bad("[]", -EBADMSG, "not a JSON object");
	check_bad("{\"type\":\"systemd-fido2\"}", -EBADMSG, "\"type\"");
	check_bad("{\"type\":\"systemd-tpm2\",\"keyslots\":[]," REST "}", -EBADMSG, "\"keyslots\"");
	check_bad("{\"type\":\"systemd-tpm2\",\"keyslots\":[1]," REST "}", -EBADMSG,
		  "\"keyslots\"");
	check_bad("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"32\"]," REST "}", -EBADMSG,
		  "\"keyslots\"");
	check_bad("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"]," REST "}", -EBADMSG,
		  "\"tpm2-blob\": missing");
	check_bad("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"],\"tpm2-blob\":\"A\"," REST "}",
		  -EBADMSG, "\"tpm2-blob\": not base64");
	check_bad("{" BASE ",\"tpm2-pcrs\":[24],\"tpm2-policy-hash\":\"00\"}", -EBADMSG,
		  "\"tpm2-pcrs\": PCR 24 out of range");
	check_bad("{" BASE ",\"tpm2-pcrs\":[\"7\"],\"tpm2-policy-hash\":\"00\"}", -EBADMSG,
		  "\"tpm2-pcrs\"");
	check_bad("{" BASE ",\"tpm2-policy-hash\":\"00\"}", -EBADMSG, "\"tpm2-pcrs\": missing");
	check_bad("{" BASE ",\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"0g\"}", -EBADMSG,
		  "\"tpm2-policy-hash\"");
	check_bad("{" BASE "," REST ",\"tpm2-primary-alg\":\"dsa\"}", -EBADMSG,
		  "\"tpm2-primary-alg\"");
	check_bad("{" BASE "," REST ",\"tpm2-pin\":\"no\"}", -EBADMSG, "\"tpm2-pin\"");
	check_bad("{" BASE "," REST ",\"tpm2-pcr-bank\":7}", -EBADMSG, "\"tpm2-pcr-bank\"");
	check_bad("{" BASE "," REST ",\"tpm2_pubkey\":\"!\"}", -EBADMSG, "\"tpm2_pubkey\"");
	check_bad("{" BASE "," REST ",\"tpm2_pubkey_pcrs\":[99]}", -EBADMSG,
		  "\"tpm2_pubkey_pcrs\"");
	/* fields of newer systemd that change how to unseal */
	check_bad("{" BASE "," REST ",\"tpm2_srk\":\"AAAA\"}", -EOPNOTSUPP, "\"tpm2_srk\"");
	check_bad("{" BASE "," REST ",\"tpm2_pcrlock\":true}", -EOPNOTSUPP, "\"tpm2_pcrlock\"");
	/* Airlock's record of the sealed PCR values */
	check_bad("{" BASE "," REST ",\"airlock_sealed_pcrs\":[]}", -EBADMSG,
		  "\"airlock_sealed_pcrs\": not an object");
	check_bad("{" BASE "," REST ",\"airlock_sealed_pcrs\":{\"7\":\"00\"}}", -EBADMSG,
		  "\"7\" is not a PCR with a SHA-256 value");
	check_bad("{" BASE "," REST ",\"airlock_sealed_pcrs\":{\"24\":\"" HEX32 "\"}}", -EBADMSG,
		  "\"24\"");
	check_bad("{" BASE "," REST ",\"airlock_sealed_pcrs\":{\"x\":\"" HEX32 "\"}}", -EBADMSG,
		  "\"x\"");
	check_bad("{" BASE "," REST ",\"airlock_sealed_pcrs\":{\"7\":7}}", -EBADMSG, "\"7\"");
	/* the version floor's binding */
	check_bad("{" BASE "," REST ",\"airlock_floor\":[]}", -EBADMSG, "\"airlock_floor\": not");
	check_bad("{" BASE "," REST ",\"airlock_floor\":{\"index\":\"0x01a1a700\"}}", -EBADMSG,
		  "\"base\"");
	check_bad("{" BASE "," REST ",\"airlock_floor\":{\"index\":\"0x81000001\",\"base\":\"1\"}}",
		  -EBADMSG, "\"0x81000001\" is not an NV index");
	check_bad("{" BASE "," REST
		  ",\"airlock_floor\":{\"index\":\"0x01a1a700\",\"base\":\"-1\"}}",
		  -EBADMSG, "base \"-1\" is not a number");
	check_bad("{" BASE "," REST ",\"airlock_floor\":{\"index\":\"0x01a1a700\",\"base\":7}}",
		  -EBADMSG, "\"airlock_floor\"");
}

/* The floor binding: written last, read back exactly (64-bit base), absent = none. */
static void test_floor(void **state)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL, *back = NULL;
	_cleanup_free_ char *json = NULL;
	(void)state;

	assert_int_equal(tpm2_token_from_json("{" BASE "," REST "}", strlen("{" BASE "," REST "}"),
					      &t, NULL),
			 0);
	assert_false(t->has_floor);
	t->has_floor = true;
	t->floor.index = 0x01a1a700;
	t->floor.base = UINT64_C(18446744073709551610);
	assert_int_equal(tpm2_token_to_json(t, &json), 0);
	assert_non_null(strstr(json, ",\"airlock_floor\":{\"index\":\"0x01a1a700\","
				     "\"base\":\"18446744073709551610\"}}"));
	assert_int_equal(tpm2_token_from_json(json, strlen(json), &back, NULL), 0);
	assert_true(back->has_floor);
	assert_int_equal(back->floor.index, 0x01a1a700);
	assert_true(back->floor.base == UINT64_C(18446744073709551610));
}

/* The PCR values sealed to: written after systemd's fields, read back, absent = mask 0. */
static void test_sealed_pcrs(void **state)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL, *back = NULL;
	_cleanup_free_ char *json = NULL, *plain = NULL;
	(void)state;

	assert_int_equal(tpm2_token_from_json("{" BASE "," REST "}", strlen("{" BASE "," REST "}"),
					      &t, NULL),
			 0);
	assert_int_equal(t->sealed_pcrs.mask, 0);
	assert_int_equal(tpm2_token_to_json(t, &plain), 0);
	assert_null(strstr(plain, "airlock_sealed_pcrs"));

	t->sealed_pcrs.mask = 1U << 7;
	memset(t->sealed_pcrs.value[7], 0xab, 32);
	assert_int_equal(tpm2_token_to_json(t, &json), 0);
	assert_non_null(strstr(json, ",\"airlock_sealed_pcrs\":{\"7\":\"abab"));
	assert_int_equal(tpm2_token_from_json(json, strlen(json), &back, NULL), 0);
	assert_int_equal(back->sealed_pcrs.mask, 1U << 7);
	assert_memory_equal(back->sealed_pcrs.value[7], t->sealed_pcrs.value[7], 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_token_round_trip),
		cmocka_unit_test(test_systemd_token_policy),
		cmocka_unit_test(test_systemd_pin_token),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_sealed_pcrs),
		cmocka_unit_test(test_floor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
