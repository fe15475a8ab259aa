/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ext/tpm.c without a TPM: policy digests computed in software against the
 * vectors measured on swtpm in notes/tpm-probe/output-*.txt, the SRK templates
 * byte for byte, and the mapping of TPM response codes. The TPM side (trial
 * sessions, seal, unseal) is in tests/integration/test-tpm-seal.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/hex.h"
#include "ext/crypto.h"
#include "ext/tpm.h"

static void unhex32(const char *s, uint8_t out[32])
{
	assert_int_equal(strlen(s), 64);
	assert_int_equal(unhex_exact(s, out, 32), 0);
}

static void assert_hex(const uint8_t *p, size_t n, const char *expected)
{
	_cleanup_free_ char *h = hexmem(p, n);
	assert_string_equal(h, expected);
}

/* PCR value after one extend from zero with SHA-256(text), as probe-seal-flow.sh does. */
static void pcr_after(const char *text, uint8_t out[32])
{
	uint8_t buf[64] = {};
	assert_int_equal(sha256_buf(text, strlen(text), buf + 32), 0);
	assert_int_equal(sha256_buf(buf, sizeof(buf), out), 0);
}

/* notes/tpm-probe/output-seal-flow.txt: PolicyPCR(11) software == TPM trial 8081f3b6... */
static void test_policy_pcr_vector(void **state)
{
	static const uint8_t zero[32];
	struct tpm_pcr_values v = { .mask = UINT32_C(1) << 11 };
	uint8_t d[32];
	(void)state;

	pcr_after("uki v1", v.value[11]);
	assert_hex(v.value[11], 32,
		   "71ccbd101a09467f04eab50f3921af3463c3dd6604de92b81ee7c3b1756f87b1");
	assert_int_equal(tpm_policy_pcr(zero, &v, d), 0);
	assert_hex(d, 32, "8081f3b68c67368b296390b4b1d5451d4d1ecfe3396e0557e0022e81cf7da182");

	/* output-measure.txt: pol of the sections-only value 04f2e7bd... is 869c18d1... */
	unhex32("04f2e7bdad30f73770110af68ab4210e8ec81adb1b41d5b0f535fadd9d8b1641", v.value[11]);
	assert_int_equal(tpm_policy_pcr(zero, &v, d), 0);
	assert_hex(d, 32, "869c18d14e65ff0b158735b0fa6cee9e943a5be46987b67fe74af0497500b21a");

	/* Refused: no PCR, or a PCR beyond 23. */
	v.mask = 0;
	assert_int_equal(tpm_policy_pcr(zero, &v, d), -EINVAL);
	v.mask = UINT32_C(1) << 24;
	assert_int_equal(tpm_policy_pcr(zero, &v, d), -EINVAL);
}

/* output-seal-flow.txt: PolicyAuthorize(name 000bce89...) = 190a9335..., then PolicyPCR(7) = bb407014... */
static void test_policy_authorize_vector(void **state)
{
	uint8_t name[TPM_NAME_SIZE], d[32];
	struct tpm_pcr_values v = { .mask = UINT32_C(1) << 7 };
	(void)state;

	assert_int_equal(
		unhex_exact("000bce89b941cfcfa7d6749e1ea425c3653ab894af26303848916269f4d1fbe73787",
			    name, sizeof(name)),
		0);
	assert_int_equal(tpm_policy_authorize(name, d), 0);
	assert_hex(d, 32, "190a933503a05670a410c089a1302c7009f8e35ecffb796befc8b54f285e0c53");

	pcr_after("secure boot state", v.value[7]);
	assert_int_equal(tpm_policy_pcr(d, &v, d), 0);
	assert_hex(d, 32, "bb407014dfed98dbdab3cb5c4aafcdc2b7176fa442207d6abb422834869cc3ba");
}

/* Two PCRs in one PolicyPCR: one selection bitmap, values hashed in PCR order. */
static void test_policy_pcr_two(void **state)
{
	static const uint8_t zero[32];
	struct tpm_pcr_values v = { .mask = (UINT32_C(1) << 7) | (UINT32_C(1) << 11) };
	uint8_t buf[32 + 4 + 10 + 32], values[64], d[32], expected[32];
	(void)state;

	memset(v.value[7], 0x77, 32);
	memset(v.value[11], 0x11, 32);
	memcpy(values, v.value[7], 32);
	memcpy(values + 32, v.value[11], 32);
	/* H(0 || 0000017f || 00000001 000b 03 800800 || H(pcr7 || pcr11)), by hand */
	memset(buf, 0, 32);
	memcpy(buf + 32, "\x00\x00\x01\x7f", 4);
	memcpy(buf + 36, "\x00\x00\x00\x01\x00\x0b\x03\x80\x08\x00", 10);
	assert_int_equal(sha256_buf(values, sizeof(values), buf + 46), 0);
	assert_int_equal(sha256_buf(buf, sizeof(buf), expected), 0);
	assert_int_equal(tpm_policy_pcr(zero, &v, d), 0);
	assert_memory_equal(d, expected, 32);
}

