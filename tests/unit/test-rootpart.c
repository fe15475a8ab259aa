/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rootpart.h"

#define LINUX_DATA "0fc63daf-8483-4772-8e79-3d69d8477de4"

/* A disk like DESIGN.md's layout; parts is a string of partition letters to include:
 * e esp, A root-a, a verity-a, B root-b, b verity-b, x root-a of the wrong type. */
static struct disk_info *disk(const char *node, const char *parts, const char *uuid_prefix)
{
	struct disk_info *d = calloc(1, sizeof(*d));
	size_t n = strlen(parts);

	assert_non_null(d);
	d->node = strdup(node);
	d->table_type = strdup("gpt");
	d->partitions = calloc(n, sizeof(struct partition_info));
	for (size_t i = 0; i < n; i++) {
		struct partition_info *p = &d->partitions[i];
		const char *type = NULL, *name = NULL;

		switch (parts[i]) {
		case 'e':
			type = GPT_ESP, name = "esp";
			break;
		case 'A':
			type = GPT_ROOT_X86_64, name = "root-a";
			break;
		case 'a':
			type = GPT_ROOT_X86_64_VERITY, name = "verity-a";
			break;
		case 'B':
			type = GPT_ROOT_X86_64, name = "root-b";
			break;
		case 'b':
			type = GPT_ROOT_X86_64_VERITY, name = "verity-b";
			break;
		case 'x':
			type = LINUX_DATA, name = "root-a";
			break;
		default:
			fail();
		}
		p->number = (unsigned)i + 1;
		p->type_uuid = strdup(type);
		p->name = strdup(name);
		assert_true(asprintf(&p->node, "%s%zu", node, i + 1) > 0);
		assert_true(asprintf(&p->uuid, "%s-0000-0000-0000-00000000000%zu", uuid_prefix,
				     i + 1) > 0);
	}
	d->n_partitions = n;
	return d;
}

static void free_disks(struct disk_info **d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		disk_info_free(d[i]);
}

static void expect_error(struct disk_info **d, size_t n, char slot, const char *boot, int r,
			 const char *fragment)
{
	struct rootpart_choice c = { .disk = 99 };
	_cleanup_free_ char *error = NULL;

	assert_int_equal(rootpart_select(d, n, slot, boot, &c, &error), r);
	assert_non_null(error);
	if (!strstr(error, fragment))
		fail_msg("'%s' does not contain '%s'", error, fragment);
	assert_int_equal(c.disk, 99);
}

