/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "core/log.h"
#include "core/secret.h"
#include "ext/tpm.h"
#include "ext/tpm-internal.h"

/* Sealed secrets are at most this long (MAX_SYM_DATA of common TPMs). */
#define SEAL_MAX_SIZE 128
/* Unseal is retried this often when the TPM says PCRs changed in the middle. */
#define UNSEAL_TRIES 3

static const char *const primary_alg_names[_TPM_PRIMARY_ALG_MAX] = {
	[TPM_PRIMARY_ECC] = "ecc",
	[TPM_PRIMARY_RSA] = "rsa",
};

const char *tpm_primary_alg_to_string(enum tpm_primary_alg a)
{
	return a >= 0 && a < _TPM_PRIMARY_ALG_MAX ? primary_alg_names[a] : NULL;
}

enum tpm_primary_alg tpm_primary_alg_from_string(const char *s)
{
	for (int i = 0; s && i < _TPM_PRIMARY_ALG_MAX; i++)
		if (streq(s, primary_alg_names[i]))
			return (enum tpm_primary_alg)i;
	return _TPM_PRIMARY_ALG_INVALID;
}

static const char *const refusal_strings[_TPM_REFUSAL_MAX] = {
	[TPM_REFUSAL_NONE] = "no refusal by the TPM",
	[TPM_REFUSAL_NO_TPM] = "no TPM answered",
	[TPM_REFUSAL_NOT_SIGNED] =
		"the measured boot (kernel, initrd, command line: PCR 11) is not "
		"signed by the enrolled PCR key",
	[TPM_REFUSAL_OTHER_KEY] = "the boot image's PCR signature was made with another key than "
				  "the one enrolled",
	[TPM_REFUSAL_BAD_SIGNATURE] = "the PCR signature does not verify with the enrolled PCR key",
	[TPM_REFUSAL_PCR_CHANGED] =
		"PCR 7 (Secure Boot state, keys and certificates) differs from "
		"when the key was sealed, or the token was changed (its PCR key "
		"or its version floor)",
	[TPM_REFUSAL_WRONG_SRK] = "the key was sealed by another TPM, or this TPM has been cleared",
	[TPM_REFUSAL_LOCKOUT] = "the TPM is in dictionary-attack lockout",
	[TPM_REFUSAL_FLOOR_GONE] = "the version floor's NV counter, to which the key was sealed, "
				   "is no longer defined in the TPM (someone with the TPM's owner "
				   "authorization removed it), or holds less than the token's base "
				   "(the token was edited, or the counter is another one)",
	[TPM_REFUSAL_BELOW_FLOOR] =
		"this release is below the version floor kept in the TPM: it is "
		"older than a release this appliance has already run, so the "
		"TPM was not asked for the key",
	[TPM_REFUSAL_TPM_ERROR] = "the TPM reported an error",
};

static const char *const refusal_names[_TPM_REFUSAL_MAX] = {
	[TPM_REFUSAL_NONE] = "none",
	[TPM_REFUSAL_NO_TPM] = "no-tpm",
	[TPM_REFUSAL_NOT_SIGNED] = "not-signed",
	[TPM_REFUSAL_OTHER_KEY] = "other-key",
	[TPM_REFUSAL_BAD_SIGNATURE] = "bad-signature",
	[TPM_REFUSAL_PCR_CHANGED] = "pcr-changed",
	[TPM_REFUSAL_WRONG_SRK] = "wrong-srk",
	[TPM_REFUSAL_LOCKOUT] = "lockout",
	[TPM_REFUSAL_FLOOR_GONE] = "floor-gone",
	[TPM_REFUSAL_BELOW_FLOOR] = "below-floor",
	[TPM_REFUSAL_TPM_ERROR] = "tpm-error",
};

const char *tpm_refusal_to_name(enum tpm_refusal r)
{
	return r >= 0 && r < _TPM_REFUSAL_MAX ? refusal_names[r] : NULL;
}

enum tpm_refusal tpm_refusal_from_name(const char *s)
{
	for (int i = 0; s && i < _TPM_REFUSAL_MAX; i++)
		if (streq(refusal_names[i], s))
			return i;
	return _TPM_REFUSAL_INVALID;
}

const char *tpm_refusal_to_string(enum tpm_refusal r)
{
	return r >= 0 && r < _TPM_REFUSAL_MAX ? refusal_strings[r] : NULL;
}

uint32_t tpm_rc_base(uint32_t rc)
{
	uint32_t v = rc & 0xFFFF;

	if (v & TPM2_RC_FMT1)
		return v & (TPM2_RC_FMT1 | 0x3F);
	return v & 0xFFF;
}

bool tpm_rc_is_tpm(uint32_t rc)
{
	uint32_t layer = rc & TSS2_RC_LAYER_MASK;
	return layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER;
}