/* The name LoadExternal gives an RSA key, computed by hand from the TPMT_PUBLIC layout. */
static void test_rsa_key_name(void **state)
{
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL;
	_cleanup_free_ uint8_t *n = NULL;
	uint8_t name[TPM_NAME_SIZE], pub[22 + 256], expected[32], d[32] = {}, pa[32];
	struct tpm_pcr_values none = {};
	size_t n_size;
	(void)state;

	assert_int_equal(rsa_key_generate(2048, &k), 0);
	assert_int_equal(rsa_key_modulus(k, &n, &n_size), 0);
	assert_int_equal(n_size, 256);
	/* type RSA, nameAlg SHA-256, sign|decrypt|userWithAuth, no policy, NULL symmetric and
	 * scheme, 2048 bits, exponent 65537 written out, then the modulus */
	memcpy(pub,
	       "\x00\x01\x00\x0b\x00\x06\x00\x40\x00\x00\x00\x10\x00\x10\x08\x00"
	       "\x00\x01\x00\x01\x01\x00",
	       22);
	memcpy(pub + 22, n, 256);
	assert_int_equal(sha256_buf(pub, sizeof(pub), expected), 0);
	assert_int_equal(tpm_rsa_key_name(k, name), 0);
	assert_int_equal(name[0], 0x00);
	assert_int_equal(name[1], 0x0b);
	assert_memory_equal(name + 2, expected, 32);

	/* tpm_policy_compute: PolicyAuthorize alone when no literal PCRs */
	assert_int_equal(tpm_policy_authorize(name, pa), 0);
	assert_int_equal(tpm_policy_compute(k, &none, NULL, d), 0);
	assert_memory_equal(d, pa, 32);
}

/* notes/tpm-probe/output-seal-flow.txt: systemd 252's SRK template, byte for byte. */
static void test_srk_template(void **state)
{
	_cleanup_free_ uint8_t *t = NULL, *r = NULL;
	size_t n, rn;
	(void)state;

	assert_int_equal(tpm_srk_template(TPM_PRIMARY_ECC, &t, &n), 0);
	assert_hex(t, n, "0023000b00030072000000060080004300100003001000000000");
	/* tpm2_createprimary -G rsa2048:aes128cfb --template-data (tpm2-tools 5.4) */
	assert_int_equal(tpm_srk_template(TPM_PRIMARY_RSA, &r, &rn), 0);
	assert_hex(r, rn, "0001000b00030072000000060080004300100800000000000000");
	assert_int_equal(tpm_srk_template(_TPM_PRIMARY_ALG_INVALID, &t, &n), -EINVAL);
}

static void test_primary_alg(void **state)
{
	(void)state;
	assert_string_equal(tpm_primary_alg_to_string(TPM_PRIMARY_ECC), "ecc");
	assert_string_equal(tpm_primary_alg_to_string(TPM_PRIMARY_RSA), "rsa");
	assert_null(tpm_primary_alg_to_string(_TPM_PRIMARY_ALG_MAX));
	assert_int_equal(tpm_primary_alg_from_string("ecc"), TPM_PRIMARY_ECC);
	assert_int_equal(tpm_primary_alg_from_string("rsa"), TPM_PRIMARY_RSA);
	assert_int_equal(tpm_primary_alg_from_string("ECC"), _TPM_PRIMARY_ALG_INVALID);
	assert_int_equal(tpm_primary_alg_from_string(NULL), _TPM_PRIMARY_ALG_INVALID);
}

