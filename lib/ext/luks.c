/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/log.h"
#include "ext/luks.h"

/* LUKS2 on-disk format: the binary header (one per copy) is 4096 bytes. */
#define LUKS2_BINARY_HEADER_SIZE 4096U
#define LUKS2_MAGIC_PRIMARY "LUKS\xba\xbe"
#define LUKS2_MAGIC_SECONDARY "SKUL\xba\xbe"
#define LUKS2_MAGIC_SIZE 6U
#define LUKS2_HDR_SIZE_OFFSET 8U /* big-endian uint64: binary header + JSON area */

/* LUKS2 has at most this many tokens. */
#define LUKS2_TOKENS_MAX 32

const struct luks_pbkdf luks_pbkdf_tpm2 = {
	.type = LUKS_PBKDF_PBKDF2,
	.hash = "sha512",
	.iterations = 1000,
};

struct luks_volume {
	struct crypt_device *cd;
	struct luks_pbkdf pbkdf; /* the format's default */
	bool have_pbkdf;
};

static void log_cb(int level, const char *msg, void *userdata)
{
	size_t n = strlen(msg);
	(void)level;
	(void)userdata;
	/* libcryptsetup never puts a passphrase or key in its messages. */
	log_debug("libcryptsetup: %.*s", (int)(n > 0 && msg[n - 1] == '\n' ? n - 1 : n), msg);
}

static int init_device(const char *path, struct crypt_device **ret)
{
	int r;

	crypt_set_log_callback(NULL, log_cb, NULL);
	r = crypt_init(ret, path);
	if (r < 0)
		return r;
	crypt_set_log_callback(*ret, log_cb, NULL);
	return 0;
}

static int pbkdf_to_crypt(const struct luks_pbkdf *p, struct crypt_pbkdf_type *ret)
{
	switch (p->type) {
	case LUKS_PBKDF_ARGON2ID:
		*ret = (struct crypt_pbkdf_type){
			.type = CRYPT_KDF_ARGON2ID,
			.hash = "sha256",
			.iterations = p->iterations,
			.max_memory_kb = p->memory_kib,
			.parallel_threads = p->parallel ?: 1,
		};
		break;
	case LUKS_PBKDF_PBKDF2:
		*ret = (struct crypt_pbkdf_type){
			.type = CRYPT_KDF_PBKDF2,
			.hash = p->hash ?: "sha256",
			.iterations = p->iterations,
		};
		break;
	default:
		return -EINVAL;
	}
	if (p->iterations > 0) {
		ret->flags = CRYPT_PBKDF_NO_BENCHMARK;
		/* Unused without a benchmark, but libcryptsetup wants a non-zero value. */
		ret->time_ms = 1;
	} else
		ret->time_ms = p->time_ms ?: 2000;
	return 0;
}

static int set_pbkdf(struct luks_volume *v, const struct luks_pbkdf *p)
{
	struct crypt_pbkdf_type t;
	int r = pbkdf_to_crypt(p, &t);

	if (r < 0)
		return r;
	return crypt_set_pbkdf_type(v->cd, &t);
}

int luks_format(const char *path, const struct luks_format_params *p, struct luks_volume **ret)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	struct crypt_pbkdf_type pbkdf;
	struct crypt_params_luks2 params = {
		.label = p ? p->label : NULL,
		.sector_size = p ? p->sector_size : 0,
	};
	int r;

	v = new0(struct luks_volume, 1);
	if (!v)
		return -ENOMEM;
	r = init_device(path, &v->cd);
	if (r < 0)
		return r;
	if (p && p->data_offset_bytes > 0) {
		if (p->data_offset_bytes % 512 != 0)
			return -EINVAL;
		r = crypt_set_data_offset(v->cd, p->data_offset_bytes / 512);
		if (r < 0)
			return r;
	}
	if (p && p->pbkdf) {
		r = pbkdf_to_crypt(p->pbkdf, &pbkdf);
		if (r < 0)
			return r;
		params.pbkdf = &pbkdf;
		v->pbkdf = *p->pbkdf;
		v->have_pbkdf = true;
	}
	r = crypt_format(v->cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

int luks_open(const char *path, struct luks_volume **ret)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	int r;

	v = new0(struct luks_volume, 1);
	if (!v)
		return -ENOMEM;
	r = init_device(path, &v->cd);
	if (r < 0)
		return r;
	r = crypt_load(v->cd, CRYPT_LUKS2, NULL);
	if (r < 0)
		return r == -EINVAL ? -EBADMSG : r;
	*ret = TAKE_PTR(v);
	return 0;
}