int tpm_rc_to_errno(uint32_t rc)
{
	uint32_t layer = rc & TSS2_RC_LAYER_MASK;

	if (rc == TSS2_RC_SUCCESS)
		return 0;
	if (tpm_rc_is_tpm(rc)) {
		switch (tpm_rc_base(rc)) {
		case TPM2_RC_POLICY_FAIL:
		case TPM2_RC_POLICY:
			return -EPERM;
		case TPM2_RC_SIGNATURE:
			return -EKEYREJECTED;
		case TPM2_RC_INTEGRITY:
			return -ESTALE;
		case TPM2_RC_LOCKOUT:
			return -ENOLCK;
		case TPM2_RC_AUTH_FAIL:
		case TPM2_RC_BAD_AUTH:
			return -EACCES;
		case TPM2_RC_RETRY:
		case TPM2_RC_YIELDED:
		case TPM2_RC_TESTING:
		case TPM2_RC_PCR_CHANGED:
		case TPM2_RC_NV_RATE:
		case TPM2_RC_NV_UNAVAILABLE:
			return -EAGAIN;
		case TPM2_RC_OBJECT_MEMORY:
		case TPM2_RC_SESSION_MEMORY:
		case TPM2_RC_MEMORY:
		case TPM2_RC_SESSION_HANDLES:
		case TPM2_RC_OBJECT_HANDLES:
			return -ENOSPC;
		case TPM2_RC_VALUE:
		case TPM2_RC_SIZE:
			return -EINVAL;
		default:
			return -EIO;
		}
	}
	if (layer == TSS2_TCTI_RC_LAYER) {
		switch (rc & 0xFFFF) {
		case TSS2_BASE_RC_IO_ERROR:
		case TSS2_BASE_RC_NO_CONNECTION:
			return -ENODEV;
		case TSS2_BASE_RC_TRY_AGAIN:
			return -EAGAIN;
		case TSS2_BASE_RC_NOT_SUPPORTED:
		case TSS2_BASE_RC_NOT_IMPLEMENTED:
			return -EOPNOTSUPP;
		case TSS2_BASE_RC_MEMORY:
			return -ENOMEM;
		case TSS2_BASE_RC_BAD_VALUE:
			return -EINVAL;
		default:
			return -EIO;
		}
	}
	switch (rc & 0xFFFF) {
	case TSS2_BASE_RC_MEMORY:
		return -ENOMEM;
	case TSS2_BASE_RC_BAD_VALUE:
	case TSS2_BASE_RC_BAD_REFERENCE:
	case TSS2_BASE_RC_BAD_SIZE:
		return layer == TSS2_MU_RC_LAYER ? -EBADMSG : -EINVAL;
	case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
		return -ENOBUFS;
	case TSS2_BASE_RC_MALFORMED_RESPONSE:
		return -EBADMSG;
	case TSS2_BASE_RC_NOT_IMPLEMENTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

enum tpm_refusal tpm_rc_to_refusal(uint32_t rc)
{
	if (rc == TSS2_RC_SUCCESS)
		return TPM_REFUSAL_NONE;
	if (tpm_rc_is_tpm(rc)) {
		switch (tpm_rc_base(rc)) {
		case TPM2_RC_SIGNATURE:
			return TPM_REFUSAL_BAD_SIGNATURE;
		case TPM2_RC_POLICY_FAIL:
			return TPM_REFUSAL_PCR_CHANGED;
		case TPM2_RC_INTEGRITY:
			return TPM_REFUSAL_WRONG_SRK;
		case TPM2_RC_LOCKOUT:
			return TPM_REFUSAL_LOCKOUT;
		default:
			return TPM_REFUSAL_TPM_ERROR;
		}
	}
	if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER &&
	    ((rc & 0xFFFF) == TSS2_BASE_RC_IO_ERROR || (rc & 0xFFFF) == TSS2_BASE_RC_NO_CONNECTION))
		return TPM_REFUSAL_NO_TPM;
	return TPM_REFUSAL_NONE;
}

int tpm_rc_fail(const char *call, TSS2_RC rc)
{
	int r = tpm_rc_to_errno(rc);
	log_debug_errno(r, "tpm: %s failed: 0x%" PRIx32 " (%s)", call, (uint32_t)rc,
			Tss2_RC_Decode(rc));
	return r;
}

/* ---- context ---- */

int tpm_context_new(const char *tcti, struct tpm_context **ret)
{
	_cleanup_free_ char *spec = NULL;
	struct tpm_context *t;
	TSS2_RC rc;

	/* tss2 logs errors on stderr by default; our callers decide what to say. */
	(void)setenv("TSS2_LOG", "all+none", 0);

	if (isempty(tcti))
		tcti = TPM_DEFAULT_TCTI;
	if (tcti[0] == '/') {
		if (asprintf(&spec, "device:%s", tcti) < 0)
			return -ENOMEM;
	} else {
		spec = strdup(tcti);
		if (!spec)
			return -ENOMEM;
	}

	t = new0(struct tpm_context, 1);
	if (!t)
		return -ENOMEM;
	rc = Tss2_TctiLdr_Initialize(spec, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		int r = tpm_rc_fail("Tss2_TctiLdr_Initialize", rc);
		free(t);
		/* Whatever the TCTI says (I/O error, missing driver), no TPM is reachable there. */
		return r == -ENOMEM ? r : -ENODEV;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		int r = tpm_rc_fail("Esys_Initialize", rc);
		tpm_context_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct tpm_context *tpm_context_free(struct tpm_context *t)
{
	if (!t)
		return NULL;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
	return NULL;
}

/* A transient object or session, flushed when it goes out of scope. */
struct tr {
	ESYS_CONTEXT *esys;
	ESYS_TR handle;
};
#define TR_INIT(t)                                        \
	{                                                 \
		.esys = (t)->esys, .handle = ESYS_TR_NONE \
	}

static void tr_flush(struct tr *h)
{
	TSS2_RC rc;

	if (h->handle == ESYS_TR_NONE)
		return;
	rc = Esys_FlushContext(h->esys, h->handle);
	if (rc != TSS2_RC_SUCCESS)
		(void)tpm_rc_fail("Esys_FlushContext", rc);
	h->handle = ESYS_TR_NONE;
}
#define _cleanup_tr_ _cleanup_(tr_flush)

static void esys_freep(void *p)
{
	Esys_Free(*(void **)p);
}
#define _cleanup_esys_ _cleanup_(esys_freep)

/* ---- PCRs ---- */

static void pcr_selection(uint32_t mask, TPML_PCR_SELECTION *ret)
{
	*ret = (TPML_PCR_SELECTION){
		.count = 1,
		.pcrSelections[0] = { .hash = TPM2_ALG_SHA256, .sizeofSelect = 3 },
	};
	for (unsigned i = 0; i < TPM_PCR_MAX; i++)
		if (mask & (UINT32_C(1) << i))
			ret->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1U << (i % 8));
}

static uint32_t pcr_selection_mask(const TPML_PCR_SELECTION *s)
{
	uint32_t mask = 0;

	for (uint32_t i = 0; i < s->count; i++) {
		if (s->pcrSelections[i].hash != TPM2_ALG_SHA256)
			continue;
		for (unsigned j = 0; j < TPM_PCR_MAX && j / 8 < s->pcrSelections[i].sizeofSelect;
		     j++)
			if (s->pcrSelections[i].pcrSelect[j / 8] & (1U << (j % 8)))
				mask |= UINT32_C(1) << j;
	}
	return mask;
}

int tpm_pcr_read(struct tpm_context *t, uint32_t mask, struct tpm_pcr_values *ret)
{
	struct tpm_pcr_values v = { .mask = mask };
	uint32_t left = mask;

	if (mask & ~TPM_PCR_MASK_ALL)
		return -EINVAL;
	while (left != 0) {
		_cleanup_esys_ TPML_PCR_SELECTION *out_sel = NULL;
		_cleanup_esys_ TPML_DIGEST *values = NULL;
		TPML_PCR_SELECTION sel;
		uint32_t got, k = 0;
		TSS2_RC rc;

		pcr_selection(left, &sel);
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL,
				   &out_sel, &values);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_rc_fail("Esys_PCR_Read", rc);
		got = pcr_selection_mask(out_sel) & left;
		if (got == 0) {
			log_debug(
				"tpm: the TPM returned no SHA-256 PCR values (bank not allocated?)");
			return -EOPNOTSUPP;
		}
		for (unsigned i = 0; i < TPM_PCR_MAX; i++) {
			if (!(got & (UINT32_C(1) << i)))
				continue;
			if (k >= values->count || values->digests[k].size != TPM_DIGEST_SIZE)
				return -EBADMSG;
			memcpy(v.value[i], values->digests[k].buffer, TPM_DIGEST_SIZE);
			k++;
		}
		left &= ~got;
	}
	*ret = v;
	return 0;
}

uint32_t tpm_pcr_values_unset(const struct tpm_pcr_values *v)
{
	static const uint8_t zeros[TPM_DIGEST_SIZE];
	uint8_t ones[TPM_DIGEST_SIZE];
	uint32_t unset = 0;

	memset(ones, 0xff, sizeof(ones));
	for (unsigned i = 0; i < TPM_PCR_MAX; i++)
		if ((v->mask & (UINT32_C(1) << i)) &&
		    (memcmp(v->value[i], zeros, TPM_DIGEST_SIZE) == 0 ||
		     memcmp(v->value[i], ones, TPM_DIGEST_SIZE) == 0))
			unset |= UINT32_C(1) << i;
	return unset;
}

int tpm_da_reset(struct tpm_context *t)
{
	TSS2_RC rc = Esys_DictionaryAttackLockReset(t->esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD,
						    ESYS_TR_NONE, ESYS_TR_NONE);

	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail("Esys_DictionaryAttackLockReset", rc);
}

int tpm_pcr_extend(struct tpm_context *t, unsigned pcr, const uint8_t digest[TPM_DIGEST_SIZE])
{
	TPML_DIGEST_VALUES d = {
		.count = 1,
		.digests[0] = { .hashAlg = TPM2_ALG_SHA256 },
	};
	TSS2_RC rc;

	if (pcr >= TPM_PCR_MAX)
		return -EINVAL;
	memcpy(d.digests[0].digest.sha256, digest, TPM_DIGEST_SIZE);
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &d);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_PCR_Extend", rc);
	return 0;
}

