/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The updater's records in the audit ledger (airlock-ledger(8)): update.refused,
 * update.failed, update.imported, update.switched, update.rollback, update.marked-good,
 * through lib/ledger-client's recorder: where no ledger daemon runs (a build host, a
 * --disk run), that is said once and each record is logged instead; where one runs, a
 * record it does not take is an error, and the step it records does not happen.
 */
#include "ledger-client.h"
#include "update-tool.h"

static struct ledger_recorder recorder;

int record_open(const char *socket_path)
{
	return ledger_recorder_open(&recorder, socket_path,
				    "this run is NOT recorded in an audit ledger; its records are "
				    "logged instead");
}

int record_append(const char *type, struct json_object *payload)
{
	return ledger_recorder_append(&recorder, type, payload);
}