int luks_open_detached(const char *header_path, const char *data_path, struct luks_volume **ret)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	int r;

	v = new0(struct luks_volume, 1);
	if (!v)
		return -ENOMEM;
	crypt_set_log_callback(NULL, log_cb, NULL);
	r = data_path ? crypt_init_data_device(&v->cd, header_path, data_path) :
			crypt_init(&v->cd, header_path);
	if (r < 0)
		return r;
	crypt_set_log_callback(v->cd, log_cb, NULL);
	r = crypt_load(v->cd, CRYPT_LUKS2, NULL);
	if (r < 0)
		return r == -EINVAL ? -EBADMSG : r;
	*ret = TAKE_PTR(v);
	return 0;
}

int luks_set_data_device(struct luks_volume *v, const char *data_path)
{
	return crypt_set_data_device(v->cd, data_path);
}

uint64_t luks_volume_data_offset(struct luks_volume *v)
{
	return crypt_get_data_offset(v->cd) * 512;
}

struct luks_volume *luks_volume_free(struct luks_volume *v)
{
	if (!v)
		return NULL;
	crypt_free(v->cd);
	free(v);
	return NULL;
}

const char *luks_volume_uuid(struct luks_volume *v)
{
	return crypt_get_uuid(v->cd);
}

int luks_keyslot_add(struct luks_volume *v, const void *unlock, size_t unlock_size,
		     const void *passphrase, size_t passphrase_size, const struct luks_pbkdf *pbkdf,
		     int *ret_keyslot)
{
	int r;

	if (!pbkdf && v->have_pbkdf)
		pbkdf = &v->pbkdf;
	if (pbkdf) {
		r = set_pbkdf(v, pbkdf);
		if (r < 0)
			return r;
	}
	if (unlock)
		r = crypt_keyslot_add_by_passphrase(v->cd, CRYPT_ANY_SLOT, unlock, unlock_size,
						    passphrase, passphrase_size);
	else
		r = crypt_keyslot_add_by_volume_key(v->cd, CRYPT_ANY_SLOT, NULL, 0, passphrase,
						    passphrase_size);
	if (r < 0)
		return r;
	if (ret_keyslot)
		*ret_keyslot = r;
	return 0;
}

int luks_keyslot_destroy(struct luks_volume *v, int keyslot)
{
	return crypt_keyslot_destroy(v->cd, keyslot);
}

int luks_keyslot_pbkdf(struct luks_volume *v, int keyslot, struct luks_pbkdf *ret)
{
	struct crypt_pbkdf_type pbkdf = {};
	crypt_keyslot_info info;
	int r;

	if (keyslot < 0 || keyslot >= crypt_keyslot_max(CRYPT_LUKS2))
		return -EINVAL;
	info = crypt_keyslot_status(v->cd, keyslot);
	if (info == CRYPT_SLOT_INVALID)
		return -EINVAL;
	if (info == CRYPT_SLOT_INACTIVE)
		return -ENOENT;
	r = crypt_keyslot_get_pbkdf(v->cd, keyslot, &pbkdf);
	if (r < 0)
		return r;
	*ret = (struct luks_pbkdf){
		.type = streq_ptr(pbkdf.type, CRYPT_KDF_PBKDF2) ? LUKS_PBKDF_PBKDF2 :
								  LUKS_PBKDF_ARGON2ID,
		.hash = streq_ptr(pbkdf.hash, "sha512") ? "sha512" :
			streq_ptr(pbkdf.hash, "sha256") ? "sha256" :
							  NULL,
		.iterations = pbkdf.iterations,
		.memory_kib = pbkdf.max_memory_kb,
		.parallel = pbkdf.parallel_threads,
	};
	return 0;
}

int luks_token_set(struct luks_volume *v, int token, const char *json, int *ret_token)
{
	int r;

	if (!json)
		return -EINVAL;
	r = crypt_token_json_set(v->cd, token < 0 ? CRYPT_ANY_TOKEN : token, json);
	if (r < 0)
		return r;
	if (ret_token)
		*ret_token = r;
	return 0;
}

int luks_token_get(struct luks_volume *v, int token, char **ret_json)
{
	const char *json = NULL;
	char *copy;
	int r;

	if (token < 0 || token >= LUKS2_TOKENS_MAX)
		return -EINVAL;
	if (crypt_token_status(v->cd, token, NULL) == CRYPT_TOKEN_INACTIVE)
		return -ENOENT;
	r = crypt_token_json_get(v->cd, token, &json);
	if (r < 0)
		return r;
	copy = strdup(json);
	if (!copy)
		return -ENOMEM;
	*ret_json = copy;
	return 0;
}

int luks_token_remove(struct luks_volume *v, int token)
{
	int r;

	if (token < 0 || token >= LUKS2_TOKENS_MAX)
		return -EINVAL;
	r = crypt_token_json_set(v->cd, token, NULL);
	return r < 0 ? r : 0;
}

