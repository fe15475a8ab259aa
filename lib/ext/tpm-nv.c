/* SPDX-License-Identifier: Apache-2.0 */
/* NV counters through ESAPI: define, read, increment, undefine (lib/ext/tpm.h). */
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>

#include "core/log.h"
#include "ext/tpm-internal.h"
#include "ext/tpm.h"

#define COUNTER_SIZE 8
#define AUTH_MAX 32
#define COUNTER_ATTRIBUTES                                                          \
	(TPMA_NV_AUTHWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA | \
	 ((TPMA_NV)TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT))

static bool index_valid(uint32_t index)
{
	return (index & TPM_NV_INDEX_RANGE_MASK) == TPM_NV_INDEX_RANGE;
}

int tpm_nv_index_parse(const char *s, uint32_t *ret)
{
	unsigned long v;
	char *end;

	if (isempty(s) || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno || *end || v > UINT32_MAX || !index_valid((uint32_t)v))
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* The ESYS_TR of a defined index; -ENOENT when the TPM has none there. */
static int nv_handle(struct tpm_context *t, uint32_t index, ESYS_TR *ret)
{
	TSS2_RC rc;

	if (!index_valid(index))
		return -EINVAL;
	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret);
	if (rc == TSS2_RC_SUCCESS)
		return 0;
	/* An undefined index is a handle error from the TPM (NV_ReadPublic's). */
	if (tpm_rc_is_tpm(rc) && tpm_rc_base(rc) == TPM2_RC_HANDLE)
		return -ENOENT;
	return tpm_rc_fail("Esys_TR_FromTPMPublic", rc);
}

static void tr_close(struct tpm_context *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, h);
}

/* The public area of the index behind an open handle. */
static int read_public(struct tpm_context *t, ESYS_TR h, struct tpm_nv_public *ret)
{
	_cleanup_free_ TPM2B_NV_PUBLIC *pub = NULL;
	TSS2_RC rc;

	rc = Esys_NV_ReadPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_NV_ReadPublic", rc);
	*ret = (struct tpm_nv_public){
		.index = pub->nvPublic.nvIndex,
		.attributes = pub->nvPublic.attributes,
		.size = pub->nvPublic.dataSize,
		.counter = ((pub->nvPublic.attributes & TPMA_NV_TPM2_NT_MASK) >>
			    TPMA_NV_TPM2_NT_SHIFT) == TPM2_NT_COUNTER,
		.written = pub->nvPublic.attributes & TPMA_NV_WRITTEN,
		.ours = (pub->nvPublic.attributes & ~(TPMA_NV)TPMA_NV_WRITTEN) ==
				COUNTER_ATTRIBUTES &&
			pub->nvPublic.dataSize == COUNTER_SIZE &&
			pub->nvPublic.nameAlg == TPM2_ALG_SHA256 &&
			pub->nvPublic.authPolicy.size == 0,
	};
	return 0;
}

int tpm_nv_read_public(struct tpm_context *t, uint32_t index, struct tpm_nv_public *ret)
{
	ESYS_TR h = ESYS_TR_NONE;
	int r;

	r = nv_handle(t, index, &h);
	if (r < 0)
		return r;
	r = read_public(t, h, ret);
	tr_close(t, &h);
	return r;
}

int tpm_nv_counter_define(struct tpm_context *t, uint32_t index, const void *auth, size_t auth_size)
{
	TPM2B_NV_PUBLIC pub = {
		.nvPublic = {
			.nvIndex = index,
			.nameAlg = TPM2_ALG_SHA256,
			.attributes = COUNTER_ATTRIBUTES,
			.dataSize = COUNTER_SIZE,
		},
	};
	TPM2B_AUTH a = { .size = (uint16_t)auth_size };
	struct tpm_nv_public existing;
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	if (!index_valid(index) || auth_size > AUTH_MAX)
		return -EINVAL;
	r = tpm_nv_read_public(t, index, &existing);
	if (r >= 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	memcpy(a.buffer, auth, auth_size);
	rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				 ESYS_TR_NONE, &a, &pub, &h);
	explicit_bzero(&a, sizeof(a));
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_NV_DefineSpace", rc);
	tr_close(t, &h);
	return 0;
}

/*
 * An open handle to the counter at index (-EMEDIUMTYPE when the index is something
 * else), and whether it holds a value yet (TPMA_NV_WRITTEN). Close with tr_close().
 */
static int counter_open(struct tpm_context *t, uint32_t index, ESYS_TR *ret, bool *ret_written)
{
	struct tpm_nv_public p;
	ESYS_TR h = ESYS_TR_NONE;
	int r;

	r = nv_handle(t, index, &h);
	if (r < 0)
		return r;
	r = read_public(t, h, &p);
	if (r >= 0 && (!p.counter || p.size != COUNTER_SIZE))
		r = log_debug_errno(EMEDIUMTYPE, "tpm: NV index 0x%08x is not a counter", index);
	if (r < 0) {
		tr_close(t, &h);
		return r;
	}
	*ret = h;
	*ret_written = p.written;
	return 0;
}

