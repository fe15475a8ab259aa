/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unified Kernel Image: systemd-stub (from the image tree, so from the pool)
 * with .osrel, .cmdline, optional .uname, .initrd and .linux appended in C by
 * lib/pe.c. .linux comes last, as ukify does. Nothing in it depends on the time or
 * the build host: the same inputs give the same bytes, and so the same PCR 11.
 */
#include <stdio.h>

#include "builder.h"
#include "core/strv.h"
#include "pe.h"

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
	struct {
		const char *name, *path, *data;
	} sections[] = {
		{ ".osrel", p->os_release_path, NULL }, { ".cmdline", NULL, p->cmdline },
		{ ".uname", NULL, p->uname },		{ ".initrd", p->initrd_path, NULL },
		{ ".linux", p->kernel_path, NULL },
	};
	int r;

	if (!p->stub_path || !p->kernel_path || !p->initrd_path || !p->os_release_path ||
	    isempty(p->cmdline))
		return stage_error(ret_error, -EINVAL,
				   "uki: stub, kernel, initrd, os-release and "
				   "command line are all needed");
	r = pe_load(p->stub_path, &img);
	if (r < 0)
		return stage_error(ret_error, r, "uki: stub '%s': %s", p->stub_path,
				   r == -EBADMSG ? "not a PE32+ image" : strerror(-r));
	if (img->subsystem != 10 || pe_section_find(img, ".linux"))
		return stage_error(ret_error, -EBADMSG,
				   "uki: stub '%s' is not an unused systemd-stub EFI application",
				   p->stub_path);

	for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
		if (sections[i].path)
			r = pe_section_append_file(img, sections[i].name, sections[i].path,
						   PE_SECTION_DATA_RO);
		else if (sections[i].data)
			r = pe_section_append(img, sections[i].name, sections[i].data,
					      strlen(sections[i].data), PE_SECTION_DATA_RO);
		else
			continue;
		if (r < 0)
			return stage_error(
				ret_error, r, "uki: section %s%s%s: %s", sections[i].name,
				sections[i].path ? " from " : "", strempty(sections[i].path),
				r == -EPERM ? "the stub is already signed" : strerror(-r));
	}
	r = pe_write(img, output_path, 0644);
	if (r < 0)
		return stage_error(ret_error, r, "uki: writing '%s': %s", output_path,
				   strerror(-r));
	return 0;
}