int luks_token_find(struct luks_volume *v, const char *type, int start, int *ret_token)
{
	for (int i = MAX(start, 0); i < LUKS2_TOKENS_MAX; i++) {
		const char *t = NULL;
		crypt_token_info info = crypt_token_status(v->cd, i, &t);

		if (info == CRYPT_TOKEN_INVALID || info == CRYPT_TOKEN_INACTIVE)
			continue;
		if (t && streq(t, type)) {
			*ret_token = i;
			return 0;
		}
	}
	return -ENOENT;
}

int luks_activate(struct luks_volume *v, const char *name, int keyslot, const void *passphrase,
		  size_t passphrase_size)
{
	return crypt_activate_by_passphrase(v->cd, name, keyslot < 0 ? CRYPT_ANY_SLOT : keyslot,
					    passphrase, passphrase_size, 0);
}

int luks_activate_volume_key(struct luks_volume *v, const char *name)
{
	int r;

	if (!name)
		return -EINVAL;
	/* NULL: the volume key libcryptsetup kept from crypt_format(). */
	r = crypt_activate_by_volume_key(v->cd, name, NULL, 0, 0);
	return r < 0 ? r : 0;
}

int luks_deactivate(const char *name)
{
	struct crypt_device *cd = NULL;
	int r;

	crypt_set_log_callback(NULL, log_cb, NULL);
	r = crypt_init_by_name(&cd, name);
	if (r < 0)
		return r;
	r = crypt_deactivate(cd, name);
	crypt_free(cd);
	return r;
}

/* Writes [from, to) of the header area and makes it durable. */
static int write_range(int fd, const uint8_t *area, uint64_t base, uint64_t from, uint64_t to)
{
	int r;

	if (to <= from)
		return 0;
	r = pwrite_all(fd, area + from, to - from, base + from);
	if (r < 0)
		return r;
	return RET_NERRNO(fdatasync(fd));
}

/* One binary header at hdr: everything after its first sector, then the first sector. */
static int write_binary_header(int fd, const uint8_t *area, uint64_t base, uint64_t hdr,
			       uint32_t sector_size)
{
	int r = write_range(fd, area, base, hdr + sector_size, hdr + LUKS2_BINARY_HEADER_SIZE);
	if (r < 0)
		return r;
	return write_range(fd, area, base, hdr, hdr + sector_size);
}

int luks_header_install(const char *header_path, int fd, uint64_t offset_bytes,
			uint32_t sector_size, void (*step)(const char *stage, void *userdata),
			void *userdata)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_close_ int hfd = -EBADF;
	_cleanup_free_ uint8_t *area = NULL;
	uint64_t area_size, hdr_size;
	int r;

	if (fd < 0 || (sector_size != 512 && sector_size != 4096) || offset_bytes % sector_size)
		return -EINVAL;
	/* Only a header libcryptsetup itself accepts is ever written. */
	r = luks_open(header_path, &v);
	if (r < 0)
		return r;
	area_size = luks_volume_data_offset(v);
	if (area_size < 2 * LUKS2_BINARY_HEADER_SIZE || area_size > (UINT64_C(1) << 30))
		return -EBADMSG;

	hfd = open(header_path, O_RDONLY | O_CLOEXEC);
	if (hfd < 0)
		return -errno;
	area = malloc(area_size);
	if (!area)
		return -ENOMEM;
	r = loop_read_exact(hfd, area, area_size);
	if (r < 0)
		return r;

	memcpy(&hdr_size, area + LUKS2_HDR_SIZE_OFFSET, sizeof(hdr_size));
	hdr_size = be64toh(hdr_size);
	if (memcmp(area, LUKS2_MAGIC_PRIMARY, LUKS2_MAGIC_SIZE) != 0 ||
	    hdr_size < 2 * LUKS2_BINARY_HEADER_SIZE || hdr_size % LUKS2_BINARY_HEADER_SIZE != 0 ||
	    2 * hdr_size > area_size ||
	    memcmp(area + hdr_size, LUKS2_MAGIC_SECONDARY, LUKS2_MAGIC_SIZE) != 0)
		return -EBADMSG;

	/* 1. JSON areas and keyslots: nothing on the device is a header yet. */
	r = write_range(fd, area, offset_bytes, LUKS2_BINARY_HEADER_SIZE, hdr_size);
	if (r >= 0)
		r = write_range(fd, area, offset_bytes, hdr_size + LUKS2_BINARY_HEADER_SIZE,
				area_size);
	if (r < 0)
		return r;
	if (step)
		step("body", userdata);
	/* 2. The secondary binary header: from now on the volume is complete. */
	r = write_binary_header(fd, area, offset_bytes, hdr_size, sector_size);
	if (r < 0)
		return r;
	if (step)
		step("secondary", userdata);
	/* 3. The primary binary header. */
	r = write_binary_header(fd, area, offset_bytes, 0, sector_size);
	if (r < 0)
		return r;
	if (step)
		step("primary", userdata);
	return 0;
}
