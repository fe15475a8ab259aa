/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "core/error.h"
#include "core/hex.h"
#include "ext/json.h"
#include "pcr.h"

/* A .pcrsig larger than this is not one (a UKI carries one entry per phase). */
#define PCRSIG_MAX_ENTRIES 1024

static const char *const section_names[_PCR_UKI_SECTION_MAX] = {
	[PCR_UKI_LINUX] = ".linux",	[PCR_UKI_OSREL] = ".osrel",
	[PCR_UKI_CMDLINE] = ".cmdline", [PCR_UKI_INITRD] = ".initrd",
	[PCR_UKI_SPLASH] = ".splash",	[PCR_UKI_DTB] = ".dtb",
	[PCR_UKI_PCRPKEY] = ".pcrpkey",
};

const char *pcr_uki_section_to_string(enum pcr_uki_section s)
{
	return s >= 0 && s < _PCR_UKI_SECTION_MAX ? section_names[s] : NULL;
}

enum pcr_uki_section pcr_uki_section_from_string(const char *s)
{
	for (int i = 0; s && i < _PCR_UKI_SECTION_MAX; i++)
		if (streq(s, section_names[i]))
			return (enum pcr_uki_section)i;
	return _PCR_UKI_SECTION_INVALID;
}

int pcr_uki_add_data(struct pcr_uki *u, enum pcr_uki_section s, const void *data, size_t size)
{
	int r;

	if (s < 0 || s >= _PCR_UKI_SECTION_MAX)
		return -EINVAL;
	r = sha256_buf(data, size, u->digest[s]);
	if (r < 0)
		return r;
	u->present[s] = true;
	return 0;
}

int pcr_uki_add_file(struct pcr_uki *u, enum pcr_uki_section s, const char *path)
{
	int r;

	if (s < 0 || s >= _PCR_UKI_SECTION_MAX)
		return -EINVAL;
	r = sha256_file(path, u->digest[s], NULL);
	if (r < 0)
		return r;
	u->present[s] = true;
	return 0;
}

/* pcr = H(pcr || digest) */
static int extend(uint8_t pcr[SHA256_DIGEST_SIZE], const uint8_t digest[SHA256_DIGEST_SIZE])
{
	uint8_t buf[2 * SHA256_DIGEST_SIZE];

	memcpy(buf, pcr, SHA256_DIGEST_SIZE);
	memcpy(buf + SHA256_DIGEST_SIZE, digest, SHA256_DIGEST_SIZE);
	return sha256_buf(buf, sizeof(buf), pcr);
}

static int extend_data(uint8_t pcr[SHA256_DIGEST_SIZE], const void *data, size_t size)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	int r = sha256_buf(data, size, d);

	if (r < 0)
		return r;
	return extend(pcr, d);
}

int pcr_uki_predict(const struct pcr_uki *u, const char *phase, uint8_t ret[SHA256_DIGEST_SIZE])
{
	uint8_t pcr[SHA256_DIGEST_SIZE] = {};
	int r;

	for (int s = 0; s < _PCR_UKI_SECTION_MAX; s++) {
		if (!u->present[s])
			continue;
		/* the name with its NUL, then the contents */
		r = extend_data(pcr, section_names[s], strlen(section_names[s]) + 1);
		if (r < 0)
			return r;
		r = extend(pcr, u->digest[s]);
		if (r < 0)
			return r;
	}
	if (!isempty(phase)) {
		const char *p = phase;
		for (;;) {
			size_t l = strcspn(p, ":");
			if (l == 0)
				return -EINVAL;
			r = extend_data(pcr, p, l);
			if (r < 0)
				return r;
			if (p[l] == '\0')
				break;
			p += l + 1;
		}
	}
	memcpy(ret, pcr, SHA256_DIGEST_SIZE);
	return 0;
}

int pcr_cap_digest(uint8_t ret[SHA256_DIGEST_SIZE])
{
	return sha256_buf(PCR_KERNEL_BOOT_CAP_WORD, strlen(PCR_KERNEL_BOOT_CAP_WORD), ret);
}

int pcr_cap_kernel_boot(struct tpm_context *t)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	int r = pcr_cap_digest(d);

	return r < 0 ? r : tpm_pcr_extend(t, PCR_KERNEL_BOOT, d);
}

