/* SPDX-License-Identifier: Apache-2.0 */
/* What airlock-tpm's verbs share: options, finding the data volume, the image's keys. */
#include <stdio.h>

#include "bootdisk.h"
#include "core/fileio.h"
#include "core/hex.h"
#include "core/log.h"
#include "dataunlock.h"
#include "ext/blkid.h"
#include "tpm-tool.h"

#define KEY_FILE_MAX (1024U * 1024U)

int tpm_options_take(struct tpm_options *o, int c, const char *arg)
{
	switch (c) {
	case ARG_TCTI:
		o->tcti = arg;
		return 1;
	case ARG_DEVICE:
		o->device = arg;
		return 1;
	case ARG_PCRSIG:
		o->pcrsig = arg;
		return 1;
	case ARG_PCRPKEY:
		o->pcrpkey = arg;
		return 1;
	case ARG_LEDGER:
		o->ledger = arg;
		return 1;
	default:
		return 0;
	}
}

int tpm_volume_node(const struct tpm_options *o, char **ret)
{
	_cleanup_free_ char *error = NULL;
	int r;

	if (o->device) {
		*ret = strdup(o->device);
		return *ret ? 0 : log_oom();
	}
	r = data_volume_node(ret, &error);
	if (r < 0)
		return log_error_errno(r, "cannot find the data volume: %s (give --device)",
				       strna(error));
	return 0;
}

static int read_optional(const char *path, char **ret, size_t *ret_size)
{
	int r;

	*ret = NULL;
	*ret_size = 0;
	if (!path)
		return 0;
	r = read_full_file(path, KEY_FILE_MAX, ret, ret_size);
	if (r == -ENOENT) {
		log_debug("%s: not there", path);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot read %s: %m", path);
	return 0;
}

int tpm_image_keys_read(const struct tpm_options *o, struct tpm_image_keys *ret)
{
	struct tpm_image_keys k = {};
	int r;

	r = read_optional(o->pcrsig, &k.pcrsig, &k.pcrsig_size);
	if (r >= 0)
		r = read_optional(o->pcrpkey, &k.pcrpkey, &k.pcrpkey_size);
	if (r < 0) {
		tpm_image_keys_done(&k);
		return r;
	}
	*ret = k;
	return 0;
}

void tpm_image_keys_done(struct tpm_image_keys *k)
{
	k->pcrsig = mfree(k->pcrsig);
	k->pcrpkey = mfree(k->pcrpkey);
}

char *tpm_pcr_mask_string(uint32_t mask)
{
	char buf[TPM_PCR_MAX * 4 + 1] = "";
	size_t n = 0;

	for (unsigned i = 0; i < TPM_PCR_MAX; i++)
		if (mask & (UINT32_C(1) << i))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u", n ? ", " : "", i);
	return strdup(n ? buf : "none");
}
