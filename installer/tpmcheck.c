/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Before anything is written: can the data volume's key be sealed here? A TPM must
 * answer at the TCTI and read PCR 7, and the image must carry an RSA PCR-signing key
 * for the PCR 11 authorization. When it cannot, the reason is shown and the operator
 * may choose the recovery-key-only volume (a second confirmation, or tpm=allow-missing).
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"
#include "ext/crypto.h"
#include "ext/tpm.h"
#include "installer.h"
#include "tpmnv.h"
#include "pcr.h"

void tpm_facts_done(struct tpm_facts *f)
{
	if (!f)
		return;
	free(f->reason);
	*f = (struct tpm_facts){};
}

static int verdict(struct tpm_facts *f, bool usable, const char *fmt, ...) _printf_(3, 4);
static int verdict(struct tpm_facts *f, bool usable, const char *fmt, ...)
{
	va_list ap;

	f->usable = usable;
	free(f->reason);
	va_start(ap, fmt);
	if (vasprintf(&f->reason, fmt, ap) < 0)
		f->reason = NULL;
	va_end(ap);
	return 0;
}

int tpm_check(const char *tcti, const struct install_source *s, struct tpm_facts *ret)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *key = NULL;
	struct tpm_pcr_values pcrs = {};
	struct tpm_facts f = {};
	const char *spec = isempty(tcti) ? TPM_DEFAULT_TCTI : tcti;
	int r;

	if (!s->pcr_pubkey) {
		verdict(&f, false,
			"the image carries no PCR-signing public key (.pcrpkey, or "
			"--pcr-public-key): the key could be sealed to PCR 7 alone, which any "
			"kernel signed for this machine would unseal, so it is not sealed at all");
		goto done;
	}
	r = rsa_key_from_public_pem(s->pcr_pubkey, s->pcr_pubkey_size, &key);
	if (r < 0) {
		verdict(&f, false, "the PCR-signing key from %s is not an RSA public key (PEM)",
			strna(s->pcr_pubkey_origin));
		goto done;
	}
	r = tpm_context_new(spec, &t);
	if (r < 0) {
		verdict(&f, false, "%s at '%s' (%s)", tpm_refusal_to_string(TPM_REFUSAL_NO_TPM),
			spec, strerror(-r));
		goto done;
	}
	r = tpm_pcr_read(t, UINT32_C(1) << PCR_SECURE_BOOT_POLICY, &pcrs);
	if (r < 0) {
		verdict(&f, false, "the TPM at '%s' does not read PCR 7 in the SHA-256 bank (%s)",
			spec, strerror(-r));
		goto done;
	}
	f.unset_pcr_mask = tpm_pcr_values_unset(&pcrs);
	{
		struct tpm_nv_public pub;

		f.floor_defined = tpm_nv_read_public(t, TPMNV_FLOOR, &pub) >= 0;
		f.ledger_defined = tpm_nv_read_public(t, TPMNV_LEDGER, &pub) >= 0;
	}
	if (f.unset_pcr_mask)
		verdict(&f, true,
			"warning: PCR 7 holds nothing measured (firmware without Secure Boot "
			"measurements): binding to it adds no protection; PCR 11 (signed) still "
			"applies");
	else
		f.usable = true;
done:
	if (!f.usable && !f.reason)
		return -ENOMEM;
	*ret = f;
	return 0;
}
