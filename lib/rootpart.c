/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "core/error.h"
#include "rootpart.h"

static const char *node_or_number(const struct disk_info *d, const struct partition_info *p,
				  char *buf, size_t n)
{
	if (p->node)
		return p->node;
	snprintf(buf, n, "%s partition %u", d->node, p->number);
	return buf;
}

/* Index of the partition of this type and name; -1 none, -2 more than one. */
static ssize_t find_part(const struct disk_info *d, const char *type, const char *name)
{
	ssize_t found = -1;

	for (size_t i = 0; i < d->n_partitions; i++) {
		const struct partition_info *p = &d->partitions[i];

		if (!p->type_uuid || strcasecmp(p->type_uuid, type) != 0 ||
		    !streq_ptr(p->name, name))
			continue;
		if (found >= 0)
			return -2;
		found = (ssize_t)i;
	}
	return found;
}

static bool has_part_uuid(const struct disk_info *d, const char *uuid)
{
	for (size_t i = 0; i < d->n_partitions; i++)
		if (d->partitions[i].uuid && strcasecmp(d->partitions[i].uuid, uuid) == 0)
			return true;
	return false;
}

/* Checks one disk: both partitions present and unique. */
static int check_disk(const struct disk_info *d, const char *root_name, const char *verity_name,
		      ssize_t *ret_root, ssize_t *ret_verity, char **ret_error)
{
	ssize_t root = find_part(d, GPT_ROOT_X86_64, root_name);
	ssize_t verity = find_part(d, GPT_ROOT_X86_64_VERITY, verity_name);
	char buf[64];

	if (root == -2 || verity == -2)
		return error_set(ret_error, -ENOTUNIQ,
				 "%s has more than one partition named %s; refusing to guess",
				 d->node, root == -2 ? root_name : verity_name);
	if (root < 0 && verity < 0)
		return error_set(ret_error, -ENOENT,
				 "%s has neither %s (type " GPT_ROOT_X86_64
				 ") nor %s (type " GPT_ROOT_X86_64_VERITY ")",
				 d->node, root_name, verity_name);
	if (root < 0)
		return error_set(ret_error, -ENOENT,
				 "%s (type " GPT_ROOT_X86_64 ") is missing on %s, next to %s (%s)",
				 root_name, d->node, verity_name,
				 node_or_number(d, &d->partitions[verity], buf, sizeof(buf)));
	if (verity < 0)
		return error_set(ret_error, -ENOENT,
				 "%s (type " GPT_ROOT_X86_64_VERITY
				 ") is missing on %s, next to %s (%s)",
				 verity_name, d->node, root_name,
				 node_or_number(d, &d->partitions[root], buf, sizeof(buf)));
	*ret_root = root;
	*ret_verity = verity;
	return 0;
}

int rootpart_select(struct disk_info *const *disks, size_t n_disks, char slot,
		    const char *boot_part_uuid, struct rootpart_choice *ret, char **ret_error)
{
	char root_name[16], verity_name[16];
	ssize_t root = -1, verity = -1;
	size_t n_candidates = 0, candidate = 0;
	char list[256] = "";
	int r;

	if (slot != 'a' && slot != 'b')
		return error_set(ret_error, -EINVAL, "slot '%c' is not a or b", slot);
	snprintf(root_name, sizeof(root_name), "root-%c", slot);
	snprintf(verity_name, sizeof(verity_name), "verity-%c", slot);

	if (boot_part_uuid) {
		for (size_t i = 0; i < n_disks; i++) {
			if (!has_part_uuid(disks[i], boot_part_uuid))
				continue;
			r = check_disk(disks[i], root_name, verity_name, &root, &verity, ret_error);
			if (r < 0)
				return r;
			*ret = (struct rootpart_choice){ .disk = i,
							 .root = (size_t)root,
							 .verity = (size_t)verity };
			return 0;
		}
		return error_set(
			ret_error, -EAGAIN,
			"the disk we booted from (LoaderDevicePartUUID=%s) has not appeared",
			boot_part_uuid);
	}

	for (size_t i = 0; i < n_disks; i++) {
		if (find_part(disks[i], GPT_ROOT_X86_64, root_name) == -1 &&
		    find_part(disks[i], GPT_ROOT_X86_64_VERITY, verity_name) == -1)
			continue;
		n_candidates++;
		candidate = i;
		if (strlen(list) + strlen(disks[i]->node) + 3 < sizeof(list)) {
			if (*list)
				memcpy(list + strlen(list), ", ", 3);
			memcpy(list + strlen(list), disks[i]->node, strlen(disks[i]->node) + 1);
		}
	}
	if (n_candidates == 0)
		return error_set(ret_error, -EAGAIN,
				 "no disk has a partition %s (type " GPT_ROOT_X86_64 ") or %s",
				 root_name, verity_name);
	if (n_candidates > 1)
		return error_set(
			ret_error, -ENOTUNIQ,
			"several disks carry slot %c (%s) and the boot loader did not say which "
			"one we booted from (no EFI variable LoaderDevicePartUUID); refusing to "
			"guess",
			slot, list);
	r = check_disk(disks[candidate], root_name, verity_name, &root, &verity, ret_error);
	if (r < 0)
		return r;
	*ret = (struct rootpart_choice){ .disk = candidate,
					 .root = (size_t)root,
					 .verity = (size_t)verity };
	return 0;
}