/* ---- software policy digests ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int tpm_policy_pcr(const uint8_t old[TPM_DIGEST_SIZE], const struct tpm_pcr_values *v,
		   uint8_t ret[TPM_DIGEST_SIZE])
{
	struct sha256_ctx c;
	uint8_t pcr_digest[TPM_DIGEST_SIZE], cc[4], sel_buf[sizeof(TPML_PCR_SELECTION)];
	TPML_PCR_SELECTION sel;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (v->mask == 0 || (v->mask & ~TPM_PCR_MASK_ALL))
		return -EINVAL;

	/* H(values of the selected PCRs, in PCR order) */
	r = sha256_init(&c);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < TPM_PCR_MAX; i++)
		if (v->mask & (UINT32_C(1) << i))
			sha256_update(&c, v->value[i], TPM_DIGEST_SIZE);
	r = sha256_final(&c, pcr_digest);
	if (r < 0)
		return r;

	pcr_selection(v->mask, &sel);
	rc = Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, sel_buf, sizeof(sel_buf), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Tss2_MU_TPML_PCR_SELECTION_Marshal", rc);
	put_be32(cc, TPM2_CC_PolicyPCR);

	r = sha256_init(&c);
	if (r < 0)
		return r;
	sha256_update(&c, old, TPM_DIGEST_SIZE);
	sha256_update(&c, cc, sizeof(cc));
	sha256_update(&c, sel_buf, off);
	sha256_update(&c, pcr_digest, sizeof(pcr_digest));
	return sha256_final(&c, ret);
}

