/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The version floor on the running appliance (lib/tpmfloor.h): import refuses an update
 * below it; mark-good raises it to the running image's security version.
 */
#include <inttypes.h>

#include "bundle.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/secret.h"
#include "ext/json.h"
#include "tpmfloor.h"
#include "tpmnv.h"
#include "update-tool.h"

int update_version_floor(const char *verb, struct bundle_policy *p)
{
	_cleanup_free_ char *error = NULL;
	uint64_t floor;
	int r;

	r = tpm_floor_of_volume(NULL, NULL, NULL, &floor, &error);
	if (r == -ENOENT) {
		log_info("%s: no version floor is kept here (%s)", verb, strna(error));
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "%s: cannot read the version floor: %s", verb,
				       strna(error));
	log_debug("%s: the version floor is %" PRIu64, verb, floor);
	p->has_version_floor = true;
	p->version_floor = floor;
	return 0;
}

int update_raise_floor(const struct update_system *s)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_secret_ char *auth = NULL;
	_cleanup_free_ char *error = NULL, *text = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	struct tpm_floor_bind b;
	uint64_t floor, now;
	size_t auth_size;
	char index[16];
	int r;

	r = tpm_floor_of_volume(NULL, NULL, &b, &floor, &error);
	if (r == -ENOENT) {
		log_info("mark-good: no version floor is kept here (%s)", strna(error));
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "mark-good: cannot read the version floor: %s",
				       strna(error));
	if (floor >= s->security_version) {
		log_info("mark-good: the version floor is %" PRIu64
			 ", this image's security version %" PRIu64 ": nothing to raise",
			 floor, s->security_version);
		return 0;
	}
	r = read_full_file(TPMNV_FLOOR_AUTH, TPMNV_AUTH_SIZE, &text, &auth_size);
	if (r >= 0) {
		auth = secret_alloc(auth_size + 1);
		if (!auth)
			return log_oom();
		memcpy(auth, text, auth_size);
		explicit_bzero(text, auth_size);
	}
	if (r < 0)
		return log_error_errno(r, "mark-good: the version floor's auth %s: %m",
				       TPMNV_FLOOR_AUTH);
	r = tpm_context_new(NULL, &t);
	if (r >= 0)
		r = tpm_floor_raise(t, &b, auth, auth_size, s->security_version, &now);
	if (r < 0)
		return log_error_errno(r,
				       "mark-good: raising the version floor from %" PRIu64
				       " to %" PRIu64 ": %s",
				       floor, s->security_version,
				       r == -EACCES ? "the TPM refused the auth" : strerror(-r));
	log_notice("mark-good: version floor raised from %" PRIu64 " to %" PRIu64
		   " (counter 0x%08" PRIx32 "): releases below security version %" PRIu64
		   " no longer open the data volume",
		   floor, now, b.index, now);
	(void)snprintf(index, sizeof(index), "0x%08" PRIx32, b.index);
	o = json_object_new_object();
	if (!o || json_add_string(o, "version", s->version) < 0 ||
	    json_add_int(o, "from", (int64_t)floor) < 0 ||
	    json_add_int(o, "to", (int64_t)now) < 0 || json_add_string(o, "counter", index) < 0)
		return log_oom();
	return record_append("update.floor-raised", TAKE_PTR(o));
}