char rootpart_other_slot(char slot)
{
	assert(slot == 'a' || slot == 'b');
	return slot == 'a' ? 'b' : 'a';
}

size_t rootpart_slot_order(char named_slot, bool have_a, bool have_b, char ret[static 2])
{
	char other = rootpart_other_slot(named_slot);
	bool have_named = named_slot == 'a' ? have_a : have_b,
	     have_other = named_slot == 'a' ? have_b : have_a;
	size_t n = 0;

	if (have_named)
		ret[n++] = named_slot;
	if (have_other)
		ret[n++] = other;
	return n;
}

void rootpart_candidates_done(struct rootpart_candidates *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ELEMENTSOF(c->why_not); i++)
		c->why_not[i] = mfree(c->why_not[i]);
	c->n = 0;
}

int rootpart_select_slots(struct disk_info *const *disks, size_t n_disks, char named_slot,
			  const char *boot_part_uuid, struct rootpart_candidates *ret,
			  char **ret_error)
{
	struct rootpart_candidates c = {};
	struct rootpart_choice choice[2];
	char *error[2] = {};
	char order[2];
	int r[2], named, other;

	if (named_slot != 'a' && named_slot != 'b')
		return error_set(ret_error, -EINVAL, "slot '%c' is not a or b", named_slot);
	named = named_slot - 'a';
	other = 1 - named;
	for (int i = 0; i < 2; i++)
		r[i] = rootpart_select(disks, n_disks, (char)('a' + i), boot_part_uuid, &choice[i],
				       &error[i]);

	/* Ambiguity is never resolved by the other slot: refuse, naming the named one first. */
	for (int k = 0; k < 2; k++) {
		int i = k == 0 ? named : other;

		if (r[i] == -ENOTUNIQ) {
			if (ret_error)
				*ret_error = TAKE_PTR(error[i]);
			r[named] = -ENOTUNIQ;
			goto finish;
		}
	}
	if (r[0] == 0 && r[1] == 0 && choice[0].disk != choice[1].disk) {
		r[named] = error_set(
			ret_error, -ENOTUNIQ,
			"slot a is on %s and slot b on %s and the boot loader did not say "
			"which one we booted from (no EFI variable LoaderDevicePartUUID); "
			"refusing to guess",
			disks[choice[0].disk]->node, disks[choice[1].disk]->node);
		goto finish;
	}
	if (r[0] < 0 && r[1] < 0) {
		if (r[named] == -EAGAIN && r[other] == -EAGAIN) {
			if (boot_part_uuid) {
				if (ret_error)
					*ret_error = TAKE_PTR(error[named]);
			} else
				error_set(
					ret_error, -EAGAIN,
					"no disk has a partition root-a or root-b (type " GPT_ROOT_X86_64
					") or verity-a or verity-b (type " GPT_ROOT_X86_64_VERITY
					")");
		} else if (r[named] != -EAGAIN && r[other] != -EAGAIN) {
			error_set(ret_error, r[named], "%s; and %s", strna(error[named]),
				  strna(error[other]));
		} else {
			int i = r[named] != -EAGAIN ? named : other;

			r[named] = r[i];
			if (ret_error)
				*ret_error = TAKE_PTR(error[i]);
		}
		goto finish;
	}

	c.n = rootpart_slot_order(named_slot, r[0] == 0, r[1] == 0, order);
	for (size_t k = 0; k < c.n; k++)
		c.c[k] = (struct rootpart_candidate){ .slot = order[k],
						      .choice = choice[order[k] - 'a'] };
	for (int i = 0; i < 2; i++)
		if (r[i] < 0)
			c.why_not[i] = TAKE_PTR(error[i]) ?: strdup("not found");
	*ret = c;
	r[named] = 0;
finish:
	free(error[0]);
	free(error[1]);
	return r[named];
}

int rootpart_parse_loader_uuid(const void *data, size_t size, char ret[static 37])
{
	const uint8_t *d = data;
	char uuid[37];
	size_t n;

	if (size < 4 + 36 * 2)
		return -EINVAL;
	d += 4;
	size -= 4;
	n = size / 2;
	if (size % 2 != 0 || (n != 36 && n != 37) || (n == 37 && (d[72] || d[73])))
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		unsigned ch = d[2 * i] | (unsigned)d[2 * i + 1] << 8;
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? ch != '-' : (ch > 0x7f || !isxdigit((int)ch)))
			return -EINVAL;
		uuid[i] = (char)tolower((int)ch);
	}
	uuid[36] = '\0';
	memcpy(ret, uuid, sizeof(uuid));
	return 0;
}
