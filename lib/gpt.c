/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/hex.h"
#include "ext/crypto.h"
#include "gpt.h"

/* The backup GPT (header + 128 entries) needs 33 sectors; leave a whole MiB. */
#define GPT_TAIL_BYTES GPT_ALIGN_BYTES

bool gpt_uuid_is_valid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

void gpt_uuid_from_bytes(const uint8_t id[16], char ret[GPT_UUID_STRING_MAX])
{
	char hex[33];
	size_t o = 0;

	hex_to_buf(id, 16, hex);
	for (size_t i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			ret[o++] = '-';
		ret[o++] = hex[i];
	}
	ret[o] = '\0';
}

int gpt_uuid_derive(const void *key, size_t key_size, const char *purpose,
		    char ret[GPT_UUID_STRING_MAX])
{
	uint8_t mac[SHA256_DIGEST_SIZE];
	int r;

	r = hmac_sha256(key, key_size, purpose, strlen(purpose), mac);
	if (r < 0)
		return r;
	mac[6] = (mac[6] & 0x0f) | 0x40; /* version 4 */
	mac[8] = (mac[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	gpt_uuid_from_bytes(mac, ret);
	return 0;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int name_is_valid(const char *name)
{
	return !isempty(name) && strlen(name) <= 36;
}

int gpt_plan(const char *disk_uuid, const struct gpt_spec *specs, size_t n_specs,
	     uint64_t disk_size_bytes, struct disklabel **ret)
{
	_cleanup_(disklabel_freep) struct disklabel *d = NULL;
	uint64_t offset = GPT_ALIGN_BYTES;

	if (!gpt_uuid_is_valid(disk_uuid) || (n_specs > 0 && !specs) || n_specs > 128)
		return -EINVAL;
	if (disk_size_bytes % GPT_ALIGN_BYTES != 0)
		disk_size_bytes -= disk_size_bytes % GPT_ALIGN_BYTES;
	d = new0(struct disklabel, 1);
	if (!d)
		return -ENOMEM;
	d->parts = new0(struct disklabel_part, n_specs);
	if (!d->parts)
		return -ENOMEM;
	d->sector_size = 0; /* whatever the device has: every position is a MiB multiple */
	memcpy(d->uuid, disk_uuid, 37);

	for (size_t i = 0; i < n_specs; i++) {
		const struct gpt_spec *s = &specs[i];
		struct disklabel_part *p = &d->parts[i];
		uint64_t size;

		if (!name_is_valid(s->name) || !gpt_uuid_is_valid(s->type_uuid) ||
		    !gpt_uuid_is_valid(s->uuid))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (streq(d->parts[j].name, s->name) ||
			    strcasecmp(d->parts[j].uuid, s->uuid) == 0)
				return -EINVAL;
		if (s->size_bytes == 0) {
			if (i + 1 != n_specs || disk_size_bytes == 0)
				return -EINVAL;
			if (disk_size_bytes < offset + GPT_ALIGN_BYTES + GPT_TAIL_BYTES)
				return -ENOSPC;
			size = disk_size_bytes - GPT_TAIL_BYTES - offset;
		} else {
			if (s->size_bytes > UINT64_MAX / 2)
				return -EFBIG;
			size = ALIGN_TO(s->size_bytes, GPT_ALIGN_BYTES);
		}
		p->partno = (unsigned)i;
		p->start_bytes = offset;
		p->size_bytes = size;
		memcpy(p->type_uuid, s->type_uuid, 37);
		memcpy(p->uuid, s->uuid, 37);
		lowercase(p->type_uuid);
		lowercase(p->uuid);
		snprintf(p->name, sizeof(p->name), "%s", s->name);
		p->attrs = s->attrs;
		offset += size;
		d->n_parts++;
	}
	lowercase(d->uuid);

	if (disk_size_bytes == 0)
		d->size_bytes = offset + GPT_TAIL_BYTES;
	else if (offset + GPT_TAIL_BYTES > disk_size_bytes)
		return -ENOSPC;
	else
		d->size_bytes = disk_size_bytes;
	*ret = TAKE_PTR(d);
	return 0;
}

static int device_size(const char *path, uint64_t *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t n;
		if (ioctl(fd, BLKGETSIZE64, &n) < 0)
			return -errno;
		*ret = n;
		return 0;
	}
	return -ENOTBLK;
}

int gpt_write(const char *path, const struct disklabel *d)
{
	uint64_t size = 0;
	int r;

	r = device_size(path, &size);
	if (r < 0)
		return r;
	if (size < d->size_bytes)
		return -ENOSPC;
	return disklabel_gpt_write(path, d);
}

int gpt_read(const char *path, struct disklabel **ret)
{
	return disklabel_gpt_read(path, ret);
}

const struct disklabel_part *gpt_find(const struct disklabel *d, const char *name)
{
	for (size_t i = 0; i < d->n_parts; i++)
		if (streq(d->parts[i].name, name))
			return &d->parts[i];
	return NULL;
}
