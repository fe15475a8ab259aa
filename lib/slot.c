/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "version.h"
#include "slot.h"

static const char *const state_names[_SLOT_STATE_MAX] = {
	[SLOT_EMPTY] = "empty",
	[SLOT_GOOD] = "good",
	[SLOT_TRYING] = "trying",
	[SLOT_BAD] = "bad",
};

const char *slot_state_to_string(enum slot_state s)
{
	return s >= 0 && s < _SLOT_STATE_MAX ? state_names[s] : NULL;
}

void slot_entry_done(struct slot_entry *e)
{
	if (!e)
		return;
	e->file = mfree(e->file);
	e->name = mfree(e->name);
	e->version = mfree(e->version);
	*e = (struct slot_entry){};
}

static int parse_u32(const char *s, size_t n, uint32_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 9)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = (uint32_t)v;
	return 0;
}

static bool name_is_valid(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int slot_entry_parse(const char *file, struct slot_entry *ret)
{
	_cleanup_free_ char *base = NULL;
	uint32_t left = SLOT_TRIES_NONE, done = 0;
	const char *plus, *dash;
	char *version_start, *slot_dash;
	size_t n;

	if (!file || !endswith(file, ".efi") || strchr(file, '/'))
		return -EINVAL;
	n = strlen(file) - strlen(".efi");
	base = strndup(file, n);
	if (!base)
		return -ENOMEM;
	plus = strrchr(base, '+');
	if (plus) {
		const char *counter = plus + 1;

		dash = strchr(counter, '-');
		if (parse_u32(counter, dash ? (size_t)(dash - counter) : strlen(counter), &left) <
			    0 ||
		    (dash && parse_u32(dash + 1, strlen(dash + 1), &done) < 0))
			return -EINVAL;
		base[plus - base] = '\0';
	}
	/* "...-a" or "...-b" */
	n = strlen(base);
	if (n < 3 || base[n - 2] != '-' || (base[n - 1] != 'a' && base[n - 1] != 'b'))
		return -EINVAL;
	slot_dash = base + n - 2;
	*slot_dash = '\0';
	version_start = strrchr(base, '-');
	if (!version_start || !version_is_valid(version_start + 1) ||
	    !name_is_valid(base, (size_t)(version_start - base)))
		return -EINVAL;
	*version_start = '\0';

	struct slot_entry e = {
		.file = strdup(file),
		.name = strdup(base),
		.version = strdup(version_start + 1),
		.slot = slot_dash[1],
		.tries_left = left,
		.tries_done = done,
	};
	if (!e.file || !e.name || !e.version) {
		slot_entry_done(&e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

int slot_entry_format(const char *name, const char *version, char slot, uint32_t tries_left,
		      uint32_t tries_done, char **ret)
{
	int k;

	if (!name || !name_is_valid(name, strlen(name)) || !version_is_valid(version) ||
	    slot_index(slot) < 0)
		return -EINVAL;
	if (tries_left == SLOT_TRIES_NONE)
		k = asprintf(ret, "%s-%s-%c.efi", name, version, slot);
	else if (tries_done == 0)
		k = asprintf(ret, "%s-%s-%c+%" PRIu32 ".efi", name, version, slot, tries_left);
	else
		k = asprintf(ret, "%s-%s-%c+%" PRIu32 "-%" PRIu32 ".efi", name, version, slot,
			     tries_left, tries_done);
	return k < 0 ? -ENOMEM : 0;
}

enum slot_state slot_entry_state(const struct slot_entry *e)
{
	if (!e || !e->file)
		return SLOT_EMPTY;
	if (e->tries_left == SLOT_TRIES_NONE)
		return SLOT_GOOD;
	return e->tries_left > 0 ? SLOT_TRYING : SLOT_BAD;
}

void slot_table_done(struct slot_table *t)
{
	if (!t)
		return;
	slot_entry_done(&t->slots[0]);
	slot_entry_done(&t->slots[1]);
}

int slot_table_build(char *const *files, const char *name, struct slot_table *ret, char **ret_error)
{
	struct slot_table t = {};

	for (char *const *f = files; f && *f; f++) {
		struct slot_entry e;
		int i;

		if (slot_entry_parse(*f, &e) < 0)
			continue;
		if (name && !streq(e.name, name)) {
			slot_entry_done(&e);
			continue;
		}
		i = slot_index(e.slot);
		if (t.slots[i].file) {
			if (ret_error &&
			    asprintf(ret_error, "slot %c has two boot entries: %s and %s", e.slot,
				     t.slots[i].file, e.file) < 0)
				*ret_error = NULL;
			slot_entry_done(&e);
			slot_table_done(&t);
			return -ENOTUNIQ;
		}
		t.slots[i] = e;
	}
	*ret = t;
	return 0;
}

const struct slot_entry *slot_table_get(const struct slot_table *t, char slot)
{
	int i = slot_index(slot);

	if (i < 0 || !t->slots[i].file)
		return NULL;
	return &t->slots[i];
}

/* systemd-boot's order: entries with tries left (or no counter) before bad ones, then the
 * newest version, then the one with more tries left. <0: a comes first. */
static int entry_order(const struct slot_entry *a, const struct slot_entry *b)
{
	bool a_bad = slot_entry_state(a) == SLOT_BAD, b_bad = slot_entry_state(b) == SLOT_BAD;
	int k;

	if (a_bad != b_bad)
		return a_bad ? 1 : -1;
	k = version_compare(a->version, b->version);
	if (k != 0)
		return -k;
	if (a->tries_left != b->tries_left)
		return a->tries_left > b->tries_left ? -1 : 1;
	return a->slot < b->slot ? -1 : 1;
}

char slot_table_next(const struct slot_table *t)
{
	const struct slot_entry *a = slot_table_get(t, 'a'), *b = slot_table_get(t, 'b');

	if (!a)
		return b ? 'b' : 0;
	if (!b)
		return 'a';
	return entry_order(a, b) <= 0 ? 'a' : 'b';
}

char slot_table_find_version(const struct slot_table *t, const char *version)
{
	const struct slot_entry *a = slot_table_get(t, 'a'), *b = slot_table_get(t, 'b');
	bool in_a = a && version && streq(a->version, version);
	bool in_b = b && version && streq(b->version, version);

	if (in_a == in_b)
		return 0;
	return in_a ? 'a' : 'b';
}

int slot_plan_rollback(const struct slot_table *t, char slot, char **ret_from, char **ret_to)
{
	const struct slot_entry *want = slot_table_get(t, slot), *other;
	_cleanup_free_ char *from = NULL, *to = NULL;

	if (!want)
		return -ENOENT;
	if (slot_entry_state(want) == SLOT_BAD)
		return -EPERM;
	other = slot_table_get(t, slot_other(slot));
	if (other && slot_table_next(t) != slot) {
		from = strdup(other->file);
		if (!from)
			return -ENOMEM;
		if (slot_entry_format(other->name, other->version, other->slot, 0,
				      other->tries_left == SLOT_TRIES_NONE ? 0 : other->tries_done,
				      &to) < 0)
			return -ENOMEM;
	}
	*ret_from = TAKE_PTR(from);
	*ret_to = TAKE_PTR(to);
	return 0;
}

int slot_plan_mark_good(const struct slot_table *t, char slot, char **ret_from, char **ret_to)
{
	const struct slot_entry *e = slot_table_get(t, slot);
	_cleanup_free_ char *from = NULL, *to = NULL;

	if (!e)
		return -ENOENT;
	if (slot_entry_state(e) != SLOT_GOOD) {
		from = strdup(e->file);
		if (!from ||
		    slot_entry_format(e->name, e->version, e->slot, SLOT_TRIES_NONE, 0, &to) < 0)
			return -ENOMEM;
	}
	*ret_from = TAKE_PTR(from);
	*ret_to = TAKE_PTR(to);
	return 0;
}

static const char *const failed_action_names[_SLOT_FAILED_ACTION_MAX] = {
	[SLOT_FAILED_RETRY] = "retry",
	[SLOT_FAILED_FALL_BACK] = "fall-back",
	[SLOT_FAILED_STAY_GOOD] = "stay-good",
	[SLOT_FAILED_STAY_LAST] = "stay-last",
	[SLOT_FAILED_STAY_NO_ENTRY] = "stay-no-entry",
};

const char *slot_failed_action_to_string(enum slot_failed_action a)
{
	return a >= 0 && a < _SLOT_FAILED_ACTION_MAX ? failed_action_names[a] : NULL;
}

enum slot_failed_action slot_plan_failed_boot(const struct slot_table *t, char running)
{
	const struct slot_entry *e = slot_table_get(t, running);
	char next;

	switch (slot_entry_state(e)) {
	case SLOT_GOOD:
		return SLOT_FAILED_STAY_GOOD;
	case SLOT_TRYING:
		return SLOT_FAILED_RETRY;
	case SLOT_BAD:
		next = slot_table_next(t);
		if (next == slot_other(running) &&
		    slot_entry_state(slot_table_get(t, next)) != SLOT_BAD)
			return SLOT_FAILED_FALL_BACK;
		return SLOT_FAILED_STAY_LAST;
	default:
		return SLOT_FAILED_STAY_NO_ENTRY;
	}
}
