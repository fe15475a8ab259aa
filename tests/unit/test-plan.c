/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plan.c: the installer's six-partition layout, sizes, alignment, GUIDs, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>

#include "core/hex.h"
#include "gpt.h"
#include "plan.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define DISK_UUID "0ff1ce00-1234-4abc-8def-0123456789ab"
#define DATA_UUID "6de8e2cb-7d00-4a8c-9a26-3c1b3e0f4a5e"
#define ROOT_HASH "536179baa4a7b03a6296241c48e2bf3074561697914b79e8ac0fe894a7ec84a7"

static struct plan_input input(uint64_t disk)
{
	struct plan_input in = {
		.disk_size_bytes = disk,
		.sector_size = 512,
		.sizes = { .esp_bytes = 256 * MiB,
			   .root_bytes = 1 * GiB,
			   .verity_bytes = 64 * MiB,
			   .data_min_bytes = 1 * GiB },
		.root_content_bytes = 300 * MiB,
		.verity_content_bytes = 3 * MiB,
	};
	assert_int_equal(unhex_exact(ROOT_HASH, in.root_hash, 32), 0);
	memcpy(in.disk_uuid, DISK_UUID, sizeof(DISK_UUID));
	memcpy(in.data_uuid, DATA_UUID, sizeof(DATA_UUID));
	return in;
}

static void test_layout(void **state)
{
	_cleanup_(plan_freep) struct install_plan *p = NULL;
	struct plan_input in = input(8 * GiB + 12345);
	(void)state;

	assert_int_equal(plan_build(&in, &p, NULL), 0);
	assert_int_equal(p->layout->n_parts, 6);
	assert_string_equal(p->layout->uuid, DISK_UUID);
	for (int i = 0; i < _PLAN_PART_MAX; i++) {
		const struct disklabel_part *part = plan_partition(p, i);
		assert_non_null(part);
		assert_string_equal(part->name, plan_part_to_string(i));
		assert_int_equal(part->partno, (unsigned)i);
		/* 1 MiB alignment of every start and size */
		assert_int_equal(part->start_bytes % MiB, 0);
		assert_int_equal(part->size_bytes % MiB, 0);
		if (i > 0) {
			const struct disklabel_part *prev = plan_partition(p, i - 1);
			assert_int_equal(part->start_bytes, prev->start_bytes + prev->size_bytes);
		}
	}
	assert_int_equal(plan_partition(p, PLAN_ESP)->start_bytes, MiB);
	assert_int_equal(plan_partition(p, PLAN_ESP)->size_bytes, 256 * MiB);
	assert_int_equal(plan_partition(p, PLAN_ROOT_A)->size_bytes, GiB);
	assert_int_equal(plan_partition(p, PLAN_VERITY_A)->size_bytes, 64 * MiB);
	assert_int_equal(plan_partition(p, PLAN_ROOT_B)->size_bytes, GiB);
	assert_int_equal(plan_partition(p, PLAN_VERITY_B)->size_bytes, 64 * MiB);
	/* data takes the rest, up to the last MiB (backup GPT), of a disk rounded down */
	const struct disklabel_part *data = plan_partition(p, PLAN_DATA);
	assert_int_equal(data->start_bytes + data->size_bytes, 8 * GiB - MiB);
	assert_int_equal(data->start_bytes, MiB + 256 * MiB + 2 * (GiB + 64 * MiB));

	/* UAPI types and the read-only attribute of the slots */
	assert_string_equal(plan_partition(p, PLAN_ESP)->type_uuid, GPT_TYPE_ESP);
	assert_string_equal(plan_partition(p, PLAN_ROOT_A)->type_uuid, GPT_TYPE_ROOT_X86_64);
	assert_string_equal(plan_partition(p, PLAN_ROOT_B)->type_uuid, GPT_TYPE_ROOT_X86_64);
	assert_string_equal(plan_partition(p, PLAN_VERITY_A)->type_uuid,
			    GPT_TYPE_ROOT_X86_64_VERITY);
	assert_string_equal(plan_partition(p, PLAN_VERITY_B)->type_uuid,
			    GPT_TYPE_ROOT_X86_64_VERITY);
	assert_string_equal(data->type_uuid, GPT_TYPE_VAR);
	for (int i = PLAN_ROOT_A; i <= PLAN_VERITY_B; i++)
		assert_true(plan_partition(p, i)->attrs & GPT_ATTR_READ_ONLY);
	assert_int_equal(plan_partition(p, PLAN_ESP)->attrs, 0);
	assert_int_equal(data->attrs, 0);

	/* what is cleared first: the LUKS2 header area of data, a MiB of the others */
	assert_int_equal(p->clear[PLAN_DATA].offset_bytes, data->start_bytes);
	assert_int_equal(p->clear[PLAN_DATA].size_bytes, PLAN_LUKS_HEADER_BYTES);
	assert_int_equal(p->clear[PLAN_ESP].size_bytes, MiB);
	assert_int_equal(p->clear[PLAN_ROOT_B].offset_bytes,
			 plan_partition(p, PLAN_ROOT_B)->start_bytes);
}