/* The TPM2B_PUBLIC of an RSA public key as systemd hands it to LoadExternal. */
static int rsa_public(const struct rsa_key *k, TPM2B_PUBLIC *ret)
{
	_cleanup_free_ uint8_t *n = NULL;
	size_t n_size;
	uint32_t e;
	int r;

	r = rsa_key_modulus(k, &n, &n_size);
	if (r < 0)
		return r;
	if (n_size > TPM2_MAX_RSA_KEY_BYTES)
		return -EOPNOTSUPP;
	r = rsa_key_exponent(k, &e);
	if (r < 0)
		return r;
	*ret = (TPM2B_PUBLIC){
		.publicArea = {
			.type = TPM2_ALG_RSA,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT |
					    TPMA_OBJECT_USERWITHAUTH,
			.parameters.rsaDetail = {
				.symmetric.algorithm = TPM2_ALG_NULL,
				.scheme.scheme = TPM2_ALG_NULL,
				.keyBits = (TPMI_RSA_KEY_BITS)rsa_key_bits(k),
				.exponent = e,
			},
			.unique.rsa.size = (UINT16)n_size,
		},
	};
	memcpy(ret->publicArea.unique.rsa.buffer, n, n_size);
	return 0;
}

static int public_name(const TPMT_PUBLIC *p, uint8_t ret[TPM_NAME_SIZE])
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	TSS2_RC rc;

	rc = Tss2_MU_TPMT_PUBLIC_Marshal(p, buf, sizeof(buf), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Tss2_MU_TPMT_PUBLIC_Marshal", rc);
	ret[0] = (uint8_t)(TPM2_ALG_SHA256 >> 8);
	ret[1] = (uint8_t)TPM2_ALG_SHA256;
	return sha256_buf(buf, off, ret + 2);
}

int tpm_rsa_key_name(const struct rsa_key *k, uint8_t ret[TPM_NAME_SIZE])
{
	TPM2B_PUBLIC pub;
	int r = rsa_public(k, &pub);

	if (r < 0)
		return r;
	return public_name(&pub.publicArea, ret);
}

int tpm_policy_authorize(const uint8_t name[TPM_NAME_SIZE], uint8_t ret[TPM_DIGEST_SIZE])
{
	static const uint8_t zero[TPM_DIGEST_SIZE];
	struct sha256_ctx c;
	uint8_t d[TPM_DIGEST_SIZE], cc[4];
	int r;

	put_be32(cc, TPM2_CC_PolicyAuthorize);
	r = sha256_init(&c);
	if (r < 0)
		return r;
	sha256_update(&c, zero, sizeof(zero));
	sha256_update(&c, cc, sizeof(cc));
	sha256_update(&c, name, TPM_NAME_SIZE);
	r = sha256_final(&c, d);
	if (r < 0)
		return r;
	/* then H(digest || policyRef), with an empty policyRef */
	return sha256_buf(d, sizeof(d), ret);
}

int tpm_policy_nv(const uint8_t old[TPM_DIGEST_SIZE], const struct tpm_floor_bind *f,
		  uint8_t ret[TPM_DIGEST_SIZE])
{
	struct sha256_ctx c;
	uint8_t args[12], args_digest[TPM_DIGEST_SIZE], cc[4];
	int r;

	/* operandB (the base, 8 bytes big-endian as the counter is), offset 0, operation */
	put_be32(args, (uint32_t)(f->base >> 32));
	put_be32(args + 4, (uint32_t)f->base);
	args[8] = args[9] = 0;
	args[10] = (uint8_t)(TPM2_EO_UNSIGNED_GE >> 8);
	args[11] = (uint8_t)TPM2_EO_UNSIGNED_GE;
	r = sha256_buf(args, sizeof(args), args_digest);
	if (r < 0)
		return r;
	put_be32(cc, TPM2_CC_PolicyNV);
	r = sha256_init(&c);
	if (r < 0)
		return r;
	sha256_update(&c, old, TPM_DIGEST_SIZE);
	sha256_update(&c, cc, sizeof(cc));
	sha256_update(&c, args_digest, sizeof(args_digest));
	sha256_update(&c, f->name, TPM_NAME_SIZE);
	return sha256_final(&c, ret);
}

int tpm_policy_compute(const struct rsa_key *pubkey, const struct tpm_pcr_values *hash_pcrs,
		       const struct tpm_floor_bind *floor, uint8_t ret[TPM_DIGEST_SIZE])
{
	uint8_t d[TPM_DIGEST_SIZE] = {};
	int r;

	if (pubkey) {
		uint8_t name[TPM_NAME_SIZE];
		r = tpm_rsa_key_name(pubkey, name);
		if (r < 0)
			return r;
		r = tpm_policy_authorize(name, d);
		if (r < 0)
			return r;
	}
	if (hash_pcrs && hash_pcrs->mask != 0) {
		r = tpm_policy_pcr(d, hash_pcrs, d);
		if (r < 0)
			return r;
	}
	if (floor) {
		r = tpm_policy_nv(d, floor, d);
		if (r < 0)
			return r;
	}
	memcpy(ret, d, TPM_DIGEST_SIZE);
	return 0;
}

