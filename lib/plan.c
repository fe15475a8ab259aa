/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "core/error.h"
#include "core/parse.h"
#include "gpt.h"
#include "plan.h"

static const char *const part_names[_PLAN_PART_MAX] = {
	[PLAN_ESP] = "esp",	  [PLAN_ROOT_A] = "root-a",	[PLAN_VERITY_A] = "verity-a",
	[PLAN_ROOT_B] = "root-b", [PLAN_VERITY_B] = "verity-b", [PLAN_DATA] = "data",
};

const char *plan_part_to_string(enum plan_part p)
{
	return p >= 0 && p < _PLAN_PART_MAX ? part_names[p] : NULL;
}

enum plan_part plan_part_from_string(const char *s)
{
	for (int i = 0; i < _PLAN_PART_MAX; i++)
		if (streq_ptr(s, part_names[i]))
			return (enum plan_part)i;
	return _PLAN_PART_INVALID;
}

struct install_plan *plan_free(struct install_plan *p)
{
	if (!p)
		return NULL;
	disklabel_free(p->layout);
	free(p);
	return NULL;
}

static uint64_t align_up(uint64_t v)
{
	return ALIGN_TO(v, PLAN_ALIGN_BYTES);
}

int plan_min_disk_bytes(const struct plan_sizes *s, uint64_t *ret)
{
	const uint64_t limit = UINT64_C(1) << 60; /* an exabyte: no size is near this */
	uint64_t total;

	if (s->esp_bytes == 0 || s->root_bytes == 0 || s->verity_bytes == 0 ||
	    s->data_min_bytes == 0)
		return -EINVAL;
	if (s->esp_bytes > limit || s->root_bytes > limit || s->verity_bytes > limit ||
	    s->data_min_bytes > limit)
		return -EINVAL;
	total = PLAN_TABLE_BYTES + align_up(s->esp_bytes) +
		2 * (align_up(s->root_bytes) + align_up(s->verity_bytes)) +
		align_up(s->data_min_bytes);
	*ret = total;
	return 0;
}

static const char *fmt_size(char buf[FORMAT_BYTES_MAX], uint64_t v)
{
	return format_bytes(buf, FORMAT_BYTES_MAX, v);
}

