/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A packet from a client of the daemon (anyone may connect), and a reply as a client
 * reads it. A request the daemon accepts must survive formatting and parsing again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ledger-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *payload = NULL, *payload2 = NULL;
	char *type = NULL, *type2 = NULL, *why = NULL, *req = NULL, *msg = NULL;
	uint64_t seq;
	size_t n = 0;
	int r;

	r = ledger_request_parse((const char *)data, size, &type, &payload, &why);
	if (r >= 0) {
		if (!ledger_type_is_valid(type) || ledger_type_is_reserved(type) || !payload)
			abort();
		if (ledger_request_format(type, payload, &req, &n) < 0)
			abort();
		free(why);
		why = NULL;
		if (ledger_request_parse(req, n, &type2, &payload2, &why) < 0 ||
		    strcmp(type, type2) != 0 ||
		    strcmp(json_format_compact(payload), json_format_compact(payload2)) != 0)
			abort();
	} else if (!why && r != -ENOMEM)
		abort();

	r = ledger_reply_parse((const char *)data, size, &seq, &msg);
	if (r == 0 && seq == 0)
		abort();

	if (payload)
		json_object_put(payload);
	if (payload2)
		json_object_put(payload2);
	free(type);
	free(type2);
	free(why);
	free(req);
	free(msg);
	return 0;
}
