/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The install's records in the audit ledger (airlock-ledger(8)): install.started,
 * install.disk-written, install.tpm-enrolled (or install.tpm-skipped), install.complete,
 * and install.failed when it stops short. Payloads name disks, versions, PCRs and
 * policy hashes, never a secret. Where no ledger daemon runs (a build host), that is
 * said once and the install goes on; where one runs, a record it does not take stops
 * the install, so that nothing happens without its record.
 */
#include "core/log.h"
#include "installer.h"
#include "ledger-client.h"

static const char *record_socket;
static bool record_up;

int record_open(const struct install_settings *s)
{
	int r = ledger_client_probe(s->ledger_socket,
				    "this install is NOT recorded in an audit ledger",
				    &record_socket);
	if (r < 0)
		return r;
	record_up = r > 0;
	return 0;
}

bool record_available(void)
{
	return record_up;
}

int record_append(const char *type, struct json_object *payload, char **ret_error)
{
	_cleanup_free_ char *error = NULL;
	uint64_t seq = 0;
	int r;

	if (!record_up)
		return 0;
	r = ledger_client_append(record_socket, type, payload, &seq, &error);
	if (r < 0)
		return error_replace(ret_error, r, "ledger: %s was not recorded at %s: %s", type,
				     record_socket, error ?: strerror(-r));
	log_debug("ledger: %s recorded as record %" PRIu64, type, seq);
	return 0;
}
