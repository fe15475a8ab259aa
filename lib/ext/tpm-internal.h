/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared by the files of lib/ext/ that talk ESAPI (tpm.c: PCRs, policies, seal and
 * unseal; tpm-info.c: properties and dictionary-attack state). Nothing outside
 * lib/ext/tpm*.c includes this or a tss2 header.
 */

#include <tss2/tss2_esys.h>

struct tpm_context {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

/* Logs a failed call at debug level and maps its code (tpm_rc_to_errno()). */
int tpm_rc_fail(const char *call, TSS2_RC rc);
/* The TPM response code without the handle, session or parameter number. */
uint32_t tpm_rc_base(uint32_t rc);
/* A response from the TPM itself (or its resource manager), not from a software layer. */
bool tpm_rc_is_tpm(uint32_t rc);
/*
 * PolicyNV(counter at index >= base, unsigned, read with the owner's authorization) in
 * session (tpm-nv.c): -ENOENT when the index is not defined, -EMEDIUMTYPE when it is not
 * a counter, -EPERM when the comparison fails.
 */
int tpm_policy_nv_session(struct tpm_context *t, ESYS_TR session, uint32_t index, uint64_t base);