/* ---- TPM-side building blocks ---- */

static void srk_template_public(enum tpm_primary_alg alg, TPM2B_PUBLIC *ret)
{
	static const TPMT_SYM_DEF_OBJECT aes128cfb = {
		.algorithm = TPM2_ALG_AES,
		.keyBits.aes = 128,
		.mode.aes = TPM2_ALG_CFB,
	};
	/* systemd 252's tpm2_make_primary(): no noDA (0x00030072). */
	*ret = (TPM2B_PUBLIC){
		.publicArea = {
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					    TPMA_OBJECT_SENSITIVEDATAORIGIN |
					    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
					    TPMA_OBJECT_DECRYPT,
		},
	};
	if (alg == TPM_PRIMARY_RSA) {
		ret->publicArea.type = TPM2_ALG_RSA;
		ret->publicArea.parameters.rsaDetail = (TPMS_RSA_PARMS){
			.symmetric = aes128cfb,
			.scheme.scheme = TPM2_ALG_NULL,
			.keyBits = 2048,
		};
	} else {
		ret->publicArea.type = TPM2_ALG_ECC;
		ret->publicArea.parameters.eccDetail = (TPMS_ECC_PARMS){
			.symmetric = aes128cfb,
			.scheme.scheme = TPM2_ALG_NULL,
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		};
	}
}

int tpm_srk_template(enum tpm_primary_alg alg, uint8_t **ret, size_t *ret_size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	TPM2B_PUBLIC pub;
	size_t off = 0;
	TSS2_RC rc;

	if (alg < 0 || alg >= _TPM_PRIMARY_ALG_MAX)
		return -EINVAL;
	srk_template_public(alg, &pub);
	buf = malloc(sizeof(TPMT_PUBLIC));
	if (!buf)
		return -ENOMEM;
	rc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub.publicArea, buf, sizeof(TPMT_PUBLIC), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Tss2_MU_TPMT_PUBLIC_Marshal", rc);
	*ret = TAKE_PTR(buf);
	*ret_size = off;
	return 0;
}

static int create_srk(struct tpm_context *t, enum tpm_primary_alg alg, struct tr *ret,
		      enum tpm_refusal *refusal)
{
	TPM2B_SENSITIVE_CREATE sensitive = {};
	TPM2B_DATA outside = {};
	TPML_PCR_SELECTION creation_pcrs = {};
	TPM2B_PUBLIC tmpl;
	TSS2_RC rc;

	if (alg < 0 || alg >= _TPM_PRIMARY_ALG_MAX)
		return -EINVAL;
	srk_template_public(alg, &tmpl);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcrs,
				&ret->handle, NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		*refusal = tpm_rc_to_refusal(rc);
		return tpm_rc_fail("Esys_CreatePrimary", rc);
	}
	return 0;
}

/* A session salted by the SRK, so that parameters it encrypts cross the bus encrypted. */
static int start_session(struct tpm_context *t, ESYS_TR salt_key, TPM2_SE type,
			 TPMA_SESSION attributes, struct tr *ret)
{
	static const TPMT_SYM_DEF aes128cfb = {
		.algorithm = TPM2_ALG_AES,
		.keyBits.aes = 128,
		.mode.aes = TPM2_ALG_CFB,
	};
	static const TPMT_SYM_DEF none = { .algorithm = TPM2_ALG_NULL };
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, type,
				   type == TPM2_SE_TRIAL ? &none : &aes128cfb, TPM2_ALG_SHA256,
				   &ret->handle);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_StartAuthSession", rc);
	rc = Esys_TRSess_SetAttributes(t->esys, ret->handle,
				       attributes | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_TRSess_SetAttributes", rc);
	return 0;
}

static int load_external(struct tpm_context *t, const struct rsa_key *k, struct tr *ret,
			 uint8_t ret_name[TPM_NAME_SIZE])
{
	_cleanup_esys_ TPM2B_NAME *name = NULL;
	uint8_t sw_name[TPM_NAME_SIZE];
	TPM2B_PUBLIC pub;
	TSS2_RC rc;
	int r;

	r = rsa_public(k, &pub);
	if (r < 0)
		return r;
	r = public_name(&pub.publicArea, sw_name);
	if (r < 0)
		return r;
	rc = Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &pub,
			       ESYS_TR_RH_OWNER, &ret->handle);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_LoadExternal", rc);
	rc = Esys_TR_GetName(t->esys, ret->handle, &name);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_TR_GetName", rc);
	/* The policy is computed in software elsewhere: the TPM must agree on the name. */
	if (name->size != TPM_NAME_SIZE || memcmp(name->name, sw_name, TPM_NAME_SIZE) != 0)
		return log_debug_errno(EPROTO,
				       "tpm: the TPM's name of the PCR key differs from ours");
	memcpy(ret_name, sw_name, TPM_NAME_SIZE);
	return 0;
}

static int policy_pcr(struct tpm_context *t, ESYS_TR session, uint32_t mask)
{
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = {};
	TSS2_RC rc;

	pcr_selection(mask, &sel);
	/* An empty pcrDigest: the TPM uses the current values. */
	rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty,
			    &sel);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_PolicyPCR", rc);
	return 0;
}

