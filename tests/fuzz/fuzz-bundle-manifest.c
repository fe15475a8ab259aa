/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.json of an update bundle (lib/bundle.c), as the appliance parses it once
 * its signature is good: the parser must never crash, write its result only on
 * success, and what it accepts must keep the promises bundle.h makes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bundle.h"
#include "core/strv.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_manifest *m = NULL;
	struct bundle_error e = BUNDLE_ERROR_INIT;
	const struct bundle_policy p = { "1.0.0", "airlock/x86-64" };
	char *error = NULL;
	int r;

	r = bundle_manifest_parse((const char *)data, size, &m, &error);
	if (r < 0) {
		if (m || (r == -EBADMSG && !error))
			abort();
		free(error);
		return 0;
	}
	if (!m || !version_is_valid(m->version) || !version_is_valid(m->min_version) ||
	    version_compare(m->min_version, m->version) > 0 || strv_length(m->trusted_keys) == 0 ||
	    strchr(m->name, '/') || m->name[0] == '.')
		abort();
	for (int i = 0; i < BUNDLE_N_ARTIFACTS; i++) {
		const struct bundle_artifact *a = &m->artifacts[i];
		if (a->member != BUNDLE_FIRST_ARTIFACT + i || a->size_bytes == 0 ||
		    !streq(a->name, bundle_member_to_string(a->member)))
			abort();
	}
	r = bundle_policy_check(&p, m, &e);
	if (r < 0 && (r != -EPERM || e.refusal < 0 || !e.message))
		abort();
	bundle_error_done(&e);
	bundle_manifest_free(m);
	return 0;
}