int pcr_policy_digest(unsigned pcr, const uint8_t value[SHA256_DIGEST_SIZE],
		      uint8_t ret[SHA256_DIGEST_SIZE])
{
	static const uint8_t zero[SHA256_DIGEST_SIZE];
	struct tpm_pcr_values v = {};

	if (pcr >= TPM_PCR_MAX)
		return -EINVAL;
	v.mask = UINT32_C(1) << pcr;
	memcpy(v.value[pcr], value, SHA256_DIGEST_SIZE);
	return tpm_policy_pcr(zero, &v, ret);
}

int pcr_key_fingerprint(const struct rsa_key *k, uint8_t ret[SHA256_DIGEST_SIZE])
{
	_cleanup_free_ uint8_t *der = NULL;
	size_t der_size;
	int r = rsa_key_public_der_pkcs1(k, &der, &der_size);

	if (r < 0)
		return r;
	return sha256_buf(der, der_size, ret);
}

static int signature_entry(const struct rsa_key *key, const char *pkfp,
			   const uint8_t value[SHA256_DIGEST_SIZE], struct json_object **ret)
{
	_cleanup_json_ struct json_object *e = NULL, *pcrs = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	_cleanup_free_ char *sig64 = NULL;
	uint8_t pol[SHA256_DIGEST_SIZE];
	char pol_hex[SHA256_HEX_SIZE];
	size_t sig_size;
	int r;

	r = pcr_policy_digest(PCR_KERNEL_BOOT, value, pol);
	if (r < 0)
		return r;
	r = rsa_sign_sha256(key, pol, sizeof(pol), &sig, &sig_size);
	if (r < 0)
		return r;
	sig64 = base64_encode(sig, sig_size);
	if (!sig64)
		return -ENOMEM;
	sha256_hex(pol, pol_hex);

	e = json_object_new_object();
	pcrs = json_object_new_array();
	if (!e || !pcrs)
		return -ENOMEM;
	r = json_array_add(pcrs, json_object_new_int(PCR_KERNEL_BOOT));
	if (r < 0)
		return r;
	r = json_add(e, "pcrs", TAKE_PTR(pcrs));
	if (r >= 0)
		r = json_add_string(e, "pkfp", pkfp);
	if (r >= 0)
		r = json_add_string(e, "pol", pol_hex);
	if (r >= 0)
		r = json_add_string(e, "sig", sig64);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(e);
	return 0;
}

int pcr_signature_build(const struct rsa_key *key, const uint8_t (*values)[SHA256_DIGEST_SIZE],
			size_t n, char **ret)
{
	_cleanup_json_ struct json_object *root = NULL, *bank = NULL;
	uint8_t fp[SHA256_DIGEST_SIZE];
	char fp_hex[SHA256_HEX_SIZE];
	const char *s;
	char *text;
	int r;

	if (n == 0)
		return -EINVAL;
	if (!rsa_key_has_private(key))
		return -ENOKEY;
	r = pcr_key_fingerprint(key, fp);
	if (r < 0)
		return r;
	sha256_hex(fp, fp_hex);

	root = json_object_new_object();
	bank = json_object_new_array();
	if (!root || !bank)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e;
		r = signature_entry(key, fp_hex, values[i], &e);
		if (r < 0)
			return r;
		r = json_array_add(bank, e);
		if (r < 0)
			return r;
	}
	r = json_add(root, "sha256", TAKE_PTR(bank));
	if (r < 0)
		return r;
	s = json_format_compact(root);
	if (!s || asprintf(&text, "%s\n", s) < 0)
		return -ENOMEM;
	*ret = text;
	return 0;
}

struct pcr_signatures *pcr_signatures_free(struct pcr_signatures *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_entries; i++)
		free(s->sigs[i]);
	free(s->sigs);
	free(s->entries);
	free(s);
	return NULL;
}

static int parse_pcr_array(struct json_object *a, uint32_t *ret)
{
	uint32_t mask = 0;
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(a, i);
		int64_t pcr;
		if (!json_object_is_type(v, json_type_int))
			return -EBADMSG;
		pcr = json_object_get_int64(v);
		if (pcr < 0 || pcr >= TPM_PCR_MAX)
			return -EBADMSG;
		mask |= UINT32_C(1) << pcr;
	}
	*ret = mask;
	return 0;
}