static int policy_get_digest(struct tpm_context *t, ESYS_TR session, uint8_t ret[TPM_DIGEST_SIZE])
{
	_cleanup_esys_ TPM2B_DIGEST *d = NULL;
	TSS2_RC rc;

	rc = Esys_PolicyGetDigest(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_PolicyGetDigest", rc);
	if (d->size != TPM_DIGEST_SIZE)
		return -EBADMSG;
	memcpy(ret, d->buffer, TPM_DIGEST_SIZE);
	return 0;
}

int tpm_policy_trial(struct tpm_context *t, const struct rsa_key *pubkey, uint32_t pubkey_pcr_mask,
		     uint32_t hash_pcr_mask, const struct tpm_floor_bind *floor,
		     uint8_t ret[TPM_DIGEST_SIZE])
{
	_cleanup_tr_ struct tr session = TR_INIT(t), key = TR_INIT(t);
	uint8_t d[TPM_DIGEST_SIZE];
	int r;

	if ((pubkey_pcr_mask | hash_pcr_mask) & ~TPM_PCR_MASK_ALL)
		return -EINVAL;
	r = start_session(t, ESYS_TR_NONE, TPM2_SE_TRIAL, 0, &session);
	if (r < 0)
		return r;
	if (pubkey) {
		TPMT_TK_VERIFIED null_ticket = {
			.tag = TPM2_ST_VERIFIED,
			.hierarchy = TPM2_RH_OWNER,
		};
		TPM2B_DIGEST approved = { .size = TPM_DIGEST_SIZE };
		TPM2B_NONCE ref = {};
		TPM2B_NAME name = { .size = TPM_NAME_SIZE };
		TSS2_RC rc;

		r = load_external(t, pubkey, &key, name.name);
		if (r < 0)
			return r;
		if (pubkey_pcr_mask != 0) {
			r = policy_pcr(t, session.handle, pubkey_pcr_mask);
			if (r < 0)
				return r;
		}
		r = policy_get_digest(t, session.handle, approved.buffer);
		if (r < 0)
			return r;
		rc = Esys_PolicyAuthorize(t->esys, session.handle, ESYS_TR_NONE, ESYS_TR_NONE,
					  ESYS_TR_NONE, &approved, &ref, &name, &null_ticket);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_rc_fail("Esys_PolicyAuthorize (trial)", rc);
	}
	if (hash_pcr_mask != 0) {
		r = policy_pcr(t, session.handle, hash_pcr_mask);
		if (r < 0)
			return r;
	}
	if (floor) {
		r = tpm_policy_nv_session(t, session.handle, floor->index, floor->base);
		if (r < 0)
			return r;
	}
	r = policy_get_digest(t, session.handle, d);
	if (r < 0)
		return r;
	memcpy(ret, d, TPM_DIGEST_SIZE);
	return 0;
}

/* ---- seal ---- */

struct tpm_sealed *tpm_sealed_free(struct tpm_sealed *s)
{
	if (!s)
		return NULL;
	free(s->blob);
	free(s);
	return NULL;
}

static int marshal_blob(const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub, uint8_t **ret,
			size_t *ret_size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t max = sizeof(*priv) + sizeof(*pub), off = 0;
	TSS2_RC rc;

	buf = malloc(max);
	if (!buf)
		return -ENOMEM;
	rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, max, &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Tss2_MU_TPM2B_PRIVATE_Marshal", rc);
	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, max, &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Tss2_MU_TPM2B_PUBLIC_Marshal", rc);
	*ret = TAKE_PTR(buf);
	*ret_size = off;
	return 0;
}

int tpm_seal(struct tpm_context *t, const struct tpm_seal_params *p, const void *secret,
	     size_t secret_size, struct tpm_sealed **ret)
{
	_cleanup_tr_ struct tr srk = TR_INIT(t), hmac = TR_INIT(t);
	_cleanup_(tpm_sealed_freep) struct tpm_sealed *s = NULL;
	_cleanup_esys_ TPM2B_PRIVATE *priv = NULL;
	_cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
	enum tpm_refusal refusal = TPM_REFUSAL_NONE;
	uint8_t trial[TPM_DIGEST_SIZE];
	struct tpm_floor_bind floor;
	TPM2B_SENSITIVE_CREATE sensitive = {};
	TPM2B_DATA outside = {};
	TPML_PCR_SELECTION creation_pcrs = {};
	TPM2B_PUBLIC tmpl;
	TSS2_RC rc;
	int r;

	if (secret_size == 0 || secret_size > SEAL_MAX_SIZE)
		return -EINVAL;
	if (((p->hash_pcr_mask | p->pubkey_pcr_mask) & ~TPM_PCR_MASK_ALL) ||
	    (!p->pubkey && p->pubkey_pcr_mask != 0) || (!p->pubkey && p->hash_pcr_mask == 0))
		return -EINVAL;

	s = new0(struct tpm_sealed, 1);
	if (!s)
		return -ENOMEM;

	r = create_srk(t, p->primary_alg, &srk, &refusal);
	if (r < 0)
		return r;
	r = start_session(t, srk.handle, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT,
			  &hmac);
	if (r < 0)
		return r;

	/* The policy, in software from the current PCR values, and as the TPM sees it. */
	if (p->hash_pcr_mask != 0) {
		r = tpm_pcr_read(t, p->hash_pcr_mask, &s->hash_pcrs);
		if (r < 0)
			return r;
	}
	if (p->floor) {
		floor = *p->floor;
		r = tpm_nv_name(t, floor.index, floor.name);
		if (r < 0)
			return r;
	}
	r = tpm_policy_compute(p->pubkey, &s->hash_pcrs, p->floor ? &floor : NULL, s->policy_hash);
	if (r < 0)
		return r;
	r = tpm_policy_trial(t, p->pubkey, p->pubkey_pcr_mask, p->hash_pcr_mask, p->floor, trial);
	if (r < 0)
		return r;
	if (memcmp(trial, s->policy_hash, TPM_DIGEST_SIZE) != 0)
		return log_debug_errno(EPROTO, "tpm: the policy computed in software differs from "
					       "the TPM's trial session (did a PCR change?)");

	/* The sealed object as systemd makes it: KEYEDHASH, policy only (no userWithAuth). */
	tmpl = (TPM2B_PUBLIC){
		.publicArea = {
			.type = TPM2_ALG_KEYEDHASH,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT,
			.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
			.authPolicy.size = TPM_DIGEST_SIZE,
		},
	};
	memcpy(tmpl.publicArea.authPolicy.buffer, s->policy_hash, TPM_DIGEST_SIZE);
	sensitive.sensitive.data.size = (UINT16)secret_size;
	memcpy(sensitive.sensitive.data.buffer, secret, secret_size);

	rc = Esys_Create(t->esys, srk.handle, hmac.handle, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
			 &tmpl, &outside, &creation_pcrs, &priv, &pub, NULL, NULL, NULL);
	explicit_bzero(&sensitive, sizeof(sensitive));
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_Create", rc);

	r = marshal_blob(priv, pub, &s->blob, &s->blob_size);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- unseal ---- */

static const struct tpm_policy_signature *find_signature(const struct tpm_unseal_params *p,
							 const uint8_t policy[TPM_DIGEST_SIZE])
{
	for (size_t i = 0; i < p->n_signatures; i++)
		if (p->signatures[i].pcr_mask == p->pubkey_pcr_mask &&
		    memcmp(p->signatures[i].policy, policy, TPM_DIGEST_SIZE) == 0)
			return &p->signatures[i];
	return NULL;
}

static int refuse(enum tpm_refusal *refusal, enum tpm_refusal why, int r)
{
	*refusal = why;
	return r;
}

static int unseal_once(struct tpm_context *t, const struct tpm_unseal_params *p,
		       const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub, uint8_t **ret_secret,
		       size_t *ret_size, enum tpm_refusal *refusal)
{
	_cleanup_tr_ struct tr srk = TR_INIT(t), hmac = TR_INIT(t), object = TR_INIT(t),
			       key = TR_INIT(t), policy = TR_INIT(t);
	_cleanup_esys_ TPM2B_SENSITIVE_DATA *out = NULL;
	uint8_t digest[TPM_DIGEST_SIZE];
	uint8_t *secret;
	TSS2_RC rc;
	int r;

	r = create_srk(t, p->primary_alg, &srk, refusal);
	if (r < 0)
		return r;
	r = start_session(t, srk.handle, TPM2_SE_HMAC, TPMA_SESSION_ENCRYPT, &hmac);
	if (r < 0)
		return r;
	r = start_session(t, srk.handle, TPM2_SE_POLICY, 0, &policy);
	if (r < 0)
		return r;
	rc = Esys_Load(t->esys, srk.handle, hmac.handle, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub,
		       &object.handle);
	if (rc != TSS2_RC_SUCCESS)
		return refuse(refusal, tpm_rc_to_refusal(rc), tpm_rc_fail("Esys_Load", rc));
	/* Done with the SRK: TPMs have few object slots (the reference implementation 3). */
	tr_flush(&srk);

	if (p->pubkey) {
		const struct tpm_policy_signature *sig;
		_cleanup_esys_ TPMT_TK_VERIFIED *ticket = NULL;
		TPM2B_DIGEST approved = { .size = TPM_DIGEST_SIZE };
		TPM2B_DIGEST hash = { .size = TPM_DIGEST_SIZE };
		TPM2B_NAME name = { .size = TPM_NAME_SIZE };
		TPM2B_NONCE ref = {};
		TPMT_SIGNATURE signature = {
			.sigAlg = TPM2_ALG_RSASSA,
			.signature.rsassa.hash = TPM2_ALG_SHA256,
		};

		r = load_external(t, p->pubkey, &key, name.name);
		if (r < 0)
			return r;
		if (p->pubkey_pcr_mask != 0) {
			r = policy_pcr(t, policy.handle, p->pubkey_pcr_mask);
			if (r < 0)
				return r;
		}
		r = policy_get_digest(t, policy.handle, approved.buffer);
		if (r < 0)
			return r;
		sig = find_signature(p, approved.buffer);
		if (!sig) {
			log_debug("tpm: none of %zu signature(s) is for the current PCR policy",
				  p->n_signatures);
			return refuse(refusal, TPM_REFUSAL_NOT_SIGNED, -ENOKEY);
		}
		if (sig->sig_size > sizeof(signature.signature.rsassa.sig.buffer))
			return refuse(refusal, TPM_REFUSAL_BAD_SIGNATURE, -EKEYREJECTED);
		signature.signature.rsassa.sig.size = (UINT16)sig->sig_size;
		memcpy(signature.signature.rsassa.sig.buffer, sig->sig, sig->sig_size);
		/* The TPM checks the signature over H(approved policy || empty policyRef). */
		r = sha256_buf(approved.buffer, TPM_DIGEST_SIZE, hash.buffer);
		if (r < 0)
			return r;
		rc = Esys_VerifySignature(t->esys, key.handle, ESYS_TR_NONE, ESYS_TR_NONE,
					  ESYS_TR_NONE, &hash, &signature, &ticket);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_rc_fail("Esys_VerifySignature", rc);
			if (tpm_rc_is_tpm(rc) && tpm_rc_base(rc) == TPM2_RC_SIGNATURE)
				return refuse(refusal, TPM_REFUSAL_BAD_SIGNATURE, -EKEYREJECTED);
			return refuse(refusal, tpm_rc_to_refusal(rc), r);
		}
		rc = Esys_PolicyAuthorize(t->esys, policy.handle, ESYS_TR_NONE, ESYS_TR_NONE,
					  ESYS_TR_NONE, &approved, &ref, &name, ticket);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_rc_fail("Esys_PolicyAuthorize", rc);
			/* 0x1C4: the session's digest is not the approved one. */
			if (tpm_rc_is_tpm(rc) && tpm_rc_base(rc) == TPM2_RC_VALUE)
				return refuse(refusal, TPM_REFUSAL_NOT_SIGNED, -ENOKEY);
			return refuse(refusal, tpm_rc_to_refusal(rc), r);
		}
	}
	if (p->hash_pcr_mask != 0) {
		r = policy_pcr(t, policy.handle, p->hash_pcr_mask);
		if (r < 0)
			return r;
	}
	if (p->floor) {
		r = tpm_policy_nv_session(t, policy.handle, p->floor->index, p->floor->base);
		/* Not defined, or a counter below the base: not the counter sealed to. */
		if (r == -ENOENT || r == -EMEDIUMTYPE || r == -EPERM)
			return refuse(refusal, TPM_REFUSAL_FLOOR_GONE, -EPERM);
		if (r < 0)
			return r;
	}

	/* Say why before the TPM says only "policy check failed". */
	r = policy_get_digest(t, policy.handle, digest);
	if (r < 0)
		return r;
	if (memcmp(digest, pub->publicArea.authPolicy.buffer, TPM_DIGEST_SIZE) != 0) {
		log_debug("tpm: the session's policy does not match the sealed object's");
		return refuse(refusal, TPM_REFUSAL_PCR_CHANGED, -EPERM);
	}

	rc = Esys_Unseal(t->esys, object.handle, policy.handle, hmac.handle, ESYS_TR_NONE, &out);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail("Esys_Unseal", rc);
		if (tpm_rc_is_tpm(rc) && tpm_rc_base(rc) == TPM2_RC_POLICY_FAIL)
			return refuse(refusal, TPM_REFUSAL_PCR_CHANGED, -EPERM);
		return refuse(refusal, tpm_rc_to_refusal(rc), r);
	}

	secret = secret_alloc(out->size);
	if (!secret) {
		explicit_bzero(out->buffer, out->size);
		return -ENOMEM;
	}
	memcpy(secret, out->buffer, out->size);
	*ret_size = out->size;
	explicit_bzero(out->buffer, out->size);
	*ret_secret = secret;
	return 0;
}