static void test_guids(void **state)
{
	_cleanup_(plan_freep) struct install_plan *p = NULL, *q = NULL, *other = NULL;
	struct plan_input in = input(8 * GiB);
	char esp[GPT_UUID_STRING_MAX];
	(void)state;

	assert_int_equal(plan_build(&in, &p, NULL), 0);
	/* root-a / verity-a: the halves of the root hash (as on the medium) */
	assert_string_equal(plan_partition(p, PLAN_ROOT_A)->uuid,
			    "536179ba-a4a7-b03a-6296-241c48e2bf30");
	assert_string_equal(plan_partition(p, PLAN_VERITY_A)->uuid,
			    "74561697-914b-79e8-ac0f-e894a7ec84a7");
	/* data: the random GUID given; esp: derived from the disk GUID */
	assert_string_equal(plan_partition(p, PLAN_DATA)->uuid, DATA_UUID);
	assert_int_equal(gpt_uuid_derive(DISK_UUID, strlen(DISK_UUID), "airlock-esp", esp), 0);
	assert_string_equal(plan_partition(p, PLAN_ESP)->uuid, esp);
	assert_string_not_equal(plan_partition(p, PLAN_ROOT_B)->uuid,
				plan_partition(p, PLAN_VERITY_B)->uuid);

	/* same inputs, same plan */
	assert_int_equal(plan_build(&in, &q, NULL), 0);
	for (int i = 0; i < _PLAN_PART_MAX; i++)
		assert_string_equal(plan_partition(p, i)->uuid, plan_partition(q, i)->uuid);

	/* another install (another random disk GUID): another ESP GUID */
	memcpy(in.disk_uuid, "11111111-2222-4333-8444-555555555555", 37);
	assert_int_equal(plan_build(&in, &other, NULL), 0);
	assert_string_not_equal(plan_partition(p, PLAN_ESP)->uuid,
				plan_partition(other, PLAN_ESP)->uuid);
	assert_string_equal(plan_partition(p, PLAN_ROOT_A)->uuid,
			    plan_partition(other, PLAN_ROOT_A)->uuid);

	/* the disk and data GUIDs must differ */
	plan_free(TAKE_PTR(other));
	memcpy(in.disk_uuid, DATA_UUID, sizeof(DATA_UUID));
	assert_int_equal(plan_build(&in, &other, NULL), -EINVAL);
}

static void test_too_small(void **state)
{
	_cleanup_(plan_freep) struct install_plan *p = NULL;
	_cleanup_free_ char *error = NULL;
	struct plan_input in;
	uint64_t min = 0;
	(void)state;

	in = input(0);
	assert_int_equal(plan_min_disk_bytes(&in.sizes, &min), 0);
	/* 2 MiB of tables + esp + 2 slots + data minimum */
	assert_int_equal(min, 2 * MiB + 256 * MiB + 2 * (GiB + 64 * MiB) + GiB);

	/* exactly the minimum fits; data gets exactly its minimum */
	in = input(min);
	assert_int_equal(plan_build(&in, &p, NULL), 0);
	assert_int_equal(plan_partition(p, PLAN_DATA)->size_bytes, GiB);

	/* a MiB less is refused, with the numbers */
	in = input(min - MiB);
	assert_int_equal(plan_build(&in, &p, &error), -ENOSPC);
	assert_non_null(strstr(error, "too small"));
	assert_non_null(strstr(error, "3.4 GiB")); /* needs */
	{
		char needs[64];
		snprintf(needs, sizeof(needs), "(%" PRIu64 " bytes)", min);
		assert_non_null(strstr(error, needs));
	}
	free(TAKE_PTR(error));

	in = input(4 * GiB / 2);
	assert_int_equal(plan_build(&in, &p, &error), -ENOSPC);
	assert_non_null(strstr(error, "it has 2.0 GiB"));
}

static void test_refusals(void **state)
{
	_cleanup_(plan_freep) struct install_plan *p = NULL;
	_cleanup_free_ char *error = NULL;
	struct plan_input in;
	(void)state;

	/* the medium's root does not fit the slot size */
	in = input(8 * GiB);
	in.root_content_bytes = GiB + MiB;
	assert_int_equal(plan_build(&in, &p, &error), -EFBIG);
	assert_non_null(strstr(error, "root_size"));
	free(TAKE_PTR(error));

	in = input(8 * GiB);
	in.verity_content_bytes = 65 * MiB;
	assert_int_equal(plan_build(&in, &p, &error), -EFBIG);
	free(TAKE_PTR(error));

	/* sizes that make no sense */
	in = input(8 * GiB);
	in.sizes.root_bytes = 0;
	assert_int_equal(plan_build(&in, &p, &error), -EINVAL);
	free(TAKE_PTR(error));
	in = input(8 * GiB);
	in.sizes.esp_bytes = 16 * MiB;
	assert_int_equal(plan_build(&in, &p, &error), -EINVAL);
	assert_non_null(strstr(error, "FAT32"));
	free(TAKE_PTR(error));
	in = input(8 * GiB);
	in.sizes.data_min_bytes = 20 * MiB;
	assert_int_equal(plan_build(&in, &p, &error), -EINVAL);
	assert_non_null(strstr(error, "LUKS2"));
	free(TAKE_PTR(error));
	in = input(8 * GiB);
	in.sector_size = 1024;
	assert_int_equal(plan_build(&in, &p, NULL), -EINVAL);
	in = input(8 * GiB);
	memcpy(in.data_uuid, "not-a-guid", 11);
	assert_int_equal(plan_build(&in, &p, NULL), -EINVAL);
	assert_null(p);

	/* sizes are rounded up to a MiB */
	in = input(8 * GiB);
	in.sizes.verity_bytes = 64 * MiB + 1;
	in.verity_content_bytes = 65 * MiB;
	assert_int_equal(plan_build(&in, &p, NULL), 0);
	assert_int_equal(plan_partition(p, PLAN_VERITY_A)->size_bytes, 65 * MiB);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(plan_part_to_string(PLAN_VERITY_B), "verity-b");
	assert_int_equal(plan_part_from_string("data"), PLAN_DATA);
	assert_int_equal(plan_part_from_string("swap"), _PLAN_PART_INVALID);
	assert_null(plan_part_to_string(_PLAN_PART_MAX));
	assert_null(plan_partition(NULL, PLAN_ESP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),	  cmocka_unit_test(test_guids),
		cmocka_unit_test(test_too_small), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