/* The counter's 8 bytes through an open handle (the owner's empty authorization). */
static int counter_value(struct tpm_context *t, ESYS_TR h, uint64_t *ret)
{
	_cleanup_free_ TPM2B_MAX_NV_BUFFER *data = NULL;
	uint64_t v = 0;
	TSS2_RC rc;

	rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			  ESYS_TR_NONE, COUNTER_SIZE, 0, &data);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_NV_Read", rc);
	if (data->size != COUNTER_SIZE)
		return -EBADMSG;
	for (unsigned i = 0; i < COUNTER_SIZE; i++)
		v = v << 8 | data->buffer[i]; /* big-endian, as the TPM keeps it */
	*ret = v;
	return 0;
}

int tpm_nv_counter_read(struct tpm_context *t, uint32_t index, uint64_t *ret)
{
	ESYS_TR h = ESYS_TR_NONE;
	bool written;
	int r;

	r = counter_open(t, index, &h, &written);
	if (r < 0)
		return r;
	r = written ? counter_value(t, h, ret) : -ENODATA;
	tr_close(t, &h);
	return r;
}

int tpm_nv_counter_increment(struct tpm_context *t, uint32_t index, const void *auth,
			     size_t auth_size, uint64_t *ret)
{
	TPM2B_AUTH a = { .size = (uint16_t)auth_size };
	ESYS_TR h = ESYS_TR_NONE;
	bool written;
	TSS2_RC rc;
	int r;

	if (auth_size > AUTH_MAX)
		return -EINVAL;
	r = counter_open(t, index, &h, &written);
	if (r < 0)
		return r;
	memcpy(a.buffer, auth, auth_size);
	rc = Esys_TR_SetAuth(t->esys, h, &a);
	explicit_bzero(&a, sizeof(a));
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_NV_Increment(t->esys, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
	if (rc != TSS2_RC_SUCCESS) {
		tr_close(t, &h);
		r = tpm_rc_fail("Esys_NV_Increment", rc);
		return tpm_rc_is_tpm(rc) && (tpm_rc_base(rc) == TPM2_RC_AUTH_FAIL ||
					     tpm_rc_base(rc) == TPM2_RC_BAD_AUTH) ?
			       -EACCES :
			       r;
	}
	r = ret ? counter_value(t, h, ret) : 0;
	tr_close(t, &h);
	return r;
}

int tpm_nv_name(struct tpm_context *t, uint32_t index, uint8_t ret[TPM_NAME_SIZE])
{
	_cleanup_free_ TPM2B_NAME *name = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	r = nv_handle(t, index, &h);
	if (r < 0)
		return r;
	rc = Esys_TR_GetName(t->esys, h, &name);
	tr_close(t, &h);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail("Esys_TR_GetName", rc);
	if (name->size != TPM_NAME_SIZE)
		return -EBADMSG;
	memcpy(ret, name->name, TPM_NAME_SIZE);
	return 0;
}

int tpm_policy_nv_session(struct tpm_context *t, ESYS_TR session, uint32_t index, uint64_t base)
{
	TPM2B_OPERAND operand = { .size = COUNTER_SIZE };
	ESYS_TR h = ESYS_TR_NONE;
	bool written;
	TSS2_RC rc;
	int r;

	r = counter_open(t, index, &h, &written);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < COUNTER_SIZE; i++)
		operand.buffer[i] = (uint8_t)(base >> (8 * (COUNTER_SIZE - 1 - i)));
	rc = Esys_PolicyNV(t->esys, ESYS_TR_RH_OWNER, h, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			   ESYS_TR_NONE, &operand, 0, TPM2_EO_UNSIGNED_GE);
	tr_close(t, &h);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail("Esys_PolicyNV", rc);
		/* TPM_RC_POLICY: the comparison is false; NV_UNINITIALIZED: no value yet */
		if (tpm_rc_is_tpm(rc) && (tpm_rc_base(rc) == TPM2_RC_POLICY ||
					  tpm_rc_base(rc) == TPM2_RC_NV_UNINITIALIZED))
			return -EPERM;
		return r;
	}
	return 0;
}

int tpm_nv_undefine(struct tpm_context *t, uint32_t index)
{
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	r = nv_handle(t, index, &h);
	if (r < 0)
		return r;
	rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				   ESYS_TR_NONE);
	if (rc != TSS2_RC_SUCCESS) {
		tr_close(t, &h);
		return tpm_rc_fail("Esys_NV_UndefineSpace", rc);
	}
	return 0;
}