int tpm_unseal(struct tpm_context *t, const struct tpm_unseal_params *p, uint8_t **ret_secret,
	       size_t *ret_secret_size, enum tpm_refusal *ret_refusal)
{
	enum tpm_refusal refusal = TPM_REFUSAL_NONE;
	TPM2B_PRIVATE priv = {};
	TPM2B_PUBLIC pub = {};
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (!p->blob || ((p->hash_pcr_mask | p->pubkey_pcr_mask) & ~TPM_PCR_MASK_ALL))
		return -EINVAL;

	rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(p->blob, p->blob_size, &off, &priv);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(p->blob, p->blob_size, &off, &pub);
	if (rc != TSS2_RC_SUCCESS || off != p->blob_size) {
		log_debug("tpm: the sealed blob is not a TPM2B_PRIVATE followed by a TPM2B_PUBLIC");
		return -EBADMSG;
	}
	if (pub.publicArea.type != TPM2_ALG_KEYEDHASH ||
	    pub.publicArea.authPolicy.size != TPM_DIGEST_SIZE) {
		log_debug("tpm: the sealed blob is not a sealed object with a SHA-256 policy");
		return -EBADMSG;
	}
	if (p->policy_hash &&
	    (p->policy_hash_size != TPM_DIGEST_SIZE ||
	     memcmp(p->policy_hash, pub.publicArea.authPolicy.buffer, TPM_DIGEST_SIZE) != 0)) {
		log_debug("tpm: the policy hash given differs from the sealed object's policy");
		return -EBADMSG;
	}

	for (unsigned i = 0;; i++) {
		refusal = TPM_REFUSAL_NONE;
		r = unseal_once(t, p, &priv, &pub, ret_secret, ret_secret_size, &refusal);
		if (r != -EAGAIN || i + 1 >= UNSEAL_TRIES)
			break;
		log_debug("tpm: the TPM asked for a retry, trying again");
	}
	explicit_bzero(&priv, sizeof(priv));
	if (r < 0 && ret_refusal)
		*ret_refusal = refusal == TPM_REFUSAL_NONE && r == -ENODEV ? TPM_REFUSAL_NO_TPM :
									     refusal;
	return r;
}
