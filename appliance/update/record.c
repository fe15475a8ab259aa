/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The updater's records in the audit ledger (airlock-ledger(8)): update.refused,
 * update.failed, update.imported, update.switched, update.rollback, update.marked-good.
 * As the installer does: where no ledger daemon runs (a build host, a --disk run), that
 * is said once and each record is logged instead; where one runs, a record it does not
 * take is an error, and the step it records does not happen.
 */
#include <inttypes.h>

#include "core/log.h"
#include "ledger-client.h"
#include "update-tool.h"

static const char *record_socket;
static bool record_up;

int record_open(const char *socket_path)
{
	int r = ledger_client_probe(socket_path,
				    "this run is NOT recorded in an audit ledger; its records are "
				    "logged instead",
				    &record_socket);
	if (r < 0)
		return r;
	record_up = r > 0;
	return 0;
}

int record_append(const char *type, struct json_object *payload)
{
	_cleanup_(json_object_putp) struct json_object *p = payload;
	_cleanup_free_ char *error = NULL;
	uint64_t seq = 0;
	int r;

	if (!p)
		return log_oom();
	if (!record_up) {
		log_info("ledger (not recorded): %s %s", type,
			 json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	r = ledger_client_append(record_socket, type, p, &seq, &error);
	if (r < 0)
		return log_error_errno(r, "ledger: %s was not recorded at %s: %s", type,
				       record_socket, error ?: strerror(-r));
	log_debug("ledger: %s recorded as record %" PRIu64, type, seq);
	return 0;
}
