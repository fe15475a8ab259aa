/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <libcryptsetup.h>

#include "core/log.h"
#include "ext/crypto.h"
#include "ext/verity.h"

static void crypt_freep(struct crypt_device **cd)
{
	if (*cd)
		crypt_free(*cd);
}
#define _cleanup_crypt_ _cleanup_(crypt_freep)

static void quiet_log(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	log_debug("libcryptsetup[%d]: %s", level, msg);
}

int verity_format(const char *data_path, const char *hash_path, const struct verity_params *p,
		  uint8_t ret_root_hash[VERITY_ROOT_HASH_SIZE])
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct crypt_params_verity params = {
		.hash_name = "sha256",
		.data_device = data_path,
		.salt = (const char *)p->salt,
		.salt_size = VERITY_SALT_SIZE,
		.hash_type = 1,
		.data_block_size = p->data_block_size,
		.hash_block_size = p->hash_block_size,
		.data_size = p->data_blocks,
		.hash_area_offset = 0,
		.flags = CRYPT_VERITY_CREATE_HASH,
	};
	uint8_t root[VERITY_ROOT_HASH_SIZE];
	size_t root_size = sizeof(root);
	int r;

	/* libcryptsetup writes into an existing hash file; start from an empty one. */
	fd = open(hash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	fd = safe_close(fd);

	crypt_set_log_callback(NULL, quiet_log, NULL);
	r = crypt_init(&cd, hash_path);
	if (r < 0)
		return r;
	crypt_set_log_callback(cd, quiet_log, NULL);
	r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, p->uuid[0] ? p->uuid : NULL, NULL, 0,
			 &params);
	if (r < 0)
		return r;
	r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)root, &root_size, NULL, 0);
	if (r < 0)
		return r;
	if (root_size != VERITY_ROOT_HASH_SIZE)
		return -EINVAL;
	memcpy(ret_root_hash, root, VERITY_ROOT_HASH_SIZE);
	return 0;
}

static int load(const char *data_path, const char *hash_path, uint32_t flags,
		struct crypt_device **ret)
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	struct crypt_params_verity params = { .flags = flags };
	int r;

	crypt_set_log_callback(NULL, quiet_log, NULL);
	r = data_path ? crypt_init_data_device(&cd, hash_path, data_path) :
			crypt_init(&cd, hash_path);
	if (r < 0)
		return r;
	crypt_set_log_callback(cd, quiet_log, NULL);
	r = crypt_load(cd, CRYPT_VERITY, &params);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(cd);
	return 0;
}

int verity_read_params(const char *hash_path, struct verity_params *ret)
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	struct crypt_params_verity v = {};
	struct verity_params p = {};
	const char *uuid;
	int r = load(NULL, hash_path, 0, &cd);

	if (r < 0)
		return r;
	r = crypt_get_verity_info(cd, &v);
	if (r < 0)
		return r;
	if (v.salt_size != VERITY_SALT_SIZE || v.hash_type != 1 || !v.hash_name ||
	    strcmp(v.hash_name, "sha256") != 0)
		return -EPROTONOSUPPORT;
	p.data_block_size = v.data_block_size;
	p.hash_block_size = v.hash_block_size;
	p.data_blocks = v.data_size;
	memcpy(p.salt, v.salt, VERITY_SALT_SIZE);
	uuid = crypt_get_uuid(cd);
	if (uuid && strlen(uuid) < sizeof(p.uuid))
		memcpy(p.uuid, uuid, strlen(uuid) + 1);
	*ret = p;
	return 0;
}

int verity_verify(const char *data_path, const char *hash_path,
		  const uint8_t root_hash[VERITY_ROOT_HASH_SIZE])
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	/* CRYPT_VERITY_CHECK_HASH is a flag of the loaded parameters, not of activation. */
	int r = load(data_path, hash_path, CRYPT_VERITY_CHECK_HASH, &cd);

	if (r < 0)
		return r;
	/* No name: every block is checked, nothing is activated. */
	r = crypt_activate_by_volume_key(cd, NULL, (const char *)root_hash, VERITY_ROOT_HASH_SIZE,
					 0);
	/* libcryptsetup reports a mismatch as -EPERM or -EFAULT */
	return r == -EPERM || r == -EFAULT ? -EPERM : r;
}

int verity_activate(const char *name, const char *data_dev, const char *hash_dev,
		    const uint8_t root_hash[VERITY_ROOT_HASH_SIZE])
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	int r = load(data_dev, hash_dev, 0, &cd);

	if (r < 0)
		return r;
	r = crypt_activate_by_volume_key(cd, name, (const char *)root_hash, VERITY_ROOT_HASH_SIZE,
					 CRYPT_ACTIVATE_READONLY);
	return r;
}

/* ---- root hash against the top of the hash tree (airlock-init) ---- */

int verity_check_root_hash(const char *hash_dev, const uint8_t root_hash[VERITY_ROOT_HASH_SIZE])
{
	_cleanup_free_ uint8_t *block = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct verity_params p;
	struct sha256_ctx c = {};
	uint8_t digest[SHA256_DIGEST_SIZE];
	ssize_t n;
	int r;

	r = verity_read_params(hash_dev, &p);
	if (r < 0)
		return r;
	if (p.hash_block_size < 512 || p.hash_block_size > 65536 ||
	    (p.hash_block_size & (p.hash_block_size - 1)) != 0)
		return -EPROTONOSUPPORT;
	block = malloc(p.hash_block_size);
	if (!block)
		return -ENOMEM;
	fd = open(hash_dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* The 512-byte superblock, rounded up to a hash block; the top level comes first. */
	n = pread(fd, block, p.hash_block_size, p.hash_block_size);
	if (n < 0)
		return -errno;
	if ((size_t)n != p.hash_block_size)
		return -EIO;
	r = sha256_init(&c);
	if (r >= 0)
		r = sha256_update(&c, p.salt, VERITY_SALT_SIZE);
	if (r >= 0)
		r = sha256_update(&c, block, p.hash_block_size);
	if (r >= 0)
		r = sha256_final(&c, digest);
	sha256_done(&c);
	if (r < 0)
		return r;
	return memcmp(digest, root_hash, VERITY_ROOT_HASH_SIZE) == 0 ? 0 : -EPERM;
}
