/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy file and the cgroup text the daemon names a client's unit from. The
 * first byte chooses which; the rest is the text.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ledger-policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *err = NULL, *unit = NULL;

	if (size < 1)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	if (data[0] & 1) {
		struct ledger_policy *p = NULL;
		int r = ledger_policy_parse("fuzz.policy", text, &p, &err);
		if (r >= 0) {
			struct ledger_actor a = {
				.uid = 0, .gid = 0, .pid = 1, .unit = (char *)"a.service"
			};
			uint32_t groups[] = { 1, 2 };
			(void)ledger_policy_check(p, &a, groups, 2, "x.y", NULL);
			ledger_policy_free(p);
		} else if (r == -EBADMSG && !err)
			abort();
	} else {
		int r = ledger_unit_from_cgroup(text, &unit);
		if (r >= 0 && (!unit || !*unit || strchr(unit, '/') || strchr(unit, '\n')))
			abort();
	}
	free(unit);
	free(err);
	free(text);
	return 0;
}
