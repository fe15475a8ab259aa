/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Who may append to the ledger (airlock-ledger(8), POLICY). One rule per line:
 *
 *   # comment
 *   allow uid=0
 *   allow user=airlock-update type=update.*
 *   allow group=airlock-ledger-writers unit=airlock-*.service
 *
 * A rule allows a client when every condition it has matches what the kernel says
 * about the client: uid=N / user=NAME (its uid), gid=N / group=NAME (its primary or
 * any supplementary group), unit=GLOB (the systemd unit it runs in), and type=GLOB
 * (the record type it appends; any type if absent). A rule must name who it allows
 * (uid, user, gid, group or unit). Nothing else is allowed. Names are resolved when
 * the policy is loaded; an unknown one is an error.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ledger.h"

#define LEDGER_POLICY_DEFAULT "/etc/airlock/ledger.policy"

struct ledger_policy_rule {
	unsigned line;
	bool has_uid;
	uint32_t uid;
	bool has_gid;
	uint32_t gid;
	char *unit_glob;
	char *type_glob;
};

struct ledger_policy {
	char *path;
	struct ledger_policy_rule *rules;
	size_t n_rules;
};

/* -EBADMSG and "FILE:LINE: what is wrong" in *ret_error on a bad rule. */
int ledger_policy_load(const char *path, struct ledger_policy **ret, char **ret_error);
int ledger_policy_parse(const char *path, const char *text, struct ledger_policy **ret,
			char **ret_error);
struct ledger_policy *ledger_policy_free(struct ledger_policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ledger_policy *, ledger_policy_free);

/*
 * 0 and the line of the first rule that allows actor (with its supplementary groups)
 * to append a record of this type; -EACCES if none does. With type NULL: whether any
 * rule names the actor at all, whatever type it allows (the daemon reserves connection
 * slots for such clients).
 */
int ledger_policy_check(const struct ledger_policy *p, const struct ledger_actor *actor,
			const uint32_t *groups, size_t n_groups, const char *type,
			unsigned *ret_line);