static void test_single_disk(void **state)
{
	struct disk_info *d[] = { disk("/dev/vda", "eAaBb", "aaaaaaaa") };
	struct rootpart_choice c;
	(void)state;

	assert_int_equal(rootpart_select(d, 1, 'a', NULL, &c, NULL), 0);
	assert_int_equal(c.disk, 0);
	assert_string_equal(d[0]->partitions[c.root].node, "/dev/vda2");
	assert_string_equal(d[0]->partitions[c.verity].node, "/dev/vda3");
	assert_int_equal(rootpart_select(d, 1, 'b', NULL, &c, NULL), 0);
	assert_string_equal(d[0]->partitions[c.root].node, "/dev/vda4");
	assert_string_equal(d[0]->partitions[c.verity].node, "/dev/vda5");
	/* type is compared case-insensitively */
	free(d[0]->partitions[1].type_uuid);
	d[0]->partitions[1].type_uuid = strdup("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
	assert_int_equal(rootpart_select(d, 1, 'a', NULL, &c, NULL), 0);
	expect_error(d, 1, 'c', NULL, -EINVAL, "slot");
	free_disks(d, 1);
}

static void test_missing(void **state)
{
	struct disk_info *no_verity[] = { disk("/dev/vda", "eA", "aaaaaaaa") };
	struct disk_info *no_root[] = { disk("/dev/vda", "ea", "aaaaaaaa") };
	struct disk_info *nothing[] = { disk("/dev/vda", "e", "aaaaaaaa"),
					disk("/dev/vdb", "xa", "bbbbbbbb") };
	(void)state;

	expect_error(no_verity, 1, 'a', NULL, -ENOENT,
		     "verity-a (type " GPT_ROOT_X86_64_VERITY ") is missing on /dev/vda, next to "
		     "root-a (/dev/vda2)");
	expect_error(no_root, 1, 'a', NULL, -ENOENT,
		     "root-a (type " GPT_ROOT_X86_64 ") is missing");
	/* nothing yet: the caller may wait */
	expect_error(nothing, 1, 'a', NULL, -EAGAIN, "no disk has a partition root-a");
	expect_error(nothing, 0, 'a', NULL, -EAGAIN, "no disk");
	/* a root-a of the wrong type does not count; the verity half alone is not enough */
	expect_error(nothing, 2, 'a', NULL, -ENOENT,
		     "root-a (type " GPT_ROOT_X86_64 ") is missing on /dev/vdb");
	/* the other slot is not a substitute */
	expect_error(no_verity, 1, 'b', NULL, -EAGAIN, "root-b");
	free_disks(no_verity, 1);
	free_disks(no_root, 1);
	free_disks(nothing, 2);
}

static void test_several_disks(void **state)
{
	/* an installed disk and the installer's USB stick, both with slot a */
	struct disk_info *d[] = { disk("/dev/nvme0n1", "eAaBb", "11111111"),
				  disk("/dev/sda", "eAa", "22222222") };
	struct rootpart_choice c;
	(void)state;

	expect_error(d, 2, 'a', NULL, -ENOTUNIQ,
		     "several disks carry slot a (/dev/nvme0n1, /dev/sda) and the boot loader did "
		     "not say");
	/* booted from the stick's ESP */
	assert_int_equal(
		rootpart_select(d, 2, 'a', "22222222-0000-0000-0000-000000000001", &c, NULL), 0);
	assert_int_equal(c.disk, 1);
	assert_string_equal(d[1]->partitions[c.root].node, "/dev/sda2");
	/* booted from the installed disk (the UUID's case does not matter) */
	assert_int_equal(
		rootpart_select(d, 2, 'a', "11111111-0000-0000-0000-000000000001", &c, NULL), 0);
	assert_int_equal(c.disk, 0);
	assert_string_equal(d[0]->partitions[c.verity].node, "/dev/nvme0n13");
	/* slot b exists only on the installed disk */
	assert_int_equal(rootpart_select(d, 2, 'b', NULL, &c, NULL), 0);
	assert_int_equal(c.disk, 0);
	/* booted from the stick, which has no slot b: never fall back to the other disk */
	expect_error(d, 2, 'b', "22222222-0000-0000-0000-000000000001", -ENOENT,
		     "/dev/sda has neither root-b");
	/* the boot disk has not appeared yet */
	expect_error(d, 2, 'a', "33333333-0000-0000-0000-000000000001", -EAGAIN,
		     "LoaderDevicePartUUID=33333333");
	free_disks(d, 2);
}

static void test_duplicates(void **state)
{
	struct disk_info *d[] = { disk("/dev/vda", "eAaA", "aaaaaaaa") };
	struct rootpart_choice c;
	(void)state;

	expect_error(d, 1, 'a', NULL, -ENOTUNIQ, "more than one partition named root-a");
	expect_error(d, 1, 'a', "aaaaaaaa-0000-0000-0000-000000000001", -ENOTUNIQ,
		     "more than one partition named root-a");
	assert_int_equal(rootpart_select(d, 1, 'b', NULL, &c, NULL), -EAGAIN);
	free_disks(d, 1);
}

static void test_slot_order(void **state)
{
	char o[2];
	(void)state;

	/* the named slot first, then the other, each only if found */
	assert_int_equal(rootpart_slot_order('a', true, true, o), 2);
	assert_int_equal(o[0], 'a');
	assert_int_equal(o[1], 'b');
	assert_int_equal(rootpart_slot_order('b', true, true, o), 2);
	assert_int_equal(o[0], 'b');
	assert_int_equal(o[1], 'a');
	/* the update's UKI says a, the update is in b and a is gone */
	assert_int_equal(rootpart_slot_order('a', false, true, o), 1);
	assert_int_equal(o[0], 'b');
	assert_int_equal(rootpart_slot_order('b', true, false, o), 1);
	assert_int_equal(o[0], 'a');
	assert_int_equal(rootpart_slot_order('a', true, false, o), 1);
	assert_int_equal(o[0], 'a');
	assert_int_equal(rootpart_slot_order('b', false, true, o), 1);
	assert_int_equal(o[0], 'b');
	assert_int_equal(rootpart_slot_order('a', false, false, o), 0);
	assert_int_equal(rootpart_slot_order('b', false, false, o), 0);
	assert_int_equal(rootpart_other_slot('a'), 'b');
	assert_int_equal(rootpart_other_slot('b'), 'a');
}

static void expect_slots_error(struct disk_info **d, size_t n, char slot, const char *boot, int r,
			       const char *fragment)
{
	struct rootpart_candidates c = { .n = 99 };
	_cleanup_free_ char *error = NULL;

	assert_int_equal(rootpart_select_slots(d, n, slot, boot, &c, &error), r);
	assert_non_null(error);
	if (!strstr(error, fragment))
		fail_msg("'%s' does not contain '%s'", error, fragment);
	assert_int_equal(c.n, 99);
}

static void test_select_slots(void **state)
{
	struct disk_info *both[] = { disk("/dev/vda", "eAaBb", "aaaaaaaa") };
	struct disk_info *only_b[] = { disk("/dev/vda", "eBb", "aaaaaaaa") };
	/* an import into b that lost power: root-b written, verity-b not yet */
	struct disk_info *half_b[] = { disk("/dev/vda", "eAaB", "aaaaaaaa") };
	struct disk_info *half_a[] = { disk("/dev/vda", "eA", "aaaaaaaa") };
	struct disk_info *halves[] = { disk("/dev/vda", "eAb", "aaaaaaaa") };
	struct disk_info *split[] = { disk("/dev/vda", "eAa", "aaaaaaaa"),
				      disk("/dev/vdb", "eBb", "bbbbbbbb") };
	struct disk_info *dup_b[] = { disk("/dev/vda", "eAaBbB", "aaaaaaaa") };
	struct rootpart_candidates c = {};
	(void)state;

	assert_int_equal(rootpart_select_slots(both, 1, 'a', NULL, &c, NULL), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.c[0].slot, 'a');
	assert_string_equal(both[0]->partitions[c.c[0].choice.root].node, "/dev/vda2");
	assert_int_equal(c.c[1].slot, 'b');
	assert_string_equal(both[0]->partitions[c.c[1].choice.verity].node, "/dev/vda5");
	assert_null(c.why_not[0]);
	assert_null(c.why_not[1]);
	rootpart_candidates_done(&c);

	assert_int_equal(rootpart_select_slots(both, 1, 'b', "aaaaaaaa-0000-0000-0000-000000000001",
					       &c, NULL),
			 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.c[0].slot, 'b');
	assert_int_equal(c.c[1].slot, 'a');
	rootpart_candidates_done(&c);

	/* named a, only b on the disk: b, and why a is not there */
	assert_int_equal(rootpart_select_slots(only_b, 1, 'a', NULL, &c, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].slot, 'b');
	assert_string_equal(only_b[0]->partitions[c.c[0].choice.root].node, "/dev/vda2");
	assert_non_null(c.why_not[0]);
	assert_non_null(strstr(c.why_not[0], "root-a"));
	assert_null(c.why_not[1]);
	rootpart_candidates_done(&c);
	assert_int_equal(rootpart_select_slots(only_b, 1, 'a',
					       "aaaaaaaa-0000-0000-0000-000000000001", &c, NULL),
			 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].slot, 'b');
	assert_non_null(strstr(c.why_not[0], "/dev/vda has neither root-a"));
	rootpart_candidates_done(&c);

	/* a half-written other slot is no candidate and no reason to refuse */
	assert_int_equal(rootpart_select_slots(half_b, 1, 'a', NULL, &c, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].slot, 'a');
	assert_non_null(strstr(c.why_not[1], "verity-b"));
	rootpart_candidates_done(&c);
	assert_int_equal(rootpart_select_slots(half_b, 1, 'b', NULL, &c, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].slot, 'a');
	rootpart_candidates_done(&c);

	/* nothing complete: the named slot's reason (the message the one-slot boot gave) */
	expect_slots_error(half_a, 1, 'a', NULL, -ENOENT,
			   "verity-a (type " GPT_ROOT_X86_64_VERITY
			   ") is missing on /dev/vda, next to root-a (/dev/vda2)");
	expect_slots_error(half_a, 1, 'b', NULL, -ENOENT, "verity-a (type");
	expect_slots_error(half_a, 1, 'b', "aaaaaaaa-0000-0000-0000-000000000001", -ENOENT,
			   "/dev/vda has neither root-b");
	expect_slots_error(halves, 1, 'a', NULL, -ENOENT, "verity-a (type");
	expect_slots_error(halves, 1, 'a', NULL, -ENOENT, "; and root-b (type");
	/* nothing yet */
	expect_slots_error(both, 0, 'a', NULL, -EAGAIN, "no disk has a partition root-a or root-b");
	expect_slots_error(both, 1, 'a', "cccccccc-0000-0000-0000-000000000001", -EAGAIN,
			   "LoaderDevicePartUUID=cccccccc");

	/* never guess between disks or duplicates */
	expect_slots_error(split, 2, 'a', NULL, -ENOTUNIQ,
			   "slot a is on /dev/vda and slot b on /dev/vdb");
	assert_int_equal(rootpart_select_slots(split, 2, 'a',
					       "bbbbbbbb-0000-0000-0000-000000000001", &c, NULL),
			 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].slot, 'b');
	assert_int_equal(c.c[0].choice.disk, 1);
	rootpart_candidates_done(&c);
	expect_slots_error(dup_b, 1, 'a', NULL, -ENOTUNIQ, "more than one partition named root-b");
	expect_slots_error(both, 1, 'x', NULL, -EINVAL, "slot");

	free_disks(both, 1);
	free_disks(only_b, 1);
	free_disks(half_b, 1);
	free_disks(half_a, 1);
	free_disks(halves, 1);
	free_disks(split, 2);
	free_disks(dup_b, 1);
}