/* The response codes of notes/tpm-probe/ and what they mean to a person. */
static void test_rc_mapping(void **state)
{
	(void)state;
	assert_int_equal(tpm_rc_to_errno(0), 0);
	assert_int_equal(tpm_rc_to_refusal(0), TPM_REFUSAL_NONE);

	/* Esys_VerifySignature(0x2DB): not the vendor key */
	assert_int_equal(tpm_rc_to_errno(0x2DB), -EKEYREJECTED);
	assert_int_equal(tpm_rc_to_refusal(0x2DB), TPM_REFUSAL_BAD_SIGNATURE);
	/* Esys_Unseal(0x99D): a policy check failed (PCR 7 changed) */
	assert_int_equal(tpm_rc_to_errno(0x99D), -EPERM);
	assert_int_equal(tpm_rc_to_refusal(0x99D), TPM_REFUSAL_PCR_CHANGED);
	/* Esys_Load(0x1DF): integrity check failed (other SRK, TPM cleared) */
	assert_int_equal(tpm_rc_to_errno(0x1DF), -ESTALE);
	assert_int_equal(tpm_rc_to_refusal(0x1DF), TPM_REFUSAL_WRONG_SRK);
	/* TPM2_RC_LOCKOUT */
	assert_int_equal(tpm_rc_to_errno(0x921), -ENOLCK);
	assert_int_equal(tpm_rc_to_refusal(0x921), TPM_REFUSAL_LOCKOUT);
	/* 0x1C4 (value, parameter 1) is only "not signed" at PolicyAuthorize: generic here */
	assert_int_equal(tpm_rc_to_errno(0x1C4), -EINVAL);
	assert_int_equal(tpm_rc_to_refusal(0x1C4), TPM_REFUSAL_TPM_ERROR);
	/* 0x902/0x903: out of object/session memory (handles left loaded, no resource manager) */
	assert_int_equal(tpm_rc_to_errno(0x902), -ENOSPC);
	assert_int_equal(tpm_rc_to_errno(0x903), -ENOSPC);
	/* TPM2_RC_PCR_CHANGED and TPM2_RC_RETRY: try again */
	assert_int_equal(tpm_rc_to_errno(0x128), -EAGAIN);
	assert_int_equal(tpm_rc_to_errno(0x922), -EAGAIN);
	/* the same codes relayed by a resource manager (layer 12) */
	assert_int_equal(tpm_rc_to_errno(0xC099D), -EPERM);
	/* TCTI I/O error / no connection: no TPM */
	assert_int_equal(tpm_rc_to_errno(0xA000A), -ENODEV);
	assert_int_equal(tpm_rc_to_refusal(0xA000A), TPM_REFUSAL_NO_TPM);
	assert_int_equal(tpm_rc_to_errno(0xA0008), -ENODEV);
	/* ESYS memory, MU bad size */
	assert_int_equal(tpm_rc_to_errno(0x70017), -ENOMEM);
	assert_int_equal(tpm_rc_to_errno(0x90010), -EBADMSG);
	assert_int_equal(tpm_rc_to_refusal(0x70017), TPM_REFUSAL_NONE);

	for (int i = 0; i < _TPM_REFUSAL_MAX; i++)
		assert_non_null(tpm_refusal_to_string((enum tpm_refusal)i));
	assert_null(tpm_refusal_to_string(_TPM_REFUSAL_MAX));
	assert_non_null(strstr(tpm_refusal_to_string(TPM_REFUSAL_PCR_CHANGED), "PCR 7"));
}

static void test_pcr_values_unset(void **state)
{
	struct tpm_pcr_values v = { .mask = (1U << 0) | (1U << 7) | (1U << 11) };
	(void)state;

	memset(v.value[0], 0xff, 32); /* unset */
	/* PCR 7 all zeros: unset */
	memset(v.value[11], 0x11, 32);
	memset(v.value[12], 0x00, 32); /* not in the mask */
	assert_int_equal(tpm_pcr_values_unset(&v), (1U << 0) | (1U << 7));
	v.value[7][31] = 1;
	assert_int_equal(tpm_pcr_values_unset(&v), 1U << 0);
	v.mask = 0;
	assert_int_equal(tpm_pcr_values_unset(&v), 0);
}

/* No TPM at all: a clear -ENODEV, not a crash or a hang. */
static void test_no_tpm(void **state)
{
	struct tpm_context *t = NULL;
	(void)state;

	assert_int_equal(tpm_context_new("device:/nonexistent/tpmrm0", &t), -ENODEV);
	assert_null(t);
	assert_int_equal(tpm_context_new("/nonexistent/tpmrm0", &t), -ENODEV);
	assert_int_equal(tpm_context_new("nosuchdriver:x", &t), -ENODEV);
	assert_null(tpm_context_free(NULL));
	assert_null(tpm_sealed_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_pcr_vector),
		cmocka_unit_test(test_policy_authorize_vector),
		cmocka_unit_test(test_policy_pcr_two),
		cmocka_unit_test(test_rsa_key_name),
		cmocka_unit_test(test_srk_template),
		cmocka_unit_test(test_primary_alg),
		cmocka_unit_test(test_rc_mapping),
		cmocka_unit_test(test_pcr_values_unset),
		cmocka_unit_test(test_no_tpm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
