/* SPDX-License-Identifier: Apache-2.0 */
/* The version floor on a TPM NV counter (lib/tpmfloor.h). */
#include "core/error.h"
#include "core/log.h"
#include "dataunlock.h"
#include "ext/luks.h"
#include "tpm2luks.h"
#include "tpmfloor.h"
#include "tpmnv.h"

int tpm_floor_define(struct tpm_context *t, const void *auth, size_t auth_size,
		     struct tpm_floor_bind *ret)
{
	struct tpm_floor_bind b = { .index = TPMNV_FLOOR };
	int r;

	r = tpm_nv_counter_define(t, b.index, auth, auth_size);
	if (r < 0)
		return r;
	r = tpm_nv_counter_increment(t, b.index, auth, auth_size, &b.base);
	if (r >= 0)
		r = tpm_nv_name(t, b.index, b.name); /* with TPMA_NV_WRITTEN set: final */
	if (r < 0) {
		int k = tpm_nv_undefine(t, b.index);
		if (k < 0)
			log_debug_errno(k, "tpmfloor: removing the half-made counter failed: %m");
		return r;
	}
	*ret = b;
	return 0;
}

int tpm_floor_read(struct tpm_context *t, const struct tpm_floor_bind *b, uint64_t *ret)
{
	uint64_t v;
	int r;

	r = tpm_nv_counter_read(t, b->index, &v);
	if (r == -ENODATA)
		return -ESTALE;
	if (r < 0)
		return r;
	if (v < b->base)
		return -ESTALE;
	*ret = v - b->base;
	return 0;
}

int tpm_floor_raise(struct tpm_context *t, const struct tpm_floor_bind *b, const void *auth,
		    size_t auth_size, uint64_t to, uint64_t *ret)
{
	uint64_t floor, v;
	int r;

	r = tpm_floor_read(t, b, &floor);
	if (r < 0)
		return r;
	if (to > floor && to - floor > TPM_FLOOR_STEP_MAX)
		return -E2BIG;
	while (floor < to) {
		r = tpm_nv_counter_increment(t, b->index, auth, auth_size, &v);
		if (r < 0)
			return r;
		if (v < b->base)
			return -ESTALE;
		floor = v - b->base;
	}
	if (ret)
		*ret = floor;
	return 0;
}

int tpm_floor_of_volume(const char *device, const char *tcti, struct tpm_floor_bind *ret_bind,
			uint64_t *ret_floor, char **ret_error)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_free_ char *node = NULL, *error = NULL;
	struct tpm_floor_bind b;
	uint64_t floor;
	int r;

	if (!device) {
		r = data_volume_node(&node, &error);
		if (r == -ENOENT)
			return error_set(ret_error, r, "%s", strna(error));
		if (r < 0)
			return error_set(ret_error, r, "cannot find the data volume: %s",
					 strna(error));
		device = node;
	}
	r = luks_open(device, &v);
	if (r < 0)
		return error_set(ret_error, r, "%s: cannot read its LUKS2 header: %s", device,
				 strerror(-r));
	r = tpm2luks_floor(v, &b);
	if (r == -ENOENT)
		return error_set(ret_error, r, "%s: no TPM token is sealed to a version floor",
				 device);
	if (r < 0)
		return error_set(ret_error, r, "%s: reading its tokens: %s", device, strerror(-r));
	r = tpm_context_new(tcti, &t);
	if (r < 0)
		return error_set(ret_error, r, "the TPM at %s: %s", tcti ?: TPM_DEFAULT_TCTI,
				 strerror(-r));
	r = tpm_floor_read(t, &b, &floor);
	if (r < 0)
		return error_set(ret_error, r == -ENOENT ? -ENXIO : r,
				 "the version floor's counter 0x%08x: %s", b.index,
				 r == -ENOENT ? "not defined any more" :
				 r == -ESTALE ? "below the token's base (not the one sealed to)" :
						strerror(-r));
	if (ret_bind)
		*ret_bind = b;
	*ret_floor = floor;
	return 0;
}