static size_t utf16(const char *s, uint8_t *out, bool nul)
{
	size_t n = 4;

	memcpy(out, "\x06\0\0\0", 4); /* attributes */
	for (; *s; s++) {
		out[n++] = (uint8_t)*s;
		out[n++] = 0;
	}
	if (nul) {
		out[n++] = 0;
		out[n++] = 0;
	}
	return n;
}

static void test_loader_uuid(void **state)
{
	uint8_t buf[128];
	char uuid[37];
	size_t n;
	(void)state;

	n = utf16("6B1E5A2C-84F0-4F2A-9D3E-0123456789AB", buf, true);
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), 0);
	assert_string_equal(uuid, "6b1e5a2c-84f0-4f2a-9d3e-0123456789ab");
	n = utf16("6b1e5a2c-84f0-4f2a-9d3e-0123456789ab", buf, false);
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), 0);

	n = utf16("6b1e5a2c-84f0-4f2a-9d3e-0123456789a", buf, false);
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), -EINVAL);
	n = utf16("6b1e5a2c+84f0-4f2a-9d3e-0123456789ab", buf, false);
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), -EINVAL);
	n = utf16("6b1e5a2c-84f0-4f2a-9d3e-0123456789ag", buf, false);
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), -EINVAL);
	n = utf16("6b1e5a2c-84f0-4f2a-9d3e-0123456789ab", buf, true);
	buf[n - 1] = 'x';
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), -EINVAL);
	assert_int_equal(rootpart_parse_loader_uuid(buf, 3, uuid), -EINVAL);
	/* a non-ASCII UTF-16 unit whose low byte looks like a digit */
	n = utf16("6b1e5a2c-84f0-4f2a-9d3e-0123456789ab", buf, false);
	buf[5] = 0x01;
	assert_int_equal(rootpart_parse_loader_uuid(buf, n, uuid), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_disk),   cmocka_unit_test(test_missing),
		cmocka_unit_test(test_several_disks), cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_loader_uuid),   cmocka_unit_test(test_slot_order),
		cmocka_unit_test(test_select_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