static int unhex_digest(const char *s, uint8_t ret[SHA256_DIGEST_SIZE])
{
	if (strlen(s) != 2 * SHA256_DIGEST_SIZE)
		return -EBADMSG;
	return unhex_exact(s, ret, SHA256_DIGEST_SIZE) < 0 ? -EBADMSG : 0;
}

int pcr_signatures_parse(const char *json, size_t n, const struct rsa_key *key, uint32_t pcr_mask,
			 struct pcr_signatures **ret, char **ret_error)
{
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *s = NULL;
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_free_ char *error = NULL;
	struct json_object *bank;
	uint8_t fp[SHA256_DIGEST_SIZE];
	size_t count;
	int r;

	r = pcr_key_fingerprint(key, fp);
	if (r < 0)
		return r;
	r = json_parse(json, n, &root, &error);
	if (r < 0)
		return error_set(ret_error, -EBADMSG, "not JSON: %s", strna(error));
	if (!json_object_is_type(root, json_type_object))
		return error_set(ret_error, -EBADMSG, "not a JSON object");

	s = new0(struct pcr_signatures, 1);
	if (!s)
		return -ENOMEM;
	r = json_get_array(root, "sha256", &bank);
	if (r == -ENOENT) {
		*ret = TAKE_PTR(s);
		return 0;
	}
	if (r < 0)
		return error_set(ret_error, -EBADMSG, "\"sha256\" is not an array");
	count = json_object_array_length(bank);
	if (count > PCRSIG_MAX_ENTRIES)
		return error_set(ret_error, -EBADMSG, "more than %d entries", PCRSIG_MAX_ENTRIES);
	s->entries = new0(struct tpm_policy_signature, count);
	s->sigs = new0(uint8_t *, count);
	if (!s->entries || !s->sigs)
		return -ENOMEM;

	for (size_t i = 0; i < count; i++) {
		struct json_object *e = json_object_array_get_idx(bank, i), *pcrs;
		struct tpm_policy_signature *sig = &s->entries[s->n_entries];
		const char *pkfp = NULL, *pol, *sig64;
		uint8_t entry_fp[SHA256_DIGEST_SIZE];
		uint32_t mask;
		size_t sig_size;

		if (!json_object_is_type(e, json_type_object))
			return error_set(ret_error, -EBADMSG, "sha256[%zu]: not an object", i);
		if (json_get_array(e, "pcrs", &pcrs) < 0 || parse_pcr_array(pcrs, &mask) < 0)
			return error_set(ret_error, -EBADMSG,
					 "sha256[%zu]: \"pcrs\" is not an array of PCRs", i);
		r = json_get_string(e, "pkfp", &pkfp);
		if (r == -EINVAL || (r >= 0 && unhex_digest(pkfp, entry_fp) < 0))
			return error_set(ret_error, -EBADMSG,
					 "sha256[%zu]: \"pkfp\" is not a SHA-256 in hex", i);
		if (json_get_string(e, "pol", &pol) < 0 || unhex_digest(pol, sig->policy) < 0)
			return error_set(ret_error, -EBADMSG,
					 "sha256[%zu]: \"pol\" is not a SHA-256 in hex", i);
		if (json_get_string(e, "sig", &sig64) < 0 ||
		    base64_decode(sig64, &s->sigs[s->n_entries], &sig_size) < 0 || sig_size == 0)
			return error_set(ret_error, -EBADMSG, "sha256[%zu]: \"sig\" is not base64",
					 i);

		if (mask != pcr_mask || (pkfp && memcmp(entry_fp, fp, sizeof(fp)) != 0)) {
			if (mask == pcr_mask)
				s->n_other_keys++;
			s->sigs[s->n_entries] = mfree(s->sigs[s->n_entries]);
			continue;
		}
		sig->pcr_mask = mask;
		sig->sig = s->sigs[s->n_entries];
		sig->sig_size = sig_size;
		s->n_entries++;
	}
	*ret = TAKE_PTR(s);
	return 0;
}