int plan_build(const struct plan_input *in, struct install_plan **ret, char **ret_error)
{
	_cleanup_(plan_freep) struct install_plan *p = NULL;
	char esp_uuid[GPT_UUID_STRING_MAX], root_uuid[GPT_UUID_STRING_MAX],
		verity_uuid[GPT_UUID_STRING_MAX], root_b_uuid[GPT_UUID_STRING_MAX],
		verity_b_uuid[GPT_UUID_STRING_MAX];
	char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX], c[FORMAT_BYTES_MAX], d[FORMAT_BYTES_MAX],
		e[FORMAT_BYTES_MAX], f[FORMAT_BYTES_MAX];
	const struct plan_sizes *s = &in->sizes;
	uint64_t min_bytes, disk_bytes;
	int r;

	if (in->sector_size != 512 && in->sector_size != 4096)
		return error_set(ret_error, -EINVAL,
				 "logical sector size %" PRIu32 " is not supported (512 or 4096)",
				 in->sector_size);
	r = plan_min_disk_bytes(s, &min_bytes);
	if (r < 0)
		return error_set(ret_error, r,
				 "the image's disk sizes are invalid: esp %" PRIu64
				 ", root %" PRIu64 ", verity %" PRIu64 ", data-min %" PRIu64
				 " bytes",
				 s->esp_bytes, s->root_bytes, s->verity_bytes, s->data_min_bytes);
	if (s->esp_bytes < PLAN_ESP_MIN_BYTES)
		return error_set(ret_error, -EINVAL,
				 "the image's esp_size %s is below the %s a FAT32 ESP needs",
				 fmt_size(a, s->esp_bytes), fmt_size(b, PLAN_ESP_MIN_BYTES));
	if (s->data_min_bytes < PLAN_DATA_MIN_BYTES)
		return error_set(ret_error, -EINVAL,
				 "the image's data_min_size %s is below %s (the LUKS2 header alone "
				 "takes %s)",
				 fmt_size(a, s->data_min_bytes), fmt_size(b, PLAN_DATA_MIN_BYTES),
				 fmt_size(c, PLAN_LUKS_HEADER_BYTES));
	if (in->root_content_bytes > align_up(s->root_bytes))
		return error_set(ret_error, -EFBIG,
				 "the medium's root-a holds %s, more than the image's root_size %s",
				 fmt_size(a, in->root_content_bytes), fmt_size(b, s->root_bytes));
	if (in->verity_content_bytes > align_up(s->verity_bytes))
		return error_set(
			ret_error, -EFBIG,
			"the medium's verity-a holds %s, more than the image's verity_size %s",
			fmt_size(a, in->verity_content_bytes), fmt_size(b, s->verity_bytes));

	disk_bytes = in->disk_size_bytes - in->disk_size_bytes % PLAN_ALIGN_BYTES;
	if (disk_bytes < min_bytes)
		return error_set(ret_error, -ENOSPC,
				 "the disk is too small: it has %s (%" PRIu64
				 " bytes), the image needs at least %s (%" PRIu64
				 " bytes): ESP %s, two slots of root %s + verity %s, data at least "
				 "%s, and 2 MiB for the partition tables",
				 fmt_size(a, in->disk_size_bytes), in->disk_size_bytes,
				 fmt_size(b, min_bytes), min_bytes, fmt_size(c, s->esp_bytes),
				 fmt_size(d, s->root_bytes), fmt_size(e, s->verity_bytes),
				 fmt_size(f, s->data_min_bytes));

	if (!gpt_uuid_is_valid(in->disk_uuid) || !gpt_uuid_is_valid(in->data_uuid))
		return error_set(ret_error, -EINVAL, "invalid disk or data partition GUID");
	if (strcasecmp(in->disk_uuid, in->data_uuid) == 0)
		return error_set(ret_error, -EINVAL, "the disk and data GUIDs are the same");

	gpt_uuid_from_bytes(in->root_hash, root_uuid);
	gpt_uuid_from_bytes(in->root_hash + 16, verity_uuid);
	if ((r = gpt_uuid_derive(in->disk_uuid, strlen(in->disk_uuid), "airlock-esp", esp_uuid)) <
		    0 ||
	    (r = gpt_uuid_derive(in->disk_uuid, strlen(in->disk_uuid), "airlock-root-b",
				 root_b_uuid)) < 0 ||
	    (r = gpt_uuid_derive(in->disk_uuid, strlen(in->disk_uuid), "airlock-verity-b",
				 verity_b_uuid)) < 0)
		return error_set(ret_error, r, "deriving partition GUIDs: %s", strerror(-r));

	const struct gpt_spec specs[_PLAN_PART_MAX] = {
		[PLAN_ESP] = { "esp", GPT_TYPE_ESP, esp_uuid, s->esp_bytes, 0 },
		[PLAN_ROOT_A] = { "root-a", GPT_TYPE_ROOT_X86_64, root_uuid, s->root_bytes,
				  GPT_ATTR_READ_ONLY },
		[PLAN_VERITY_A] = { "verity-a", GPT_TYPE_ROOT_X86_64_VERITY, verity_uuid,
				    s->verity_bytes, GPT_ATTR_READ_ONLY },
		[PLAN_ROOT_B] = { "root-b", GPT_TYPE_ROOT_X86_64, root_b_uuid, s->root_bytes,
				  GPT_ATTR_READ_ONLY },
		[PLAN_VERITY_B] = { "verity-b", GPT_TYPE_ROOT_X86_64_VERITY, verity_b_uuid,
				    s->verity_bytes, GPT_ATTR_READ_ONLY },
		[PLAN_DATA] = { "data", GPT_TYPE_VAR, in->data_uuid, 0, 0 },
	};

	p = new0(struct install_plan, 1);
	if (!p)
		return -ENOMEM;
	r = gpt_plan(in->disk_uuid, specs, _PLAN_PART_MAX, disk_bytes, &p->layout);
	if (r < 0)
		return error_set(ret_error, r, "laying out the partitions: %s", strerror(-r));
	p->layout->sector_size = in->sector_size;
	p->disk_size_bytes = in->disk_size_bytes;
	p->min_disk_bytes = min_bytes;
	memcpy(p->root_hash, in->root_hash, sizeof(p->root_hash));

	for (int i = 0; i < _PLAN_PART_MAX; i++) {
		const struct disklabel_part *part = &p->layout->parts[i];
		uint64_t n = i == PLAN_DATA ? PLAN_LUKS_HEADER_BYTES : PLAN_CLEAR_BYTES;

		/* gpt_plan() keeps the order of the specs and starts at 1 MiB. */
		assert(streq(part->name, part_names[i]));
		p->clear[i] = (struct plan_range){
			.offset_bytes = part->start_bytes,
			.size_bytes = MIN(n, part->size_bytes),
		};
	}
	if (p->layout->parts[PLAN_DATA].size_bytes < align_up(s->data_min_bytes))
		return error_set(ret_error, -ENOSPC, "the data partition would be too small");

	*ret = TAKE_PTR(p);
	return 0;
}

const struct disklabel_part *plan_partition(const struct install_plan *p, enum plan_part part)
{
	if (!p || !p->layout || part < 0 || part >= _PLAN_PART_MAX ||
	    (size_t)part >= p->layout->n_parts)
		return NULL;
	return &p->layout->parts[part];
}
