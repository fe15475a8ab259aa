/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unified Kernel Image: systemd-stub (from the image tree, so from the pool)
 * with .osrel, .cmdline, optional .uname, .initrd and .linux appended in C by
 * lib/pe.c. .linux comes last, as ukify does. Nothing in it depends on the time or
 * the build host: the same inputs give the same bytes, and so the same PCR 11.
 *
 * With a PCR-signing key the UKI also carries .pcrpkey (the PEM public key) and .pcrsig:
 * the PCR 11 value systemd-stub will measure for exactly these sections, signed
 * (lib/pcr.h). RSASSA-PKCS1-v1_5 is deterministic, so the signed UKI is reproducible
 * too. The data volume's key is sealed to whatever PCR 11 value this key signs: a UKI
 * without a valid .pcrsig (another command line, another kernel) cannot unseal it.
 */
#include <stdio.h>

#include "builder.h"
#include "core/strv.h"
#include "pcr.h"
#include "pe.h"

/* The .pcrsig of a UKI made of p's sections plus .pcrpkey = pem. */
static int uki_pcr_signature(const struct uki_params *p, const char *pem, size_t pem_size,
			     char **ret, char **ret_error)
{
	struct pcr_uki u = {};
	uint8_t value[SHA256_DIGEST_SIZE];
	const struct {
		enum pcr_uki_section s;
		const char *path;
	} files[] = {
		{ PCR_UKI_LINUX, p->kernel_path },
		{ PCR_UKI_OSREL, p->os_release_path },
		{ PCR_UKI_INITRD, p->initrd_path },
	};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		r = pcr_uki_add_file(&u, files[i].s, files[i].path);
		if (r < 0)
			return error_replace(ret_error, r, "uki: PCR 11 of %s: %s", files[i].path,
					     strerror(-r));
	}
	if ((r = pcr_uki_add_data(&u, PCR_UKI_CMDLINE, p->cmdline, strlen(p->cmdline))) < 0 ||
	    (r = pcr_uki_add_data(&u, PCR_UKI_PCRPKEY, pem, pem_size)) < 0 ||
	    (r = pcr_uki_predict(&u, NULL, value)) < 0)
		return error_replace(ret_error, r, "uki: predicting PCR 11: %s", strerror(-r));
	r = pcr_signature_build(p->pcr_key, (const uint8_t(*)[SHA256_DIGEST_SIZE])value, 1, ret);
	if (r < 0)
		return error_replace(ret_error, r, "uki: signing PCR 11: %s",
				     r == -ENOKEY ? "the PCR key has no private part" :
						    strerror(-r));
	return 0;
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (const char *c = s; *c; c++)
		if (!strchr("0123456789abcdef", *c))
			return false;
	return true;
}

int uki_cmdline(const char *slot, const char *root_hash_hex, const char *extra, char **ret)
{
	static const char *const reserved[] = { "airlock.slot=", "airlock.roothash=", "roothash=",
						"usrhash=" };
	_cleanup_strv_free_ char **words = NULL, **extra_words = NULL;
	char *s;
	int r;

	if (!slot || (!streq(slot, "a") && !streq(slot, "b")) || !is_hex64(root_hash_hex))
		return -EINVAL;
	r = strv_split(strempty(extra), " \t\n", &extra_words);
	if (r < 0)
		return r;
	STRV_FOREACH(w, extra_words)
		for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
			if (startswith(*w, reserved[i]))
				return -EINVAL;
	if ((r = strv_extendf(&words, "airlock.slot=%s", slot)) < 0 ||
	    (r = strv_extendf(&words, "airlock.roothash=%s", root_hash_hex)) < 0 ||
	    (r = strv_extend_strv(&words, extra_words)) < 0)
		return r;
	s = strv_join(words, " ");
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int uki_build(const struct uki_params *p, const char *output_path, char **ret_error)
{
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	_cleanup_free_ char *pcrpkey = NULL, *pcrsig = NULL;
	size_t pcrpkey_size = 0;
	int r;

	if (!p->stub_path || !p->kernel_path || !p->initrd_path || !p->os_release_path ||
	    isempty(p->cmdline))
		return error_replace(ret_error, -EINVAL,
				     "uki: stub, kernel, initrd, os-release and "
				     "command line are all needed");
	if (p->pcr_key) {
		r = rsa_key_public_pem(p->pcr_key, &pcrpkey, &pcrpkey_size);
		if (r < 0)
			return error_replace(ret_error, r, "uki: the PCR key's public part: %s",
					     strerror(-r));
		r = uki_pcr_signature(p, pcrpkey, pcrpkey_size, &pcrsig, ret_error);
		if (r < 0)
			return r;
	}
	struct {
		const char *name, *path, *data;
		size_t size;
	} sections[] = {
		{ ".osrel", p->os_release_path, NULL, 0 },
		{ ".cmdline", NULL, p->cmdline, strlen(strempty(p->cmdline)) },
		{ ".uname", NULL, p->uname, strlen(strempty(p->uname)) },
		{ ".pcrpkey", NULL, pcrpkey, pcrpkey_size },
		{ ".pcrsig", NULL, pcrsig, strlen(strempty(pcrsig)) },
		{ ".initrd", p->initrd_path, NULL, 0 },
		{ ".linux", p->kernel_path, NULL, 0 },
	};

	r = pe_load(p->stub_path, &img);
	if (r < 0)
		return error_replace(ret_error, r, "uki: stub '%s': %s", p->stub_path,
				     r == -EBADMSG ? "not a PE32+ image" : strerror(-r));
	if (img->subsystem != 10 || pe_section_find(img, ".linux"))
		return error_replace(ret_error, -EBADMSG,
				     "uki: stub '%s' is not an unused systemd-stub EFI application",
				     p->stub_path);

	for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
		if (sections[i].path)
			r = pe_section_append_file(img, sections[i].name, sections[i].path,
						   PE_SECTION_DATA_RO);
		else if (sections[i].data)
			r = pe_section_append(img, sections[i].name, sections[i].data,
					      sections[i].size, PE_SECTION_DATA_RO);
		else
			continue;
		if (r < 0)
			return error_replace(
				ret_error, r, "uki: section %s%s%s: %s", sections[i].name,
				sections[i].path ? " from " : "", strempty(sections[i].path),
				r == -EPERM ? "the stub is already signed" : strerror(-r));
	}
	r = pe_write(img, output_path, 0644);
	if (r < 0)
		return error_replace(ret_error, r, "uki: writing '%s': %s", output_path,
				     strerror(-r));
	return 0;
}
