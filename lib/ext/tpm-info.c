/* SPDX-License-Identifier: Apache-2.0 */
/* What a TPM says about itself: TPM2_GetCapability(TPM_PROPERTIES). */
#include <stdio.h>
#include <tss2/tss2_esys.h>

#include "core/log.h"
#include "ext/tpm-internal.h"
#include "ext/tpm.h"

/* The properties from first to first + count - 1, into values[] by offset. */
static int get_properties(struct tpm_context *t, TPM2_PT first, uint32_t count, uint32_t *values,
			  bool *present)
{
	TPM2_PT next = first;

	while (next < first + count) {
		_cleanup_free_ TPMS_CAPABILITY_DATA *cap = NULL;
		TPMI_YES_NO more = TPM2_NO;
		TSS2_RC rc;
		uint32_t n;

		rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					TPM2_CAP_TPM_PROPERTIES, next, first + count - next, &more,
					&cap);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_rc_fail("Esys_GetCapability", rc);
		n = cap->data.tpmProperties.count;
		if (n == 0)
			break;
		for (uint32_t i = 0; i < n; i++) {
			const TPMS_TAGGED_PROPERTY *p = &cap->data.tpmProperties.tpmProperty[i];

			if (p->property < first || p->property >= first + count)
				continue;
			values[p->property - first] = p->value;
			present[p->property - first] = true;
		}
		next = cap->data.tpmProperties.tpmProperty[n - 1].property + 1;
		if (!more)
			break;
	}
	return 0;
}

/* Four big-endian ASCII bytes, as TPM2_PT_MANUFACTURER and the vendor strings hold them. */
static void put_chars(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

/* Cuts trailing NULs and spaces, and replaces what is not printable ASCII by '?'. */
static void printable(char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			s[i] = '?';
	for (size_t i = strnlen(s, n); i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\0'); i--)
		s[i - 1] = '\0';
}

int tpm_info_read(struct tpm_context *t, struct tpm_info *ret)
{
	enum { N_FIXED = TPM2_PT_FIRMWARE_VERSION_2 - TPM2_PT_FIXED + 1 };
	enum { N_VAR = TPM2_PT_LOCKOUT_RECOVERY - TPM2_PT_VAR + 1 };
	uint32_t fixed[N_FIXED] = {}, var[N_VAR] = {};
	bool fixed_ok[N_FIXED] = {}, var_ok[N_VAR] = {};
	struct tpm_info i = {};
	int r;

	r = get_properties(t, TPM2_PT_FIXED, N_FIXED, fixed, fixed_ok);
	if (r < 0)
		return r;
	r = get_properties(t, TPM2_PT_VAR, N_VAR, var, var_ok);
	if (r < 0)
		return r;
	if (!fixed_ok[TPM2_PT_MANUFACTURER - TPM2_PT_FIXED] ||
	    !var_ok[TPM2_PT_MAX_AUTH_FAIL - TPM2_PT_VAR])
		return log_debug_errno(EBADMSG, "tpm: the TPM does not report its properties");

#define FIXED(pt) fixed[(pt)-TPM2_PT_FIXED]
#define VAR(pt) var[(pt)-TPM2_PT_VAR]
	put_chars(i.manufacturer, FIXED(TPM2_PT_MANUFACTURER));
	printable(i.manufacturer, sizeof(i.manufacturer) - 1);
	for (unsigned k = 0; k < 4; k++)
		put_chars(i.vendor + 4 * k, FIXED(TPM2_PT_VENDOR_STRING_1 + k));
	printable(i.vendor, sizeof(i.vendor) - 1);
	i.firmware_version[0] = FIXED(TPM2_PT_FIRMWARE_VERSION_1);
	i.firmware_version[1] = FIXED(TPM2_PT_FIRMWARE_VERSION_2);
	i.spec_level = FIXED(TPM2_PT_LEVEL);
	i.spec_revision = FIXED(TPM2_PT_REVISION);
	i.lockout_counter = VAR(TPM2_PT_LOCKOUT_COUNTER);
	i.max_auth_fail = VAR(TPM2_PT_MAX_AUTH_FAIL);
	i.lockout_interval = VAR(TPM2_PT_LOCKOUT_INTERVAL);
	i.lockout_recovery = VAR(TPM2_PT_LOCKOUT_RECOVERY);
	i.in_lockout = VAR(TPM2_PT_PERMANENT) & TPMA_PERMANENT_INLOCKOUT;
	i.owner_auth_set = VAR(TPM2_PT_PERMANENT) & TPMA_PERMANENT_OWNERAUTHSET;
	i.lockout_auth_set = VAR(TPM2_PT_PERMANENT) & TPMA_PERMANENT_LOCKOUTAUTHSET;
#undef FIXED
#undef VAR
	*ret = i;
	return 0;
}

int tpm_info_firmware_string(const struct tpm_info *i, char **ret)
{
	if (asprintf(ret, "%u.%u.%u", i->firmware_version[0] >> 16, i->firmware_version[0] & 0xffff,
		     i->firmware_version[1]) < 0)
		return -ENOMEM;
	return 0;
}
